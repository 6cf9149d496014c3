"""Headroom's forecasting library: forecasters chosen by name, regularization, intervals and accuracy measures."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ml_engine.base import Forecast, Forecaster, ForecastError
from ml_engine.domain import Domain, domain_for
from ml_engine.ensemble import MEMBERS, Ensemble
from ml_engine.fallback import WithFallback
from ml_engine.intervals import clip_forecast, order_bands
from ml_engine.metrics import coverage, holdout_backtest, mase, smape
from ml_engine.naive import Naive, SeasonalNaive
from ml_engine.prophet_model import Prophet
from ml_engine.regular import RegularizeReport, regularize_hourly
from ml_engine.statistical import MSTL, AutoARIMA, AutoETS, Theta

if TYPE_CHECKING:
    from ml_engine.nn import GlobalNN

# Every ensemble member on its own (AutoARIMA with statsforecast's default search, where the ensemble narrows it),
# and the ensemble.
FORECASTERS: dict[str, Callable[[int], Forecaster]] = {
    **MEMBERS,
    "auto_arima": lambda m: AutoARIMA(season_length=m),
    "ensemble": lambda m: Ensemble(season_length=m),
}
DEFAULT_MODEL = "ensemble"


def make_forecaster(
    name: str, season_length: int = 24, global_nn: GlobalNN | None = None, domain: Domain | None = None
) -> Forecaster:
    """The forecaster called name, wrapped so that a series it cannot fit gets a naive fallback.

    global_nn (a fitted ml_engine.nn.GlobalNN) joins the ensemble as a member when its season matches the one
    the ensemble models; other models ignore it. domain bounds the forecast and its intervals; the ensemble is
    always bounded (by the domain inferred from the history and its name when none is given), a single model only
    when a domain is given, so that the baselines are scored as they are.
    """
    if name not in FORECASTERS:
        raise ValueError(f"unknown forecaster {name!r}: choose one of {', '.join(sorted(FORECASTERS))}")
    if season_length < 1:
        raise ValueError(f"season_length must be at least 1 step, got {season_length}")
    if name == "ensemble":
        return WithFallback(Ensemble(season_length, global_nn=global_nn, domain=domain), bounded=True, domain=domain)
    return WithFallback(FORECASTERS[name](season_length), domain=domain)


__all__ = [
    "FORECASTERS",
    "MSTL",
    "AutoARIMA",
    "AutoETS",
    "DEFAULT_MODEL",
    "Domain",
    "Ensemble",
    "Forecast",
    "ForecastError",
    "Forecaster",
    "Naive",
    "Prophet",
    "RegularizeReport",
    "SeasonalNaive",
    "Theta",
    "WithFallback",
    "clip_forecast",
    "coverage",
    "domain_for",
    "holdout_backtest",
    "make_forecaster",
    "mase",
    "order_bands",
    "regularize_hourly",
    "smape",
]
