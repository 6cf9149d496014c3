"""statsforecast models behind the Forecaster contract: AutoETS, AutoARIMA and MSTL, with their own intervals."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ml_engine.base import Forecast, Forecaster, ForecastError
from ml_engine.intervals import check_history, future_index, make_forecast

# Errors statsforecast raises on a series it cannot fit (numba code raises plain ValueError/ZeroDivisionError).
FIT_ERRORS = (ValueError, KeyError, IndexError, ZeroDivisionError, FloatingPointError, np.linalg.LinAlgError)
WEEK_IN_DAYS = 7
YEAR_IN_DAYS = 365


class StatsforecastModel(Forecaster):
    """Shared fit/predict around one statsforecast model: input checks, warnings silenced, errors as ForecastError.

    Subclasses set name and min_seasons and build the model in _build(values).
    """

    min_seasons = 2

    @property
    def min_length(self) -> int:
        return self.min_seasons * self.season_length

    def _build(self, values: np.ndarray) -> Any:
        """An unfitted statsforecast model for this history."""
        raise NotImplementedError

    def fit(self, y: pd.Series) -> StatsforecastModel:
        y = check_history(y)
        values = y.to_numpy()
        if not np.isfinite(values).all():
            raise ForecastError(f"{self.name}: history contains NaN or infinity: regularize it first")
        if len(values) < self.min_length:
            raise ForecastError(f"{self.name}: needs at least {self.min_length} points, got {len(values)}")
        if np.ptp(values) == 0.0:
            raise ForecastError(f"{self.name}: history is constant: there is nothing to model")
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # overflow while searching bad candidates, convergence notes
                self._model = self._build(values).fit(values)
        except FIT_ERRORS as exc:
            raise ForecastError(f"{self.name}: fit failed ({type(exc).__name__}: {exc})") from exc
        self._index = y.index
        return self

    def predict(self, horizon: int, levels: Sequence[int] = (80, 95)) -> Forecast:
        if not hasattr(self, "_model"):
            raise ForecastError(f"{self.name}: call fit() before predict()")
        index = future_index(self._index, horizon)
        wanted = sorted(set(levels))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                raw = self._model.predict(h=horizon, level=wanted or None)
        except FIT_ERRORS as exc:
            raise ForecastError(f"{self.name}: predict failed ({type(exc).__name__}: {exc})") from exc
        lower = {lvl: raw[f"lo-{lvl}"] for lvl in wanted}
        upper = {lvl: raw[f"hi-{lvl}"] for lvl in wanted}
        return make_forecast(self.name, index, raw["mean"], lower, upper, self.describe())

    def describe(self) -> dict[str, Any]:
        """The fitted model's settings, JSON-safe."""
        return {"season_length": self.season_length}


class AutoETS(StatsforecastModel):
    """statsforecast's AutoETS (a port of R forecast::ets) with its analytic prediction intervals.

    Unlike R's ets it also searches seasonal models when the season is longer than 24 steps (288 at
    5 minutes), which costs tens of seconds per fit on two weeks of 5-minute data.
    Raises ForecastError on a series it cannot fit; make_forecaster wraps it in WithFallback so a
    batch never fails on one series. Warm start: the model chosen yesterday (e.g. "AAdA") is refitted
    without the search.
    """

    name = "auto_ets"
    min_seasons = 3  # ETS needs a few seasons to tell the seasonal states from noise

    def warm_start(self, state: Mapping[str, Any] | None) -> AutoETS:
        spec = (state or {}).get("ets")
        ok = isinstance(spec, str) and len(spec) == 4 and (state or {}).get("season_length") == self.season_length
        self._spec: str | None = spec if ok else None
        return self

    def _build(self, values: np.ndarray) -> Any:
        # imported here: statsforecast takes ~2 s to import and is an optional extra (headroom[ml])
        from statsforecast.models import AutoETS as StatsforecastETS

        spec = getattr(self, "_spec", None)
        if spec:
            return StatsforecastETS(season_length=self.season_length, model=spec[:3], damped=spec[3] == "d")
        return StatsforecastETS(season_length=self.season_length)

    def fit_state(self) -> dict[str, Any] | None:
        components = str(self._model.model_["components"])  # e.g. "AAAD": error, trend, season, D(amped) or N
        spec = components[:3] + ("d" if components[3:4] == "D" else "n")
        return {"season_length": self.season_length, "ets": spec}

    def describe(self) -> dict[str, Any]:
        fitted = self._model.model_
        return {
            "season_length": self.season_length,
            "method": str(fitted["method"]),
            "aicc": _json_float(fitted.get("aicc")),
            "sigma2": _json_float(fitted.get("sigma2")),
        }


