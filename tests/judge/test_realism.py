"""Tests of the per-tile recognizability score (grader.judge.realism) on a fake judge."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from grader.assignment import get_assignment
from grader.judge.calibration import ClassStats, JudgeAssetError
from grader.judge.realism import (
    COMPONENTS,
    RealismModel,
    knn_radii,
    load_realism,
    pca_names,
    prune_spheres,
    realism_score,
    save_realism,
    scores_from_components,
    shifted_views,
    tile_flags,
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
    # no model given: the judge's own asset, or a clear error when it has none
    judge, tiles = FeatureJudge(), random_tiles(3)
    judge.realism = toy_model()
    assert np.allclose(tile_scores(judge, tiles).p_clear, tile_scores(judge, tiles, toy_model()).p_clear)
    with pytest.raises(JudgeAssetError, match="not installed"):
        tile_scores(FeatureJudge(), tiles)


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


def pca_model(dim: int = 6, k: int = 3, hint: float | None = 0.3) -> RealismModel:
    """The toy asset plus k principal components of the fake features (the score uses pc01)."""
    base = toy_model(dim)
    rng = np.random.default_rng(5)
    axes, _ = np.linalg.qr(rng.normal(size=(dim, k)))
    names = (*COMPONENTS, *pca_names(k))
    c = len(names)
    coef = np.zeros(c)
    coef[names.index("logit_top1")] = 2.0
    coef[names.index("pc01")] = 0.01
    return dataclasses.replace(base, components=names, mean=np.zeros(c), scale=np.ones(c),
                               coef_clear=coef, coef_named=coef,
                               pca_mean=np.full(dim, 100.0), pca_axes=axes,
                               threshold_hint=hint)


def test_pca_components_are_projections_of_the_features() -> None:
    judge, model = FeatureJudge(), pca_model()
    tiles = random_tiles(10)
    s = tile_scores(judge, tiles, model)
    _, feats = judge.predict(tiles)
    proj = (feats - model.pca_mean) @ model.pca_axes
    for j, name in enumerate(pca_names(3)):
        assert np.allclose(s.components[name], proj[:, j])
    z = 2 * s.components["logit_top1"] + 0.01 * proj[:, 0]
    assert np.allclose(s.p_clear, 1 / (1 + np.exp(-(z - 2))))
    assert np.array_equal(s.hinted, s.p_named >= 0.3)
    assert np.all(s.hinted[s.named])  # hint threshold 0.3 below the named threshold 0.5
    empty = tile_scores(judge, np.zeros((0, 32, 32, 3), np.uint8), model)
    assert set(pca_names(3)) <= set(empty.components) and empty.hinted.size == 0


def test_pca_asset_round_trip(tmp_path) -> None:
    model = pca_model()
    save_realism(model, tmp_path / "r.npz")
    back = load_realism(tmp_path / "r.npz")
    assert back.components == model.components and back.n_pca == 3
    assert back.threshold_hint == pytest.approx(0.3) and back.hint_threshold == pytest.approx(0.3)
    assert np.allclose(back.pca_axes, model.pca_axes, atol=1e-6)
    judge, tiles = FeatureJudge(), random_tiles(8)
    a, b = tile_scores(judge, tiles, model), tile_scores(judge, tiles, back)
    assert np.allclose(a.p_clear, b.p_clear, atol=1e-5)
    assert np.allclose(a.components["pc02"], b.components["pc02"], atol=1e-3)


def test_asset_without_pca_or_hint_still_loads(tmp_path) -> None:
    save_realism(toy_model(), tmp_path / "old.npz")
    with np.load(tmp_path / "old.npz") as z:
        assert "pca_axes" not in z.files and "threshold_hint" not in z.files
    back = load_realism(tmp_path / "old.npz")
    assert back.n_pca == 0 and back.threshold_hint is None
    assert back.hint_threshold == back.threshold_named
    s = tile_scores(FeatureJudge(), random_tiles(6), back)
    assert np.array_equal(s.hinted, s.named)


def _rewrite(src, dst, **changes) -> None:
    with np.load(src, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays.update(changes)
    for k in [k for k, v in changes.items() if v is None]:
        del arrays[k]
    np.savez(dst, **arrays)


@pytest.mark.parametrize("changes,words", [
    ({"pca_axes": None}, "come together"),  # mean without axes
    ({"pca_axes": np.zeros((5, 3))}, "pca_axes"),  # D does not match the features
    ({"pca_mean": np.zeros(7)}, "pca_mean"),
    ({"pca_axes": None, "pca_mean": None}, "pcNN need"),  # pcNN named, no projection
    ({"pca_axes": np.zeros((6, 2))}, "unknown components"),  # pc03 beyond K
    ({"scale": np.zeros(8)}, "scale"),
    ({"threshold_hint": np.float64(np.nan)}, "threshold_hint"),
])
def test_malformed_pca_asset_is_a_judge_asset_error(tmp_path, changes, words) -> None:
    save_realism(pca_model(), tmp_path / "good.npz")
    _rewrite(tmp_path / "good.npz", tmp_path / "bad.npz", **changes)
    with pytest.raises(JudgeAssetError) as err:
        load_realism(tmp_path / "bad.npz")
    assert words in str(err.value) + str(getattr(err.value, "detail", "")) + repr(err.value)


def test_shipped_asset_pca_is_small_and_consistent() -> None:
    model = load_realism(get_assignment().judge.realism)
    if model.n_pca:
        assert model.pca_axes.shape == (model.real_features.shape[1], model.n_pca)
        assert set(pca_names(model.n_pca)) <= set(model.components)
        assert model.pca_axes.nbytes / 2 <= 64 * 2**10  # float32 on disk: tens of KB at most
    assert 0 < model.hint_threshold <= model.threshold_named


def test_flags_nest_like_the_labels() -> None:
    model = dataclasses.replace(toy_model(), threshold_clear=0.4, threshold_named=0.7,
                                threshold_hint=0.5)
    pc = np.array([0.45, 0.1, 0.1, 0.1])
    pn = np.array([0.6, 0.8, 0.55, 0.2])
    clear, named, hinted = tile_flags(pc, pn, model)
    assert clear.tolist() == [True, False, False, False]
    assert named.tolist() == [True, True, False, False]  # a clear tile is always named
    assert hinted.tolist() == [True, True, True, False]
