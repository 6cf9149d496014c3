"""How much room a dev set leaves for a margin over its best baseline: MASE of every (series, origin, model) of a
`headroom eval --save-forecasts` file, and the mean MASE of choosing, after seeing the actuals, the best baseline
per series and per (series, origin). No forecaster can be expected to beat these hindsight choices by much; when
the acceptance's 0.9 x the best single baseline lies near or below them, the margin asked is within the noise of
which model happens to win on that file.

Each MASE is scored as `headroom eval` scores it: the history before the origin (cleaned by BENCHMARK.md's rules)
gives the seasonal-naive scale, the steps with an actual are scored.

Run: .venv/bin/python bench/forecast_hindsight.py FORECASTS.csv DATA_DIR [--product headroom] [--margin 0.9]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

from collector.cleaning import load_series_csv
from ml_engine.evaluation import mase, protocol_for_step, seasonal_naive_scale

MAX_GAP = pd.Timedelta(hours=1)


def origin_scores(forecasts: pd.DataFrame, data_dir: Path) -> pd.DataFrame:
    """One row per (series, origin, model) with its MASE."""
    rows = []
    for series, part in forecasts.groupby("series", sort=False):
        y, report = load_series_csv(data_dir / f"{series}.csv", MAX_GAP.to_pytimedelta())
        season = protocol_for_step(pd.Timedelta(seconds=report.step_seconds)).season_length
        for (origin, model), group in part.groupby(["origin", "model"], sort=False):
            history = y[y.index < pd.Timestamp(origin)].to_numpy(dtype=np.float64)
            actual = y.reindex(pd.DatetimeIndex(pd.to_datetime(group["timestamp"], utc=True))).to_numpy(np.float64)
            known = np.isfinite(actual)
            predicted = group["mean"].to_numpy(dtype=np.float64)[known]
            score = mase(actual[known], predicted, seasonal_naive_scale(history, season))
            rows.append({"series": series, "origin": origin, "model": model, "mase": score})
    return pd.DataFrame(rows)


def hindsight(scores: pd.DataFrame, product: str, margin: float) -> list[tuple[str, float]]:
    """(what, mean MASE over series) for every model, the target, and the hindsight choices among the baselines."""
    per_series = scores.groupby(["model", "series"])["mase"].mean()
    by_model = per_series.groupby(level="model").mean().sort_values()
    baselines = scores[scores["model"] != product]
    if baselines.empty:
        raise SystemExit(f"no baseline in the file besides {product}: run headroom eval with the baselines too")
    best = str(by_model.drop(product, errors="ignore").idxmin())
    lines = [(str(model), float(value)) for model, value in by_model.items()]
    lines.append((f"target: {margin:g} x the best single baseline ({best})", margin * float(by_model[best])))
    series_best = per_series.drop(product, level="model", errors="ignore").groupby(level="series").min()
    lines.append(("hindsight: the best baseline of each series", float(series_best.mean())))
    origin_best = baselines.groupby(["series", "origin"])["mase"].min().groupby(level="series").mean()
    lines.append(("hindsight: the best baseline of each (series, origin)", float(origin_best.mean())))
    everything = scores.groupby(["series", "origin"])["mase"].min().groupby(level="series").mean()
    lines.append((f"hindsight: the best of each (series, origin), {product} included", float(everything.mean())))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("forecasts", type=Path)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--product", default="headroom", help="the model whose margin is asked (default headroom)")
    parser.add_argument("--margin", type=float, default=0.9, help="the share of the best baseline asked (0.9)")
    args = parser.parse_args()
    scores = origin_scores(pd.read_csv(args.forecasts), args.data_dir)
    print(f"## {args.forecasts.name}: mean MASE over {scores['series'].nunique()} series\n")
    print("| forecast | mean MASE |\n|---|---:|")
    for what, value in hindsight(scores, args.product, args.margin):
        print(f"| {what} | {value:.3f} |")


if __name__ == "__main__":
    main()
