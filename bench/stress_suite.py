"""The adversarial suite (ml_engine.stress) through the product's full forecaster: per generated case, whether it
stays in its domain without blowing up, which guard acted, and its MASE ratio to seasonal naive on the case's future.

Run: nice -n 10 .venv/bin/python bench/stress_suite.py [--out bench/results/stress_suite.md]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ml_engine import make_forecaster
from ml_engine.stress import CASES, judge


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("bench/results/stress_suite.md"))
    args = parser.parse_args()
    lines = [
        "## Adversarial suite (bench/stress_suite.py, the ensemble as `headroom` runs it, without global network)",
        "",
        "| case | passed | MASE / seasonal naive | guard acted | problems |",
        "|---|---|---:|---|---|",
    ]
    failed = 0
    for name, make in CASES.items():
        case = make()
        forecast = make_forecaster("ensemble", case.season_length).fit(case.history).predict(len(case.actual))
        verdict = judge(case, forecast)
        failed += not verdict.passed
        acted = "; ".join(verdict.acted) or "none"
        lines.append(
            f"| {name} | {'yes' if verdict.passed else 'NO'} | {verdict.mase_ratio:.2f} | {acted} | "
            f"{'; '.join(verdict.problems) or ''} |"
        )
        print(lines[-1], flush=True)
    lines.append("")
    lines.append(f"{len(CASES) - failed} of {len(CASES)} cases pass the domain and no-blow-up checks.")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(lines[-1])
    if failed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
