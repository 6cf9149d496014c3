"""Build the forecast benchmark's hourly check set: NAB series long enough for the hourly protocol (season 24,
horizon one week, 3 origins: at least 529 hours), as the hourly means the forecasting pipeline makes.

The 10 realTweets demand traces (55 days each) and realKnownCause's ASG CPU and NYC taxi demand, cleaned by
BENCHMARK.md's rules and averaged over whole hours (bench/autoscale/prepare.py's `hourly`). The 5-minute sets test
a day ahead; this one tests a week ahead on hourly data, as hourly VM fleets are forecast.

Run: .venv/bin/python -m bench.prepare_nab_hourly [OUT_DIR] [--nab NAB_DATA_DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.autoscale.prepare import KNOWN_CAUSE_HOURLY, ROOT, hourly

NOTICE = (
    "NAB (Numenta Anomaly Benchmark) data, MIT licence, https://github.com/numenta/NAB at\n"
    "ea702d75cc2258d9d7dd35ca8e5e2539d71f3140: data/realTweets/*.csv and data/realKnownCause/{"
    + ",".join(KNOWN_CAUSE_HOURLY)
    + "},\ncleaned and averaged over whole hours by Headroom's bench/prepare_nab_hourly.py.\n"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", nargs="?", type=Path, default=Path("var/bench/nab_hourly"))
    parser.add_argument("--nab", type=Path, default=ROOT.parent / "shared/data/numenta+NAB/data")
    args = parser.parse_args()
    known_cause = [args.nab / "realKnownCause" / name for name in KNOWN_CAUSE_HOURLY]
    sources = sorted((args.nab / "realTweets").glob("*.csv")) + known_cause
    missing = [str(p) for p in sources if not p.is_file()]
    if missing or len(sources) <= len(KNOWN_CAUSE_HOURLY):
        parser.error(f"NAB data not found under {args.nab} ({', '.join(missing) or 'no realTweets'}): pass --nab")
    for path in sources:
        hourly(path, args.out / path.name)
    (args.out / "NOTICE").write_text(NOTICE, encoding="utf-8")
    print(f"{len(sources)} hourly series in {args.out}")


if __name__ == "__main__":
    main()
