"""CPU seconds per series that `headroom eval` spends on the product's model (without the global network): every
origin of the protocol, fitted as `headroom eval` fits `headroom` (services/benchmarks/product_model.py: the last
history_days, warm from the previous origin), CPU of the process and its children (Prophet's cmdstan).

Run: nice -n 10 .venv/bin/python bench/eval_cpu.py DIR [--limit N]
"""

from __future__ import annotations

import argparse
import resource
import statistics
from pathlib import Path

from services.benchmarks.evaluation import HISTORY_DAYS, load_dataset
from services.benchmarks.product_model import ProductRuns


def _cpu_now() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--limit", type=int, default=None, help="only the first N files, by name")
    args = parser.parse_args()
    dataset = load_dataset(args.directory, args.limit)
    first = dataset.series[0]
    warm_up = first.y.iloc[: first.positions[0]].interpolate(limit_direction="both")
    ProductRuns(None, HISTORY_DAYS)(first.protocol.season_length).fit(warm_up).predict(first.protocol.horizon)
    per_series: list[float] = []
    runs = ProductRuns(None, HISTORY_DAYS)  # the untimed warm-up above used its own: no state is shared with it
    for s in dataset.series:
        start = _cpu_now()
        for position in s.positions:
            history = s.y.iloc[:position].interpolate(limit_direction="both").rename(s.name)
            runs(s.protocol.season_length).fit(history).predict(s.protocol.horizon)
        per_series.append(_cpu_now() - start)
        print(f"{s.name}: {len(s.y)} points, {len(s.positions)} origins, {per_series[-1]:.2f} CPU s", flush=True)
    print(
        f"{dataset.name}: {len(per_series)} series, CPU s per series mean {statistics.mean(per_series):.2f}, "
        f"max {max(per_series):.2f}"
    )


if __name__ == "__main__":
    main()
