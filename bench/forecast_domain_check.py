"""Checks a `headroom eval --save-forecasts` file against each metric's physical domain: how many forecast steps have
a mean or an interval edge outside it, per model (the domain of each series and origin from its history before the
origin and its name, as the forecaster infers it: ml_engine.domain.domain_for).

Run: .venv/bin/python bench/forecast_domain_check.py FORECASTS.csv DATA_DIR
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from collector.cleaning import load_series_csv
from ml_engine import domain_for

EDGES = ["mean", "lo80", "hi80", "lo95", "hi95"]
MAX_GAP = pd.Timedelta(hours=1)


def outside_counts(forecasts: pd.DataFrame, data_dir: Path) -> pd.DataFrame:
    """Per model: forecast steps, steps with any edge outside the domain, and the worst excursion."""
    rows = []
    for (series, origin), group in forecasts.groupby(["series", "origin"], sort=False):
        y, _ = load_series_csv(data_dir / f"{series}.csv", MAX_GAP.to_pytimedelta())
        history = y[y.index < pd.Timestamp(origin)].dropna().to_numpy()
        domain = domain_for(history, name=str(series))
        for model, part in group.groupby("model", sort=False):
            values = part[EDGES].to_numpy()
            low = (domain.lower - values).clip(min=0).max(axis=1) if domain.lower is not None else 0 * values[:, 0]
            high = (values - domain.upper).clip(min=0).max(axis=1) if domain.upper is not None else 0 * values[:, 0]
            excursion = pd.Series(low).combine(pd.Series(high), max)
            rows.append(
                {
                    "model": model,
                    "steps": len(part),
                    "outside": int((excursion > 1e-9).sum()),
                    "worst": float(excursion.max()),
                }
            )
    frame = pd.DataFrame(rows)
    return frame.groupby("model", sort=False).agg(
        steps=("steps", "sum"), outside=("outside", "sum"), worst=("worst", "max")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("forecasts", type=Path)
    parser.add_argument("data_dir", type=Path)
    args = parser.parse_args()
    counts = outside_counts(pd.read_csv(args.forecasts), args.data_dir)
    print(f"## {args.forecasts.name}: forecast steps with a mean or interval edge outside the metric's domain\n")
    print("| model | forecast steps | outside the domain | worst excursion |\n|---|---:|---:|---:|")
    for model, row in counts.iterrows():
        print(f"| {model} | {int(row['steps'])} | {int(row['outside'])} | {row['worst']:.4g} |")


if __name__ == "__main__":
    main()
