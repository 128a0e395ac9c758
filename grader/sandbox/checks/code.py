"""``code_cells``: which code cells failed, at intake or when they ran."""

from __future__ import annotations

from typing import Any

from grader.sandbox.checks.registry import CheckContext, register_check, result
from grader.text import msg


def code_cells(ctx: CheckContext) -> dict[str, Any]:
    """Cells that failed at intake or when run; fail only if nothing usable is left.

    Uses ``ctx.extra``: ``intake_failures`` (dicts with ``origin``, ``message``), ``runs``
    (every unit run) and ``usable`` (whether any definition survived).
    """
    intake = list(ctx.extra.get("intake_failures", []))
    runs = list(ctx.extra.get("runs", []))
    broken = [r for r in runs if not r.ok]
    failed = [{"origin": str(f.get("origin", "")), "error": str(f.get("message", ""))}
              for f in intake if isinstance(f, dict)]
    failed += [{"origin": r.origin, "error": f"{r.error_type}: {r.message}"} for r in broken]
    total = len(runs)
    details = {"failed": failed[:50], "units": total, "failed_count": len(failed),
               "error_detail": next((r.detail for r in broken if r.detail), "")}
    if total == 0:
        why = f" ({failed[0]['origin']}: {failed[0]['error']})" if failed else ""
        return result("code_cells", "fail", msg("checks.code_none", why=why), **details)
    if not failed:
        return result("code_cells", "pass", msg("checks.code_all_ran", total=total), **details)
    first = failed[0]
    usable = bool(ctx.extra.get("usable"))
    tail = msg("checks.code_rest_used" if usable else "checks.code_nothing_left")
    return result("code_cells", "warn" if usable else "fail",
                  msg("checks.code_some_failed", count=len(failed), origin=first["origin"],
                      error=first["error"], tail=tail), **details)


register_check("code_cells", code_cells)