class AutoARIMA(StatsforecastModel):
    """statsforecast's AutoARIMA (Hyndman-Khandakar stepwise search, as R forecast::auto.arima), default settings.

    Warm start: yesterday's orders (and mean/drift terms) are refitted without the search.
    """

    name = "auto_arima"

    def warm_start(self, state: Mapping[str, Any] | None) -> AutoARIMA:
        state = state or {}
        ok = state.get("season_length") == self.season_length and isinstance(state.get("order"), list)
        self._spec: dict[str, Any] | None = dict(state) if ok else None
        return self

    def _search(self) -> Any:
        from statsforecast.models import AutoARIMA as StatsforecastARIMA

        return StatsforecastARIMA(season_length=self.season_length)

    def _build(self, values: np.ndarray) -> Any:
        from statsforecast.models import ARIMA

        spec = getattr(self, "_spec", None)
        if not spec:
            return self._search()
        return ARIMA(
            order=tuple(spec["order"]),
            seasonal_order=tuple(spec["seasonal_order"][:3]),
            season_length=self.season_length,
            include_mean=bool(spec.get("mean", True)),
            include_drift=bool(spec.get("drift", False)),
            method="CSS",  # the orders are known: conditional sum of squares refits them in milliseconds
        )

    def fit_state(self) -> dict[str, Any] | None:
        described = self.describe()
        coef = self._model.model_.get("coef") or {}
        return {
            "season_length": self.season_length,
            "order": described["order"],
            "seasonal_order": described["seasonal_order"],
            "mean": "intercept" in coef,
            "drift": "drift" in coef,
        }

    def describe(self) -> dict[str, Any]:
        p, q, sp, sq, period, d, sd = (int(v) for v in self._model.model_["arma"])
        return {
            "season_length": self.season_length,
            "order": [p, d, q],
            "seasonal_order": [sp, sd, sq, period],
            "aicc": _json_float(self._model.model_.get("aicc")),
        }


class QuickAutoARIMA(AutoARIMA):
    """AutoARIMA for the ensemble: the same stepwise search over smaller orders (p, q <= 3, P, Q <= 1) with the
    CSS approximation, a few times faster than the default; the baseline `auto_arima` keeps the defaults."""

    def _search(self) -> Any:
        from statsforecast.models import AutoARIMA as StatsforecastARIMA

        return StatsforecastARIMA(
            season_length=self.season_length, max_p=3, max_q=3, max_P=1, max_Q=1, approximation=True
        )


class Theta(StatsforecastModel):
    """statsforecast's AutoTheta: the best of the standard, optimised and dynamic Theta models, seasonally adjusted
    by classical decomposition when a seasonality test says so."""

    name = "theta"

    def _build(self, values: np.ndarray) -> Any:
        from statsforecast.models import AutoTheta

        return AutoTheta(season_length=self.season_length)


class MSTL(StatsforecastModel):
    """statsforecast's MSTL: STL with the daily season, plus the weekly one (7 seasons) when the history
    holds at least two weeks; the deseasonalised rest forecast by AutoETS (trend only, ZZN), whose
    intervals the repeated seasonal pattern is added to."""

    name = "mstl"

    def seasons_for(self, length: int) -> list[int]:
        """The season lengths used for a history of `length` steps: for daily data (season 7) the week, and the
        year once two years are there; otherwise the day, and the week once two weeks are there."""
        if self.season_length == WEEK_IN_DAYS:
            return [WEEK_IN_DAYS, YEAR_IN_DAYS] if length >= 2 * YEAR_IN_DAYS else [WEEK_IN_DAYS]
        weekly = WEEK_IN_DAYS * self.season_length
        return [self.season_length, weekly] if length >= 2 * weekly else [self.season_length]

    def _build(self, values: np.ndarray) -> Any:
        from statsforecast.models import MSTL as StatsforecastMSTL
        from statsforecast.models import AutoETS as StatsforecastETS

        self._seasons = self.seasons_for(len(values))
        spec = getattr(self, "_trend_spec", None)
        trend = StatsforecastETS(model=spec[:3], damped=spec[3] == "d") if spec else StatsforecastETS(model="ZZN")
        return StatsforecastMSTL(season_length=self._seasons, trend_forecaster=trend)

    def warm_start(self, state: Mapping[str, Any] | None) -> MSTL:
        """Reuse yesterday's trend model (e.g. "AAdN") instead of searching it again."""
        spec = (state or {}).get("trend_ets")
        ok = isinstance(spec, str) and len(spec) == 4 and (state or {}).get("season_length") == self.season_length
        self._trend_spec: str | None = spec if ok else None
        return self

    def fit_state(self) -> dict[str, Any] | None:
        components = str(self._model.trend_forecaster.model_["components"])
        spec = components[:3] + ("d" if components[3:4] == "D" else "n")
        return {"season_length": self.season_length, "trend_ets": spec}

    def describe(self) -> dict[str, Any]:
        trend = self._model.trend_forecaster.model_
        return {"season_length": self.season_length, "seasons": self._seasons, "trend": str(trend["method"])}


def _json_float(value: Any) -> float | None:
    """A float for JSON columns, or None for missing/NaN/inf (PostgreSQL's JSON refuses NaN)."""
    if value is None:
        return None
    number = float(value)
    return number if np.isfinite(number) else None
