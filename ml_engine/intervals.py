"""Helpers every forecaster shares: input checks, the future index, residual bands, band ordering, clipping."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ml_engine.base import Forecast, ForecastError


def check_history(y: pd.Series) -> pd.Series:
    """y as float64 on a strictly increasing, evenly spaced DatetimeIndex; ForecastError says what is wrong."""
    if not isinstance(y, pd.Series) or not isinstance(y.index, pd.DatetimeIndex):
        raise ForecastError("history must be a pandas Series on a DatetimeIndex")
    if len(y) == 0:
        raise ForecastError("history is empty: nothing to fit")
    if not y.index.is_monotonic_increasing or not y.index.is_unique:
        raise ForecastError("history index must be sorted and without duplicate timestamps: regularize it first")
    if len(y) > 2:
        steps = np.diff(y.index.asi8)
        if not np.all(steps == steps[0]):
            raise ForecastError("history has an irregular step: put it on a regular grid (ml_engine.regularize_hourly)")
    return y.astype(np.float64)


def step_of(index: pd.DatetimeIndex) -> pd.Timedelta:
    """The spacing of index: its freq when set, else the difference of its first two timestamps."""
    if index.freq is not None:
        return pd.Timedelta(index.freq)
    if len(index) < 2:
        raise ForecastError("cannot tell the step of a one-point history: give the index a freq")
    return pd.Timedelta(index[1] - index[0])


def future_index(index: pd.DatetimeIndex, horizon: int) -> pd.DatetimeIndex:
    """horizon timestamps continuing index at its own step, starting one step after its last timestamp."""
    if horizon < 1:
        raise ForecastError(f"horizon must be at least 1 step, got {horizon}")
    step = step_of(index)
    return pd.date_range(index[-1] + step, periods=horizon, freq=step, name=index.name)


def residual_bands(
    mean: np.ndarray, residuals: np.ndarray, levels: Sequence[int], lag: int
) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
    """Bands from empirical quantiles of lag-step residuals, widened by sqrt(1 + whole lags ahead).

    A band never excludes the mean: a skewed residual distribution (a trend) widens one side
    instead of shifting the whole band past the point forecast.
    """
    widen = np.sqrt(np.floor(np.arange(len(mean)) / lag) + 1.0)
    finite = residuals[np.isfinite(residuals)]
    lower: dict[int, np.ndarray] = {}
    upper: dict[int, np.ndarray] = {}
    for level in levels:
        if finite.size == 0:
            lo_q = hi_q = 0.0
        else:
            tail = (1.0 - level / 100.0) / 2.0
            lo_q, hi_q = (float(q) for q in np.quantile(finite, [tail, 1.0 - tail]))
        lower[level] = mean + min(lo_q, 0.0) * widen
        upper[level] = mean + max(hi_q, 0.0) * widen
    return lower, upper


def make_forecast(
    model: str,
    index: pd.DatetimeIndex,
    mean: np.ndarray,
    lower: dict[int, np.ndarray],
    upper: dict[int, np.ndarray],
    params: Mapping[str, Any] | None = None,
) -> Forecast:
    """A Forecast from arrays on index, with bands nested and around the mean (see order_bands)."""
    forecast = Forecast(
        model=model,
        mean=pd.Series(np.asarray(mean, dtype=np.float64), index=index, name="mean"),
        lower={lvl: pd.Series(np.asarray(v, dtype=np.float64), index=index) for lvl, v in lower.items()},
        upper={lvl: pd.Series(np.asarray(v, dtype=np.float64), index=index) for lvl, v in upper.items()},
        params=dict(params or {}),
    )
    return order_bands(forecast)


def order_bands(forecast: Forecast) -> Forecast:
    """Make lo(wider) <= lo(narrower) <= mean <= hi(narrower) <= hi(wider) hold at every step, in place.

    Simulated or numerically noisy intervals can cross by a hair; users must never see lo80 > mean.
    """
    lo_bound = forecast.mean
    hi_bound = forecast.mean
    for level in sorted(forecast.lower):
        forecast.lower[level] = forecast.lower[level].where(forecast.lower[level] <= lo_bound, lo_bound)
        forecast.upper[level] = forecast.upper[level].where(forecast.upper[level] >= hi_bound, hi_bound)
        lo_bound, hi_bound = forecast.lower[level], forecast.upper[level]
    return forecast


def clip_forecast(forecast: Forecast, lower: float | None = 0.0, upper: float | None = None) -> Forecast:
    """A copy with mean and every band clipped to [lower, upper], e.g. 0 for a metric that cannot be negative.

    Clipping is monotone, so the band order survives it.
    """
    return Forecast(
        model=forecast.model,
        mean=forecast.mean.clip(lower, upper),
        lower={lvl: s.clip(lower, upper) for lvl, s in forecast.lower.items()},
        upper={lvl: s.clip(lower, upper) for lvl, s in forecast.upper.items()},
        params=dict(forecast.params),
    )


def is_finite(forecast: Forecast) -> bool:
    """True when the mean and every band are free of NaN and infinity."""
    parts = [forecast.mean, *forecast.lower.values(), *forecast.upper.values()]
    return all(bool(np.isfinite(p.to_numpy()).all()) for p in parts)
