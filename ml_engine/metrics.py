"""Forecast accuracy measures (MASE, sMAPE, interval coverage) and a one-holdout backtest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ml_engine.base import Forecaster


def seasonal_scale(history: np.ndarray, season_length: int) -> float | None:
    """In-sample MAE of the seasonal-naive forecast (lag season_length), the MASE denominator.

    Falls back to lag 1 when the history is shorter than a season or flat season to season;
    None when even that is zero (a constant history cannot scale an error).
    """
    for lag in (season_length, 1):
        if len(history) > lag:
            scale = float(np.mean(np.abs(history[lag:] - history[:-lag])))
            if scale > 0.0:
                return scale
    return None


def mase(actual: np.ndarray, predicted: np.ndarray, history: np.ndarray, season_length: int) -> float | None:
    """Mean absolute error scaled by the seasonal-naive in-sample MAE; below 1 beats seasonal naive."""
    scale = seasonal_scale(history, season_length)
    if scale is None:
        return None
    return float(np.mean(np.abs(actual - predicted)) / scale)


def smape(actual: np.ndarray, predicted: np.ndarray) -> float:
    """Symmetric MAPE on the 0-200 scale (M4); a step where both are 0 counts as 0."""
    denominator = np.abs(actual) + np.abs(predicted)
    error = 2.0 * np.abs(actual - predicted)
    ratio = np.divide(error, denominator, out=np.zeros_like(denominator), where=denominator > 0)
    return float(100.0 * np.mean(ratio))


def coverage(actual: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> float:
    """Share of actual values inside [lower, upper]."""
    return float(np.mean((actual >= lower) & (actual <= upper)))


def holdout_backtest(
    forecaster: Forecaster, y: pd.Series, holdout: int, levels: Sequence[int] = (80, 95)
) -> dict[str, Any]:
    """Fit a fresh copy of forecaster on all but the last `holdout` points, forecast them, and score it.

    Returns holdout, model (the one that answered, after any fallback), mase, smape and
    coverage<level> for each level; JSON-safe (None where a score is undefined).
    """
    if not 1 <= holdout < len(y):
        raise ValueError(f"holdout must be between 1 and {len(y) - 1} points, got {holdout}")
    train, test = y.iloc[:-holdout], y.iloc[-holdout:].to_numpy(dtype=np.float64)
    forecast = forecaster.new().fit(train).predict(holdout, levels)
    predicted = forecast.mean.to_numpy()
    scores: dict[str, Any] = {
        "holdout": holdout,
        "model": forecast.model,
        "mase": mase(test, predicted, train.to_numpy(dtype=np.float64), forecaster.season_length),
        "smape": smape(test, predicted),
    }
    for level in sorted(forecast.lower):
        scores[f"coverage{level}"] = coverage(test, forecast.lower[level].to_numpy(), forecast.upper[level].to_numpy())
    return scores
