"""AutoETS from statsforecast: exponential smoothing with the error, trend and season chosen by AICc."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ml_engine.base import Forecast, Forecaster, ForecastError
from ml_engine.intervals import check_history, future_index, make_forecast

# ETS needs a few seasons to tell the seasonal states from noise; shorter series get the fallback.
MIN_SEASONS = 3


class AutoETS(Forecaster):
    """statsforecast's AutoETS (a port of R forecast::ets) with its analytic prediction intervals.

    Raises ForecastError on a series it cannot fit; make_forecaster wraps it in WithFallback so a
    batch never fails on one series.
    """

    name = "auto_ets"

    @property
    def min_length(self) -> int:
        return MIN_SEASONS * self.season_length

    def fit(self, y: pd.Series) -> AutoETS:
        # imported here: statsforecast takes ~2 s to import and is an optional extra (headroom[ml])
        from statsforecast.models import AutoETS as StatsforecastETS

        y = check_history(y)
        values = y.to_numpy()
        if not np.isfinite(values).all():
            raise ForecastError("auto_ets: history contains NaN or infinity: regularize it first")
        if len(values) < self.min_length:
            raise ForecastError(f"auto_ets: needs at least {self.min_length} points, got {len(values)}")
        if np.ptp(values) == 0.0:
            raise ForecastError("auto_ets: history is constant: there is nothing to smooth")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # overflow while searching bad candidates
                self._model = StatsforecastETS(season_length=self.season_length).fit(values)
        except (ValueError, KeyError, ZeroDivisionError, FloatingPointError, np.linalg.LinAlgError) as exc:
            raise ForecastError(f"auto_ets: fit failed ({type(exc).__name__}: {exc})") from exc
        self._index = y.index
        return self

    def predict(self, horizon: int, levels: Sequence[int] = (80, 95)) -> Forecast:
        if not hasattr(self, "_model"):
            raise ForecastError("auto_ets: call fit() before predict()")
        index = future_index(self._index, horizon)
        wanted = sorted(set(levels))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            raw = self._model.predict(h=horizon, level=wanted or None)
        lower = {lvl: raw[f"lo-{lvl}"] for lvl in wanted}
        upper = {lvl: raw[f"hi-{lvl}"] for lvl in wanted}
        return make_forecast(self.name, index, raw["mean"], lower, upper, self.describe())

    def describe(self) -> dict[str, Any]:
        """The chosen model and its fit statistics, JSON-safe."""
        fitted = self._model.model_
        return {
            "season_length": self.season_length,
            "method": str(fitted["method"]),
            "aicc": _json_float(fitted.get("aicc")),
            "sigma2": _json_float(fitted.get("sigma2")),
        }


def _json_float(value: Any) -> float | None:
    """A float for JSON columns, or None for missing/NaN/inf (PostgreSQL's JSON refuses NaN)."""
    if value is None:
        return None
    number = float(value)
    return number if np.isfinite(number) else None
