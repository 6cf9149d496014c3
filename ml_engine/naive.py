"""Seasonal-naive and naive forecasters with empirical residual intervals: the baselines and the fallback."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ml_engine.base import Forecast, Forecaster, ForecastError
from ml_engine.intervals import check_history, future_index, make_forecast, residual_bands


class SeasonalNaive(Forecaster):
    """Repeats the last season; intervals from the empirical quantiles of in-sample lag-season residuals,
    widening with the square root of the number of whole seasons ahead."""

    name = "seasonal_naive"

    @property
    def lag(self) -> int:
        """Steps between an observation and the one that forecasts it."""
        return self.season_length

    @property
    def min_length(self) -> int:
        """One whole season to repeat plus at least one residual to size the intervals."""
        return self.lag + 1

    def fit(self, y: pd.Series) -> SeasonalNaive:
        y = check_history(y)
        values = y.to_numpy()
        if not np.isfinite(values).all():
            raise ForecastError(f"{self.name}: history contains NaN or infinity: regularize it first")
        if len(values) < self.min_length:
            raise ForecastError(f"{self.name}: needs at least {self.min_length} points, got {len(values)}")
        self._index = y.index
        self._last = values[-self.lag :].copy()
        self._residuals = values[self.lag :] - values[: -self.lag]
        return self

    def predict(self, horizon: int, levels: Sequence[int] = (80, 95)) -> Forecast:
        if not hasattr(self, "_last"):
            raise ForecastError(f"{self.name}: call fit() before predict()")
        index = future_index(self._index, horizon)
        mean = np.resize(self._last, horizon)  # repeats the last season cyclically
        lower, upper = residual_bands(mean, self._residuals, levels, self.lag)
        params = {"season_length": self.season_length, "residuals": int(self._residuals.size)}
        return make_forecast(self.name, index, mean, lower, upper, params)


class Naive(SeasonalNaive):
    """Repeats the last value; intervals widen like a random walk (sqrt of the steps ahead).

    season_length is kept only so that every forecaster is built the same way; the lag is 1.
    """

    name = "naive"

    @property
    def lag(self) -> int:
        return 1

    @property
    def min_length(self) -> int:
        return 1  # one point forecasts itself; with no residual the band has zero width


class WeeklyNaive(SeasonalNaive):
    """Repeats the last week of an hourly series (season 24) once the history holds two weeks, else the last day:
    the one member that carries a weekly pattern a week ahead without a model of it."""

    name = "weekly_naive"
    DAYS = 7
    HOURLY = 24  # the season of an hourly series

    def fit(self, y: pd.Series) -> SeasonalNaive:
        week = self.DAYS * self.season_length
        self._lag = week if self.season_length == self.HOURLY and len(y) >= 2 * week else self.season_length
        return super().fit(y)

    @property
    def lag(self) -> int:
        return getattr(self, "_lag", self.season_length)
