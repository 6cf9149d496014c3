"""What the first look costs: `headroom demo --no-serve` (migrate, load the demo fleet, train the default model cold
on every series, refresh recommendations) in a fresh temporary data folder; wall seconds and CPU seconds of it and
all its children (getrusage), per step as the demo prints them. Writes bench/results/demo_cost.md.

    nice -n 10 .venv/bin/python bench/demo_cost.py
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "results" / "demo_cost.md"


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="headroom-demo-cost-") as data:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HEADROOM_")} | {"HEADROOM_DATA_DIR": data}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "cli.main", "demo", "--no-serve"], cwd=ROOT, env=env,
                              capture_output=True, text=True)
        wall = time.monotonic() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        tail = f"{done.stdout[-3000:]}{done.stderr[-3000:]}"
        raise SystemExit(f"headroom demo --no-serve failed ({done.returncode}):\n{tail}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    steps = [line.strip() for line in done.stdout.splitlines() if line.startswith(("✓", "trained "))]
    report = "\n".join([
        f"# `headroom demo --no-serve` ({datetime.now(UTC):%Y-%m-%dT%H:%M:%S%z}, {os.cpu_count()} cores)",
        "",
        "| wall s | CPU s (all processes) |",
        "|---:|---:|",
        f"| {wall:.0f} | {cpu:.0f} |",
        "",
        *(f"- {s}" for s in steps),
        "",
    ])
    OUT.write_text(report)
    print(report)


if __name__ == "__main__":
    main()
