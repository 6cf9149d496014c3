"""CPU seconds per series of the ensemble's daily refit on 90 days of hourly data: cold, and warm-started.

Real data: 90-day windows of NAB's realKnownCause/nyc_taxi.csv (hourly means, 2014-07 .. 2015-01, MIT), the
only trace in ../shared/data with 90 days of hourly history, each window starting `--stride` hours after the
previous one (overlapping windows of one real series: the cost depends on length and shape, not
identity). Per window: a cold fit (backtest, model search, conformal calibration) and predict(336), then
the next day's refit (the window one day later) warm-started from the cold fit's params["state"], as the daily
retrain does it. The global network (member global_nn) is trained once a day on all series, as retrain_global does:
cold on the first day's windows, warm-started from it on the next day's; its CPU time is shared out over the series
and included in both figures. Reports CPU seconds of the process and its children (getrusage), single-threaded.

Run: nice -n 10 .venv/bin/python bench/forecaster_timing.py [--series 200] [--stride 14]
"""

from __future__ import annotations

import argparse
import resource
import statistics
from pathlib import Path

import pandas as pd

from ml_engine import make_forecaster
from ml_engine.nn import GlobalNN

SOURCE = Path(__file__).resolve().parents[2] / "shared/data/numenta+NAB/data/realKnownCause/nyc_taxi.csv"
HISTORY_HOURS = 90 * 24
HORIZON = 14 * 24
DAY = 24


def windows(source: Path, count: int, stride: int) -> list[tuple[pd.Series, pd.Series]]:
    """(today's history, tomorrow's history) pairs of HISTORY_HOURS hourly points, `stride` hours apart."""
    raw = pd.read_csv(source, parse_dates=["timestamp"]).set_index("timestamp")["value"]
    raw.index = raw.index.tz_localize("UTC")
    hourly = raw.resample("h").mean().interpolate()
    starts = range(0, len(hourly) - HISTORY_HOURS - DAY, stride)
    pairs = [(hourly.iloc[s : s + HISTORY_HOURS], hourly.iloc[s + DAY : s + DAY + HISTORY_HOURS]) for s in starts]
    if len(pairs) < count:
        raise SystemExit(f"{source.name} gives only {len(pairs)} windows at stride {stride} h: lower --stride")
    return pairs[:count]


def _cpu_now() -> float:
    """CPU seconds of this process and its waited-for children (Prophet's optimiser runs in a cmdstan child)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def cpu(call):  # noqa: ANN001, ANN201 - a tiny timing helper
    start = _cpu_now()
    result = call()
    return result, _cpu_now() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--series", type=int, default=200)
    parser.add_argument("--stride", type=int, default=14, help="hours between window starts")
    parser.add_argument("--source", type=Path, default=SOURCE)
    args = parser.parse_args()
    pairs = windows(args.source, args.series, args.stride)
    warm_up = GlobalNN(24, epochs=1).fit([pairs[0][0]])  # imports, graph tracing and JIT compilation, untimed
    make_forecaster("ensemble", 24, global_nn=warm_up).fit(pairs[0][0]).predict(HORIZON)
    nn_cold, nn_cold_s = cpu(lambda: GlobalNN(24).fit([today for today, _ in pairs]))
    nn_warm, nn_warm_s = cpu(lambda: GlobalNN(24).fit([tomorrow for _, tomorrow in pairs], warm_from=nn_cold))
    print(f"global network: cold {nn_cold_s:.1f} CPU s ({nn_cold.training['epochs']} epochs), warm {nn_warm_s:.1f} "
          f"CPU s ({nn_warm.training['epochs']} epochs) on {nn_cold.training['windows']} windows of {len(pairs)} "
          "series", flush=True)
    cold_s: list[float] = []
    warm_s: list[float] = []
    warm_used = 0
    for i, (today, tomorrow) in enumerate(pairs, 1):
        cold, seconds = cpu(lambda t=today: make_forecaster("ensemble", 24, global_nn=nn_cold).fit(t).predict(HORIZON))
        cold_s.append(seconds + nn_cold_s / len(pairs))
        state = cold.params["state"]
        warm, seconds = cpu(
            lambda t=tomorrow, s=state: make_forecaster("ensemble", 24, global_nn=nn_warm)
            .warm_start(s)
            .fit(t)
            .predict(HORIZON)
        )
        warm_s.append(seconds + nn_warm_s / len(pairs))
        warm_used += bool(warm.params.get("warm"))
        print(
            f"{i}/{len(pairs)} cold {cold_s[-1]:.2f} s, warm {warm_s[-1]:.2f} s "
            f"(running means: cold {statistics.mean(cold_s):.3f} s, warm {statistics.mean(warm_s):.3f} s)",
            flush=True,
        )
    print()
    print(f"{len(pairs)} series x {HISTORY_HOURS} hourly points, horizon {HORIZON} h ({args.source.name})")
    print("| refit | mean CPU s/series | median | max |")
    print("|---|---:|---:|---:|")
    for name, values in (("cold (backtest + search)", cold_s), ("warm (daily, from yesterday's state)", warm_s)):
        print(f"| {name} | {statistics.mean(values):.3f} | {statistics.median(values):.3f} | {max(values):.3f} |")
    print(f"warm start taken by {warm_used} of {len(pairs)} refits; global network included, shared out per series")


if __name__ == "__main__":
    main()
