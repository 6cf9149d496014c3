"""How the shortfall penalty trades cost for safety on the three dev sets: one row per penalty, per dataset.

Usage: python bench/autoscale/penalty.py DATA_DIR OUT.md [PENALTY ...] (DATA_DIR as written by prepare.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

from services.autoscaling.settings import ScalingSettings
from services.benchmarks.autoscale_eval import OURS, REACTIVE, SEASONAL, evaluate, load_traces, summary_table

DATASETS = ("nab_aws", "nab_known_cause_hourly", "nab_tweets")


def main(data: Path, out: Path, penalties: list[float]) -> None:
    traces = {name: load_traces(data / name)[0] for name in DATASETS}
    lines = ["| shortfall penalty | " + " | ".join(DATASETS) + " |", "|---" * (len(DATASETS) + 1) + "|"]
    baselines = {}
    for penalty in penalties:
        cells = []
        for name, series in traces.items():
            table = summary_table(evaluate(series, name=name, settings=ScalingSettings(shortfall_penalty=penalty)))
            cost, under = table.loc[OURS, "cost / oracle"], table.loc[OURS, "under-provisioned share"]
            fast, safe = table.loc[REACTIVE], table.loc[SEASONAL]
            baselines[name] = (fast["cost / oracle"], safe["under-provisioned share"])
            met = cost <= fast["cost / oracle"] and under <= safe["under-provisioned share"]
            cells.append(f"{cost:.3f} / {under:.2%}{' (both met)' if met else ''}")
            print(f"penalty {penalty:g} {name}: {cells[-1]}", file=sys.stderr, flush=True)
        lines.append(f"| {penalty:g} | " + " | ".join(cells) + " |")
    lines.append("| bar to meet: reactive's cost / seasonal's share | "
                 + " | ".join(f"{c:.3f} / {u:.2%}" for c, u in baselines.values()) + " |")
    command = "python bench/autoscale/penalty.py " + " ".join(sys.argv[1:])
    out.write_text(f"Headroom's cost / oracle and under-provisioned share by shortfall penalty. Made by `{command}`."
                   "\n\n" + "\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), [float(p) for p in sys.argv[3:]] or [10.0, 12.0, 15.0, 20.0, 30.0])
