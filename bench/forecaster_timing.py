"""Seconds per series of each forecaster: import, first call and steady state (hourly, 28 days, season 24, h=168).

Run: .venv/bin/python bench/forecaster_timing.py [--series 20]
Each configuration runs in a fresh interpreter so the first call pays what a new worker process pays.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = """
import json, time
t0 = time.perf_counter()
import numpy as np, pandas as pd
from ml_engine import make_forecaster
t_import = time.perf_counter() - t0
name, n = {name!r}, {n}
rng = np.random.default_rng(0)
hours = np.arange(28 * 24)
index = pd.date_range("2024-01-01", periods=hours.size, freq="h", tz="UTC")
def series(seed):
    r = np.random.default_rng(seed)
    return pd.Series(50 + 15 * np.sin(2 * np.pi * hours / 24) + hours * 0.01 + r.normal(0, 3, hours.size), index=index)
times = []
for i in range(n):
    y = series(i)
    start = time.perf_counter()
    forecast = make_forecaster(name, 24).fit(y).predict(168, (80, 95))
    times.append(time.perf_counter() - start)
print(json.dumps({{"model": name, "import_s": t_import, "first_s": times[0],
                  "steady_s": float(np.median(times[1:])), "answered_by": forecast.model}}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--series", type=int, default=20, help="series per model (the first is the cold call)")
    args = parser.parse_args()
    print("| model | import s | first call s | steady s/series |")
    print("|---|---|---|---|")
    for name in ("seasonal_naive", "auto_ets"):
        code = CHILD.format(name=name, n=max(args.series, 2))
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"| {row['model']} | {row['import_s']:.2f} | {row['first_s']:.3f} | {row['steady_s']:.3f} |")


if __name__ == "__main__":
    main()
