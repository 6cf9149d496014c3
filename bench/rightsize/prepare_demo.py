"""Write the demo fleet as a right-sizing dataset: one CSV per machine with used and provisioned cores and GiB.

Per machine: cpu_used_cores = cpu% x vCPUs / 100, mem_used_gib = mem% x memory GiB / 100, provisioned = the
instance type's size. The fleet is collector.demo.DemoCollector's (seeded, so the same files come back).

Run: .venv/bin/python bench/rightsize/prepare_demo.py OUT_DIR [--days 28] [--resources 40]
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from usage_csv import save, usage_frame

from collector.catalog import Catalog
from collector.config import DemoSourceSettings
from collector.demo import DemoCollector

END = datetime(2026, 3, 2, tzinfo=UTC)  # fixed, so the dataset does not change with the day it is built


def prepare(out_dir: Path, *, days: int = 28, resources: int = 40) -> list[Path]:
    """One CSV per demo machine over `days` days ending at END."""
    demo = DemoCollector(DemoSourceSettings(days=days, resources=resources), Catalog.load(), now=END)
    t = demo.timestamps(None, END)
    stamps = pd.to_datetime(t, unit="s", utc=True).strftime("%Y-%m-%dT%H:%M:%SZ")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for machine in demo.fleet:
        metrics = demo.generate(machine, t)
        vcpus, memory = machine.entry.vcpus, machine.entry.memory_gib
        frame = usage_frame(
            stamps,
            cpu_used=metrics["cpu_utilization"] * vcpus / 100.0,
            cpu_provisioned=vcpus,
            mem_used=metrics["memory_utilization"] * memory / 100.0,
            mem_provisioned=memory,
        )
        written.append(save(frame, out_dir / f"{machine.name}.csv"))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--days", type=int, default=28, help="Days of history (at least 28 for 14 + 14 days)")
    parser.add_argument("--resources", type=int, default=40)
    args = parser.parse_args()
    if args.days < 28:
        parser.error("--days must be at least 28: the protocol needs a 14-day lookback and a 14-day evaluation")
    print(f"{len(prepare(args.out_dir, days=args.days, resources=args.resources))} machines in {args.out_dir}")


if __name__ == "__main__":
    main()
