"""Ensemble weights from a robust backtest loss: one spike in one backtest window cannot decide them.

The loss of a forecaster is its mean absolute backtest error after every absolute error is capped at the
CAP_QUANTILE of all forecasters' absolute errors pooled: a spike that every forecaster misses costs each the
same capped amount, and a forecaster that copies a spike from its history into one window pays at most the cap
per step instead of dominating the mean.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from ml_engine.base import ForecastError

WEIGHT_BAND = 1.5  # members whose backtest loss is above 1.5 x the best get no weight
CAP_QUANTILE = 0.95


def robust_losses(errors: Mapping[str, np.ndarray]) -> dict[str, float]:
    """Capped mean absolute error per forecaster, from backtest errors (actual - forecast) of the same shape."""
    pooled = np.concatenate([np.abs(e[np.isfinite(e)]).ravel() for e in errors.values()]) if errors else np.zeros(0)
    if pooled.size == 0:
        return {name: float("nan") for name in errors}
    cap = float(np.quantile(pooled, CAP_QUANTILE))
    if cap <= 0.0:  # errors are mostly exactly zero (a constant or zero-inflated series): do not cap
        cap = float("inf")
    out: dict[str, float] = {}
    for name, e in errors.items():
        finite = np.abs(e[np.isfinite(e)])
        out[name] = float(np.mean(np.minimum(finite, cap))) if finite.size else float("nan")
    return out


def inverse_error_weights(loss: Mapping[str, float], band: float = WEIGHT_BAND) -> dict[str, float]:
    """Weights proportional to 1 / loss^2 among members within `band` x the best loss; 0 for the rest."""
    finite = {k: v for k, v in loss.items() if math.isfinite(v)}
    if not finite:
        raise ForecastError("ensemble: no member has a finite backtest error")
    best = min(finite.values())
    if best <= 0.0:  # a perfect member (a constant series): it alone
        winner = min(finite, key=lambda k: finite[k])
        return {k: float(k == winner) for k in loss}
    raw = {k: (1.0 / v**2 if v <= band * best else 0.0) for k, v in finite.items()}
    total = sum(raw.values())
    return {k: raw.get(k, 0.0) / total for k in loss}
