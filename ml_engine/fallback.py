"""WithFallback: a forecaster that never fails a batch: short, constant, NaN or unfittable series get a naive model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ml_engine.base import Forecast, Forecaster, ForecastError
from ml_engine.domain import Domain, domain_for
from ml_engine.intervals import check_history, is_finite, order_bands
from ml_engine.naive import Naive, SeasonalNaive


def fallback_for(y: pd.Series, season_length: int) -> Forecaster:
    """SeasonalNaive when y holds more than one season, else Naive."""
    seasonal = SeasonalNaive(season_length=season_length)
    return seasonal if len(y) >= seasonal.min_length else Naive(season_length=season_length)


def fill_missing(y: pd.Series) -> pd.Series:
    """NaN and infinity replaced by linear interpolation, then carried to the ends."""
    clean = y.where(np.isfinite(y))
    return clean.interpolate(method="linear", limit_direction="both")


class WithFallback(Forecaster):
    """Fits the primary model; when it refuses the history (too short, constant, NaNs), raises, or
    predicts non-finite values, the fallback answers instead and Forecast.params["fallback"]
    says from what, to what and why.

    bounded: whatever answers is clipped to the metric's domain (`domain`, or when None the one inferred from the
    history and its name: ml_engine.domain.domain_for), so the fallback stays as physical as the primary.
    """

    def __init__(self, primary: Forecaster, bounded: bool = False, domain: Domain | None = None) -> None:
        super().__init__(season_length=primary.season_length)
        self.primary = primary
        self.name = primary.name
        self.bounded = bounded or domain is not None
        self.domain = domain

    def new(self) -> WithFallback:
        return WithFallback(self.primary.new(), self.bounded, self.domain)

    def warm_start(self, state: Mapping[str, Any] | None) -> WithFallback:
        self.primary.warm_start(state)
        return self

    def fit_state(self) -> dict[str, Any] | None:
        return None if getattr(self, "_fallback", None) is not None else self.primary.fit_state()

    def fit(self, y: pd.Series) -> WithFallback:
        y = check_history(y)
        if not np.isfinite(y.to_numpy()).any():
            raise ForecastError(f"{self.name}: history has no finite value to fit")
        self._history = fill_missing(y)
        self._domain = self.domain or domain_for(self._history.to_numpy(), name=str(y.name or ""))
        self._fallback: Forecaster | None = None
        self._reason = ""
        try:
            self.primary.fit(y)  # each model refuses what it cannot fit: too short, NaN, constant...
        except Exception as exc:  # noqa: BLE001 - any failure of the primary is what the fallback is for
            self._reason = _reason(exc)
            self._use_fallback()
        return self

    def _use_fallback(self) -> None:
        self._fallback = fallback_for(self._history, self.season_length).fit(self._history)

    def predict(self, horizon: int, levels: Sequence[int] = (80, 95)) -> Forecast:
        if not hasattr(self, "_history"):
            raise ForecastError(f"{self.name}: call fit() before predict()")
        if self._fallback is None:
            try:
                forecast = self.primary.predict(horizon, levels)
                if is_finite(forecast):
                    return self._bound(order_bands(forecast))
                self._reason = "predicted non-finite values"
            except Exception as exc:  # noqa: BLE001 - as in fit
                self._reason = _reason(exc)
            self._use_fallback()
        assert self._fallback is not None
        forecast = self._fallback.predict(horizon, levels)
        forecast.params["fallback"] = {"from": self.name, "to": self._fallback.name, "reason": self._reason}
        return self._bound(forecast)

    def _bound(self, forecast: Forecast) -> Forecast:
        return self._domain.apply(forecast) if self.bounded else forecast


def _reason(exc: Exception) -> str:
    """The message of our own errors; type and message of anything else."""
    return str(exc) if isinstance(exc, ForecastError) else f"{type(exc).__name__}: {exc}"
