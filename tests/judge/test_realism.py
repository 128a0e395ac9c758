"""Tests of the per-tile recognizability score (grader.judge.realism) on a fake judge."""

from __future__ import annotations

import numpy as np
import pytest

from grader.assignment import get_assignment
from grader.judge.calibration import ClassStats, JudgeAssetError
from grader.judge.realism import (
    COMPONENTS,
    RealismModel,
    knn_radii,
    load_realism,
    prune_spheres,
    realism_score,
    save_realism,
    scores_from_components,
    shifted_views,
    tile_scores,
)


class FeatureJudge:
    """A fake judge: probabilities from the first 10 pixels, features = next ``dim`` pixels."""

    def __init__(self, dim: int = 6) -> None:
        self.dim = dim
        self.class_stats = ClassStats(means=np.zeros((10, dim)), precision=np.eye(dim))

    def predict(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        flat = np.asarray(images, np.float64).reshape(len(images), -1)
        z = flat[:, :10] / 20.0
        p = np.exp(z - z.max(1, keepdims=True))
        return p / p.sum(1, keepdims=True), flat[:, 10:10 + self.dim]


def toy_model(dim: int = 6, threshold: float = 0.5) -> RealismModel:
    """A hand-made asset: the score rises with the top-1 logit only."""
    rng = np.random.default_rng(0)
    feats = rng.uniform(0, 255, (40, dim)).astype(np.float32)
    c = len(COMPONENTS)
    coef = np.zeros(c)
    coef[COMPONENTS.index("logit_top1")] = 2.0
    return RealismModel(real_features=feats, real_radii=knn_radii(feats, 3), k=3,
                        components=COMPONENTS, mean=np.zeros(c), scale=np.ones(c),
                        coef_clear=coef, intercept_clear=-2.0, coef_named=coef,
                        intercept_named=1.0, threshold_clear=threshold,
                        threshold_named=threshold)


def random_tiles(n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, 32, 32, 3), dtype=np.uint8)


def test_realism_score_matches_the_formula() -> None:
    rng = np.random.default_rng(3)
    real, fake = rng.normal(size=(30, 5)), rng.normal(size=(7, 5))
    radii = np.array([np.sort(np.linalg.norm(real - r, axis=1))[3] for r in real])  # 0 is self
    assert np.allclose(knn_radii(real, 3), radii, rtol=1e-5)
    want = [max(radii[i] / np.linalg.norm(f - real[i]) for i in range(30)) for f in fake]
    assert np.allclose(realism_score(fake, real, radii), want, rtol=1e-4)
    kept, kept_r = prune_spheres(real, radii)
    assert len(kept) == 15 and kept_r.max() <= np.median(radii)


def test_shifted_views_move_content() -> None:
    img = np.zeros((1, 32, 32, 3), np.uint8)
    img[0, 10, 10] = 255
    views = shifted_views(img)
    assert views.shape == (7, 1, 32, 32, 3) and views.dtype == np.uint8
    assert views[0, 0, 12, 10, 0] == 255  # (dy, dx) = (2, 0)
    assert views[-1, 0, 10, 10, 0] == round(255 / 4)  # blur: centre weight 4/16


def test_scores_on_a_fake_judge() -> None:
    judge, model = FeatureJudge(), toy_model()
    tiles = random_tiles(12)
    s = tile_scores(judge, tiles, model)
    assert s.p_clear.shape == s.p_named.shape == (12,)
    assert np.all(s.p_named >= s.p_clear)
    probs, feats = judge.predict(tiles)
    assert np.array_equal(s.predicted_class, probs.argmax(1))
    top = probs.max(1)
    assert np.allclose(s.components["logit_top1"], np.log(top / (1 - top)))
    assert np.allclose(s.components["feature_norm"], np.linalg.norm(feats, axis=1))
    assert np.allclose(s.components["log_mahalanobis"], np.log((feats ** 2).sum(1)))
    want = 1 / (1 + np.exp(-(2 * s.components["logit_top1"] - 2)))
    assert np.allclose(s.p_clear, want)
    assert np.array_equal(s.clear, s.p_clear >= 0.5)


def test_thresholds_behave() -> None:
    judge, tiles = FeatureJudge(), random_tiles(20)
    low, high = (tile_scores(judge, tiles, toy_model(threshold=t)) for t in (0.1, 0.9))
    assert np.all(low.clear >= high.clear) and np.all(low.named >= high.named)
    assert tile_scores(judge, tiles, toy_model(threshold=1.1)).clear.sum() == 0


def test_per_tile_scores_do_not_depend_on_the_batch() -> None:
    judge, model, tiles = FeatureJudge(), toy_model(), random_tiles(9)
    whole = tile_scores(judge, tiles, model)
    parts = [tile_scores(judge, tiles[i:i + 4], model) for i in range(0, 9, 4)]
    assert np.allclose(whole.p_clear, np.concatenate([p.p_clear for p in parts]))


def test_input_contract() -> None:
    with pytest.raises(ValueError, match="uint8"):
        tile_scores(FeatureJudge(), np.zeros((2, 32, 32, 3), np.float32), toy_model())
    assert tile_scores(FeatureJudge(), np.zeros((0, 32, 32, 3), np.uint8), toy_model()).clear.size == 0


def test_asset_round_trip_and_bad_files(tmp_path) -> None:
    model = toy_model()
    save_realism(model, tmp_path / "r.npz")
    back = load_realism(tmp_path / "r.npz")
    comps = {c: np.linspace(-1, 1, 5) for c in COMPONENTS}
    assert np.allclose(scores_from_components(comps, back)[0],
                       scores_from_components(comps, model)[0])
    (tmp_path / "bad.npz").write_bytes(b"not an npz")
    with pytest.raises(JudgeAssetError):
        load_realism(tmp_path / "bad.npz")
    with pytest.raises(JudgeAssetError):
        load_realism(tmp_path / "missing.npz")


def test_shipped_asset_loads() -> None:
    path = get_assignment().judge.realism
    model = load_realism(path)
    assert path.stat().st_size <= 3 * 2**20
    assert model.real_features.shape[1] == 128 and len(model.real_features) >= 2000
    assert 0 < model.threshold_clear < 1 and 0 < model.threshold_named < 1
