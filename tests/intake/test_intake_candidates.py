"""Name-based candidates: standard names first (all versions), then variants by pattern."""

from __future__ import annotations

from grader.intake import CodeUnit, find_candidates


def _fn(name: str, order: int, required: int = 0, kind: str = "function") -> CodeUnit:
    return CodeUnit(source=f"def {name}(): pass", origin=f"nb.ipynb cell {order}", kind=kind,  # type: ignore[arg-type]
                    names=[name], name=name, order=order, required_params=required)


def test_generator_candidates_ordered_by_confidence_then_file_order() -> None:
    units = [
        _fn("build_generator", 0), _fn("make_generator_model", 1), _fn("my_generator", 2),
        _fn("make_generator_model_v2", 3), _fn("make_generator_model", 4),
        _fn("generator_block", 5, required=2),  # needs arguments: a layer helper, not a builder
        _fn("Generator", 6, kind="class"), _fn("build_dcgan", 7), _fn("generator_loss", 8, required=1),
    ]
    got = [(c.name, c.confidence, c.order) for c in find_candidates(units, "generator")]
    assert got == [("make_generator_model", 1.0, 1), ("make_generator_model", 1.0, 4),
                   ("make_generator_model_v2", 0.8, 3), ("build_generator", 0.6, 0),
                   ("Generator", 0.5, 6), ("my_generator", 0.4, 2), ("build_dcgan", 0.2, 7)]


def test_loss_accuracy_and_step_variants() -> None:
    units = [_fn("gen_loss", 0, 1), _fn("discriminator_loss", 1, 2), _fn("d_loss_fn", 2, 2),
             _fn("disc_accuracy", 3, 2), _fn("train_step_improved", 4, 1), _fn("train_step", 5, 1)]
    by_role = {}
    for c in find_candidates(units):
        by_role.setdefault(c.role, []).append((c.name, c.confidence))
    assert by_role["generator_loss"] == [("gen_loss", 0.6)]
    assert by_role["discriminator_loss"] == [("discriminator_loss", 1.0), ("d_loss_fn", 0.6)]
    assert by_role["discriminator_accuracy"] == [("disc_accuracy", 0.6)]
    assert by_role["train_step"] == [("train_step", 1.0), ("train_step_improved", 0.8)]
    assert "generator" not in by_role


def test_model_build_assignment_names_the_role() -> None:
    build = CodeUnit(source="D = build_critic_net()", origin="nb.ipynb cell 3", kind="model_build",
                     names=["D"], order=1, calls="netD")
    units = [_fn("netD", 0), build]
    (cand,) = find_candidates(units, "discriminator")
    assert (cand.name, cand.confidence, cand.order) == ("netD", 0.7, 0)
    assert find_candidates(units, "generator") == []
