"""Phase ``check``: find and build the models, then run every check (inside the child)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from grader.sandbox import checks_losses, checks_models, checks_training
from grader.sandbox.checks_models import result, skip
from grader.sandbox.discover import Built, discover

if TYPE_CHECKING:
    from grader.sandbox.child import Child

FASHION = checks_models.FASHION


def select(built: list[Built]) -> tuple[Built | None, Built | None]:
    """(baseline, final): the first and the last candidate that built a working model."""
    ok = [b for b in built if b.ok]
    return (ok[0], ok[-1]) if ok else (None, None)


def code_cells_check(child: Child) -> dict[str, Any]:
    """``code_cells``: cells that failed at intake or when run; fail only if nothing is usable."""
    intake = list(child.plan.get("intake_failures", []))
    runs = child.code.failures()
    failed = [{"origin": str(f.get("origin", "")), "error": str(f.get("message", ""))}
              for f in intake if isinstance(f, dict)]
    failed += [{"origin": r.origin, "error": f"{r.error_type}: {r.message}"} for r in runs]
    total = len(child.code.runs)
    details = {"failed": failed[:50], "units": total, "failed_count": len(failed),
               "error_detail": next((r.detail for r in runs if r.detail), "")}
    if total == 0:
        why = f" ({failed[0]['origin']}: {failed[0]['error']})" if failed else ""
        return result("code_cells", "fail", f"No code could be run from the submission{why}.",
                      f"제출물에서 실행할 수 있는 코드를 찾지 못했습니다{why}.", **details)
    if not failed:
        return result("code_cells", "pass", f"All {total} code units ran without errors.",
                      f"코드 {total}개가 모두 오류 없이 실행되었습니다.", **details)
    first = failed[0]
    usable = bool(child.code.versions)
    status = "warn" if usable else "fail"
    tail_en = "; the rest was used." if usable else "; nothing usable remains."
    tail_ko = " 나머지는 그대로 사용했습니다." if usable else " 사용할 수 있는 코드가 남지 않았습니다."
    return result("code_cells", status,
                  f"{len(failed)} code cell(s) failed, first in {first['origin']}: "
                  f"{first['error']}{tail_en}",
                  f"코드 셀 {len(failed)}개에서 오류가 났습니다. 처음 오류: {first['origin']}: "
                  f"{first['error']}.{tail_ko}", **details)


def fashion_check(g: Built | None, d: Built | None) -> dict[str, Any]:
    """``fashion_mnist_leftover``: a 28x28x1 generator output or discriminator input."""
    g_out = tuple(g.output_shape[1:]) if g and g.output_shape else None
    d_in = tuple(d.input_shape[1:]) if d and d.input_shape else None
    if g_out is None and d_in is None:
        return skip("fashion_mnist_leftover", "Skipped: no model was built.",
                    "만들어진 모델이 없어 건너뜁니다.")
    parts = [p for p, bad in (("generator output", g_out == FASHION),
                              ("discriminator input", d_in == FASHION)) if bad]
    details = {"generator_output": g_out and list(g_out),
               "discriminator_input": d_in and list(d_in)}
    if parts:
        parts_ko = ["생성자 출력" if p.startswith("gen") else "판별자 입력" for p in parts]
        return result("fashion_mnist_leftover", "fail",
                      f"The {' and '.join(parts)} {'are' if len(parts) > 1 else 'is'} 28x28x1: the Fashion-MNIST model from the "
                      "lesson was not adapted to CIFAR-10's 32x32x3 colour images.",
                      f"{', '.join(parts_ko)} 이(가) 28x28x1 입니다. 수업의 Fashion-MNIST 모델이 "
                      "CIFAR-10 의 32x32x3 컬러 이미지에 맞게 바뀌지 않았습니다.", **details)
    return result("fashion_mnist_leftover", "pass", "The models are sized for 32x32x3 images.",
                  "모델이 32x32x3 이미지에 맞게 만들어졌습니다.", **details)


def run_check(child: Child, spec: dict[str, Any]) -> None:
    """Run all checks, appending each to ``child.result['checks']`` as soon as it is known."""
    from grader.sandbox.child import configure_tensorflow

    checks: list[dict[str, Any]] = child.result["checks"]

    def add(*items: dict[str, Any]) -> None:
        checks.extend(items)
        child.save()

    add(code_cells_check(child))
    configure_tensorflow(int(child.plan.get("threads", 2)), child.seed)
    s, seed = child.call_s, child.seed
    real = child.real_images(int(spec.get("batch", 16)))
    gens = discover(child.code, "generator", s)
    g_base, g = select(gens)
    add(checks_models.builds_check("generator", g, gens))
    discs = discover(child.code, "discriminator", s)
    d_base, d = select(discs)
    add(checks_models.builds_check("discriminator", d, discs))
    child.result["selection"] = {
        "generator": {"baseline": g_base and g_base.summary(), "final": g and g.summary()},
        "discriminator": {"baseline": d_base and d_base.summary(), "final": d and d.summary()},
    }
    add(fashion_check(g, d))
    if g is not None:
        add(*checks_models.generator_checks(g, s, seed))
    else:
        add(*[skip(i, "Skipped: no generator was built.", "생성자가 없어 건너뜁니다.")
              for i in ("noise_dim", "generator_output_shape", "generator_output_range",
                        "generator_uses_noise")])
    d_kind = "logits"
    if d is not None:
        d_checks = checks_models.discriminator_checks(d, g, real, s, seed)
        add(*d_checks)
        act = next((c for c in d_checks if c["id"] == "discriminator_final_activation"), None)
        if act and act["status"] != "skip":
            d_kind = act["details"].get("kind", "logits")
    else:
        add(*[skip(i, "Skipped: no discriminator was built.", "판별자가 없어 건너뜁니다.")
              for i in ("discriminator_output_shape", "discriminator_final_activation")])
    add(checks_losses.loss_check(child.code.ns, d_kind, s, seed))
    add(checks_losses.accuracy_check(child.code.ns, d_kind, s))
    shapes_ok = all(c["status"] == "pass" for c in checks
                    if c["id"] in ("generator_output_shape", "discriminator_output_shape"))
    if g is not None and d is not None and shapes_ok:
        add(checks_training.parameter_counts_check(g, d))
        child.result["models"] = checks_training.save_models(g, d, child.work)
        add(checks_training.trainable_step_check(g, d, child.code.ns, real, s, seed))
    else:
        add(checks_training.parameter_counts_check(g, d))
        add(skip("trainable_step", "Skipped: the models do not fit together (see the shape "
                 "checks).", "모델 모양이 맞지 않아 건너뜁니다 (모양 검사 참고)."))
        child.result["models"] = {"trusted_models": False}
