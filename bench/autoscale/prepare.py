"""Build the autoscaling benchmark's three dev sets (issue 17) as directories of timestamp,value CSVs.

- nab_aws: NAB realAWSCloudwatch as in the forecast benchmark (tests/fixtures/nab/realAWSCloudwatch), copied as is;
- nab_known_cause_hourly: NAB realKnownCause's ASG CPU series and NYC taxi demand, cleaned, as hourly means;
- nab_tweets: NAB realTweets (10 series), copied as is.
Usage: python bench/autoscale/prepare.py OUT_DIR [--nab NAB_DATA_DIR]
"""

from __future__ import annotations

import argparse
import shutil
from datetime import timedelta
from pathlib import Path

from collector.cleaning import load_series_csv
from ml_engine.resolution import hourly_means

ROOT = Path(__file__).resolve().parents[2]
KNOWN_CAUSE_HOURLY = ("cpu_utilization_asg_misconfiguration.csv", "nyc_taxi.csv")


def copy_csvs(source: Path, target: Path) -> int:
    target.mkdir(parents=True, exist_ok=True)
    files = sorted(source.glob("*.csv"))
    for path in files:
        shutil.copyfile(path, target / path.name)
    return len(files)


def hourly(source: Path, target: Path) -> None:
    """Clean (BENCHMARK.md's rules), then hourly means as the forecasting pipeline makes them (ml_engine.resolution:
    blocks of whole hours aligned to the end of the series)."""
    y, report = load_series_csv(source, timedelta(hours=1))
    hourly = hourly_means(y, max(1, 3600 // report.step_seconds))
    target.parent.mkdir(parents=True, exist_ok=True)
    frame = hourly.rename("value").to_frame()
    frame.index = frame.index.strftime("%Y-%m-%dT%H:%M:%SZ")
    frame.to_csv(target, index_label="timestamp", float_format="%.6g")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--nab", type=Path, default=ROOT.parent / "shared/data/numenta+NAB/data")
    args = parser.parse_args()
    copy_csvs(ROOT / "tests/fixtures/nab/realAWSCloudwatch", args.out / "nab_aws")
    for name in KNOWN_CAUSE_HOURLY:
        hourly(args.nab / "realKnownCause" / name, args.out / "nab_known_cause_hourly" / name)
    copy_csvs(args.nab / "realTweets", args.out / "nab_tweets")


if __name__ == "__main__":
    main()
