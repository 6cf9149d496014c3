"""Turn the Alibaba 2018 machine-usage file (no timestamps) into a timestamp,value directory, one CSV per metric.

Source: alejandrofdez-us/DataCenter-Traces-Datasets, alibaba2018/machine_usage_days_1_to_8_grouped_300_seconds.csv,
CC-BY-4.0 (upstream: Alibaba cluster-trace-v2018, CC-BY-4.0). Row i is i x 5 minutes after the trace start; the
trace gives no calendar date, so 2018-01-01T00:00:00Z stands for its start.

Run: .venv/bin/python bench/prepare_alibaba.py [SOURCE_CSV] [OUT_DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

DEFAULT_SOURCE = (
    Path(__file__).resolve().parents[2]
    / "shared/data/alejandrofdez-us+DataCenter-Traces-Datasets/alibaba2018"
    / "machine_usage_days_1_to_8_grouped_300_seconds.csv"
)
STEP = pd.Timedelta(minutes=5)
START = pd.Timestamp("2018-01-01T00:00:00Z")
NOTICE = (
    "Alibaba cluster machine usage, days 1-8, grouped per 300 seconds, one file per metric column.\n"
    "From alejandrofdez-us/DataCenter-Traces-Datasets (alibaba2018/), CC-BY-4.0; upstream Alibaba\n"
    "cluster-trace-v2018, CC-BY-4.0. Timestamps added by Headroom's bench/prepare_alibaba.py: row i is\n"
    "2018-01-01T00:00:00Z + i x 5 minutes (the trace has no calendar date).\n"
)


def prepare(source: Path, out_dir: Path) -> list[Path]:
    """Write out_dir/alibaba_<metric>.csv (timestamp,value) for every column of source, and a NOTICE."""
    frame = pd.read_csv(source)
    stamps = pd.date_range(START, periods=len(frame), freq=STEP).strftime("%Y-%m-%dT%H:%M:%SZ")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for column in frame.columns:
        path = out_dir / f"alibaba_{column}.csv"
        pd.DataFrame({"timestamp": stamps, "value": frame[column]}).to_csv(path, index=False)
        written.append(path)
    (out_dir / "NOTICE").write_text(NOTICE, encoding="utf-8")
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE)
    parser.add_argument("out_dir", nargs="?", type=Path, default=Path("var/bench/alibaba2018"))
    args = parser.parse_args()
    if not args.source.is_file():
        parser.error(f"{args.source} not found: pass the path of machine_usage_days_1_to_8_grouped_300_seconds.csv")
    for path in prepare(args.source, args.out_dir):
        print(path)


if __name__ == "__main__":
    main()
