"""Agreement of grader results with the corpus truth, per rubric item, with confusion tables.

Reads ``CORPUS_DIR/truth.json`` and ``RESULTS_DIR/<notebook>/result.json`` (the grader's
``items: [{id, status, ...}]`` with ids ``recognizable``, ``training_progress``,
``improvement``). A grader status of ``inconclusive`` or ``needs_review`` counts as
disagreement and is also counted separately; a missing result or item counts as ``missing``.
Provisional truths are reported both included and excluded.

Usage::

    python -m reference.corpus.agreement runs/corpus runs/corpus_results [--json]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from reference.corpus.truth import ITEMS, LEVELS

UNSURE = ("inconclusive", "needs_review")
COLUMNS = (*LEVELS, *UNSURE, "missing")


def read_results(results: Path, name: str) -> dict[str, str]:
    """Item id -> grader status for one notebook (empty if it has no result)."""
    path = results / name / "result.json"
    if not path.is_file():
        return {}
    data = json.loads(path.read_text())
    return {str(item.get("id")): str(item.get("status", "missing"))
            for item in data.get("items", [])}


def agreement(corpus: Path, results: Path, include_provisional: bool = True) -> dict:
    """Per item: counts of agreement, unsure answers, and the truth x grader confusion table."""
    truth = json.loads((corpus / "truth.json").read_text())
    report = {}
    for item in ITEMS:
        table: dict[str, Counter] = {t: Counter() for t in LEVELS}
        agree = total = unsure = missing = 0
        disagreements = []
        for nb in truth["notebooks"]:
            t = nb["items"][item]
            if t["provisional"] and not include_provisional:
                continue
            got = read_results(results, nb["name"]).get(item, "missing")
            table[t["status"]][got] += 1
            total += 1
            agree += got == t["status"]
            unsure += got in UNSURE
            missing += got == "missing"
            if got != t["status"]:
                disagreements.append(f"{nb['name']}: truth {t['status']}, grader {got}")
        report[item] = {"n": total, "agree": agree, "unsure": unsure, "missing": missing,
                        "rate": agree / total if total else None,
                        "confusion": {k: dict(v) for k, v in table.items()},
                        "disagreements": disagreements}
    return report


def format_report(report: dict, title: str) -> str:
    """Plain-text tables: agreement per item, then truth (rows) x grader (columns)."""
    lines = [title]
    for item, r in report.items():
        rate = "n/a" if r["rate"] is None else f"{r['rate']:.0%}"
        lines.append(f"\n{item}: {r['agree']}/{r['n']} agree ({rate}); "
                     f"{r['unsure']} inconclusive/needs_review, {r['missing']} missing")
        lines.append("  truth \\ grader " + "".join(f"{c:>14}" for c in COLUMNS))
        for t in LEVELS:
            row = r["confusion"][t]
            lines.append(f"  {t:<15}" + "".join(f"{row.get(c, 0):>14}" for c in COLUMNS))
        lines += [f"    - {d}" for d in r["disagreements"]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line: print agreement (all truths, then non-provisional ones)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("results", type=Path)
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    args = parser.parse_args(argv)
    if not (args.corpus / "truth.json").is_file():
        parser.error(f"no truth.json in '{args.corpus}'; build it with "
                     "python -m reference.corpus.make_corpus --out DIR")
    full = agreement(args.corpus, args.results)
    firm = agreement(args.corpus, args.results, include_provisional=False)
    if args.json:
        print(json.dumps({"all": full, "non_provisional": firm}, indent=1))
    else:
        print(format_report(full, "== all notebooks =="))
        print()
        print(format_report(firm, "== non-provisional truth only =="))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
