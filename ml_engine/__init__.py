"""Headroom's forecasting library: forecasters chosen by name, regularization, intervals and accuracy measures."""

from __future__ import annotations

from collections.abc import Callable

from ml_engine.base import Forecast, Forecaster, ForecastError
from ml_engine.fallback import WithFallback
from ml_engine.intervals import clip_forecast, order_bands
from ml_engine.metrics import coverage, holdout_backtest, mase, smape
from ml_engine.naive import Naive, SeasonalNaive
from ml_engine.prophet_model import Prophet
from ml_engine.regular import RegularizeReport, regularize_hourly
from ml_engine.statistical import MSTL, AutoARIMA, AutoETS

FORECASTERS: dict[str, Callable[[int], Forecaster]] = {
    "seasonal_naive": lambda m: SeasonalNaive(season_length=m),
    "auto_ets": lambda m: AutoETS(season_length=m),
    "auto_arima": lambda m: AutoARIMA(season_length=m),
    "mstl": lambda m: MSTL(season_length=m),
    "prophet": lambda m: Prophet(season_length=m),
}


def make_forecaster(name: str, season_length: int = 24) -> Forecaster:
    """The forecaster called name, wrapped so that a series it cannot fit gets a naive fallback."""
    if name not in FORECASTERS:
        raise ValueError(f"unknown forecaster {name!r}: choose one of {', '.join(sorted(FORECASTERS))}")
    if season_length < 1:
        raise ValueError(f"season_length must be at least 1 step, got {season_length}")
    return WithFallback(FORECASTERS[name](season_length))


__all__ = [
    "FORECASTERS",
    "MSTL",
    "AutoARIMA",
    "AutoETS",
    "Forecast",
    "ForecastError",
    "Forecaster",
    "Naive",
    "Prophet",
    "RegularizeReport",
    "SeasonalNaive",
    "WithFallback",
    "clip_forecast",
    "coverage",
    "holdout_backtest",
    "make_forecaster",
    "mase",
    "order_bands",
    "regularize_hourly",
    "smape",
]
