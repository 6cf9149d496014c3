"""Lookback windows over usage series: slicing the last N days and measuring how much of them has data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Lookback:
    """The samples of the last `days` days ending at `end`, and how well they cover that window."""

    values: pd.Series
    days: float
    end: pd.Timestamp
    step_seconds: float
    coverage_hours: float
    coverage_ratio: float


def as_utc_series(series: pd.Series) -> pd.Series:
    """A float series on a sorted UTC DatetimeIndex, NaNs dropped; ValueError naming the problem otherwise."""
    if not isinstance(series.index, pd.DatetimeIndex):
        raise ValueError("usage series must be indexed by timestamps (a pandas DatetimeIndex)")
    if (  # already clean, as the metric stores return it: the same series, not a copy (callers only read it)
        series.dtype == np.float64
        and str(series.index.tz) == "UTC"
        and series.index.is_monotonic_increasing
        and not series.hasnans
    ):
        return series
    index = series.index.tz_localize("UTC") if series.index.tz is None else series.index.tz_convert("UTC")
    out = pd.Series(np.asarray(series, dtype=np.float64), index=index).sort_index()
    return out[~out.isna()]


def step_seconds_of(series: pd.Series) -> float:
    """The sampling step: the median gap between consecutive samples (3600 when there are fewer than two)."""
    if len(series) < 2:
        return 3600.0
    gaps = np.diff(series.index.asi8) / 1e9
    return float(np.median(gaps))


def lookback(series: pd.Series, *, days: float, end: datetime | pd.Timestamp | None = None) -> Lookback:
    """Slice [end - days, end) from a usage series (end defaults to just after its last sample)."""
    clean = as_utc_series(series)
    step = step_seconds_of(clean)
    if end is None:
        stop = clean.index[-1] + pd.Timedelta(seconds=step) if len(clean) else pd.Timestamp.now(tz="UTC")
    else:
        stop = pd.Timestamp(end)
        stop = stop.tz_localize("UTC") if stop.tzinfo is None else stop.tz_convert("UTC")
    start = stop - pd.Timedelta(days=days)
    window = clean[(clean.index >= start) & (clean.index < stop)]
    hours = len(window) * step / 3600.0
    return Lookback(
        values=window,
        days=days,
        end=stop,
        step_seconds=step,
        coverage_hours=hours,
        coverage_ratio=min(1.0, hours / (days * 24.0)),
    )
