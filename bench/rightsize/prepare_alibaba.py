"""Write the Alibaba 2018 machine-usage trace as a right-sizing dataset (one machine, in cores and GiB).

Source: alejandrofdez-us/DataCenter-Traces-Datasets, alibaba2018/machine_usage_days_1_to_8_grouped_300_seconds.csv,
CC-BY-4.0 (upstream: Alibaba cluster-trace-v2018, CC-BY-4.0). Its cpu_util_percent and mem_util_percent are
utilisation percentages of a machine, one row per 5 minutes (row i = i x 5 min; the trace has no calendar date,
so 2018-01-01T00:00:00Z stands for its start). Assumed capacity: the cluster-trace-v2018 machines have 96 cores
(machine_meta.cpu_num); their memory is published normalised (mem_size = 100), so 512 GiB is an assumption, not
a fact of the trace. Eight days means the protocol's halves: a 4-day lookback and a 4-day evaluation.

Run: .venv/bin/python bench/rightsize/prepare_alibaba.py OUT_DIR [SOURCE_CSV]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
from usage_csv import usage_frame

DEFAULT_SOURCE = (
    Path(__file__).resolve().parents[3]
    / "shared/data/alejandrofdez-us+DataCenter-Traces-Datasets/alibaba2018"
    / "machine_usage_days_1_to_8_grouped_300_seconds.csv"
)
CORES = 96.0
MEMORY_GIB = 512.0
START = pd.Timestamp("2018-01-01T00:00:00Z")
NOTICE = (
    "Alibaba cluster machine usage, days 1-8, grouped per 300 seconds, as used/provisioned cores and GiB.\n"
    "From alejandrofdez-us/DataCenter-Traces-Datasets (alibaba2018/), CC-BY-4.0; upstream Alibaba\n"
    "cluster-trace-v2018, CC-BY-4.0. Converted by Headroom's bench/rightsize/prepare_alibaba.py assuming a\n"
    "96-core machine (the trace's cpu_num) with 512 GiB (assumed: the trace normalises memory), and\n"
    "timestamps 2018-01-01T00:00:00Z + i x 5 minutes (the trace has no calendar date).\n"
)


def prepare(source: Path, out_dir: Path) -> Path:
    """Write out_dir/alibaba2018_machine.csv and a NOTICE."""
    usage = pd.read_csv(source)
    stamps = pd.date_range(START, periods=len(usage), freq=pd.Timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    frame = usage_frame(
        stamps,
        cpu_used=usage["cpu_util_percent"].to_numpy() * CORES / 100.0,
        cpu_provisioned=CORES,
        mem_used=usage["mem_util_percent"].to_numpy() * MEMORY_GIB / 100.0,
        mem_provisioned=MEMORY_GIB,
    )
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "alibaba2018_machine.csv"
    frame.to_csv(path, index=False)
    (out_dir / "NOTICE").write_text(NOTICE, encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    args = parser.parse_args()
    if not args.source.is_file():
        parser.error(f"{args.source} not found: pass the path of machine_usage_days_1_to_8_grouped_300_seconds.csv")
    print(prepare(args.source, args.out_dir))


if __name__ == "__main__":
    main()
