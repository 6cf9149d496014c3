"""Sub-hourly input modelled as hourly: complete-hour means, and the map back to the input's steps.

High-frequency series (5-minute) are not modelled at their own step: a day of 288 steps makes seasonal
ARIMA and ETS slow and no more accurate. They are averaged over complete hours, forecast hourly, and
mapped back to their own steps as hour mean + the recent within-day profile of the deviations from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml_engine.base import Forecast, Forecaster, ForecastError
from ml_engine.intervals import check_history, future_index, make_forecast, step_of

HOUR = pd.Timedelta(hours=1)
PROFILE_DAYS = 7  # the within-hour profile is the median deviation over up to this many recent seasons


@dataclass(frozen=True)
class Resolution:
    """How a series of step `step` and season `season_length` (in steps) is modelled: `per_hour` input steps
    make one modelled step (1 = as it is); the modelled season is season_length // per_hour."""

    step: pd.Timedelta
    season_length: int
    per_hour: int = 1

    @property
    def hourly(self) -> bool:
        return self.per_hour > 1

    @property
    def model_season(self) -> int:
        return self.season_length // self.per_hour

    @property
    def name(self) -> str:
        return "hourly" if self.hourly else "native"


def resolution_for(step: pd.Timedelta, season_length: int, length: int) -> Resolution:
    """Hourly when the step divides an hour, the season is whole hours and two hourly seasons are there; else native."""
    if step < HOUR and HOUR % step == pd.Timedelta(0):
        per_hour = int(HOUR // step)
        if season_length % per_hour == 0 and length >= 2 * season_length + 2 * per_hour:
            return Resolution(step, season_length, per_hour)
    return Resolution(step, season_length, 1)


def hourly_means(y: pd.Series, per_hour: int) -> pd.Series:
    """Means of consecutive blocks of per_hour steps aligned to the end of y (a partial block at its start
    left out), so the last modelled hour holds the latest observations; indexed by each block's first step."""
    blocks = len(y) // per_hour
    values = y.to_numpy(dtype=np.float64)[len(y) - blocks * per_hour :].reshape(blocks, per_hour).mean(axis=1)
    start = y.index[len(y) - blocks * per_hour] if blocks else y.index[-1]
    return pd.Series(values, index=pd.date_range(start, periods=blocks, freq=HOUR), name=y.name)


def hours_needed(steps: int, per_hour: int) -> int:
    """Hourly blocks that cover `steps` steps after the end of the history."""
    return -(-steps // per_hour)


def to_steps(hourly_forecast: np.ndarray, steps: int, per_hour: int) -> np.ndarray:
    """The hourly forecast read at each of the next `steps` steps (block j // per_hour)."""
    return np.repeat(np.asarray(hourly_forecast, dtype=np.float64), per_hour)[:steps]


def within_hour_profile(y: pd.Series, season_length: int, days: int = PROFILE_DAYS) -> np.ndarray:
    """Median deviation of y from its hourly block's mean at each position of the season (steps since y's
    start, modulo season_length), over the last `days` whole seasons; zeros when y is shorter than a season."""
    seasons = min(days, len(y) // season_length)
    if seasons < 1:
        return np.zeros(season_length)
    per_hour = max(1, int(HOUR // (y.index[1] - y.index[0])))
    recent = y.to_numpy(dtype=np.float64)[-seasons * season_length :].reshape(-1, per_hour)
    recent = (recent - recent.mean(axis=1, keepdims=True)).reshape(seasons, season_length)
    start = (len(y) - seasons * season_length) % season_length
    return np.roll(np.median(recent, axis=0), start)


def profile_ahead(profile: np.ndarray, length: int, horizon: int) -> np.ndarray:
    """The profile at the horizon steps that follow a history of `length` steps."""
    return profile[(length + np.arange(horizon)) % profile.size]


class Hourly(Forecaster):
    """Any forecaster run on the hourly means of a sub-hourly series and read back at the series' own steps
    (each hour's mean and bands repeated over its steps); a series already hourly or coarser goes straight through.
    `headroom eval` uses it for AutoARIMA on 5-minute data, where a 288-step season does not finish."""

    def __init__(self, inner: Forecaster) -> None:
        super().__init__(season_length=inner.season_length)
        self.inner = inner
        self.name = f"{inner.name}_hourly"

    def new(self) -> Hourly:
        return Hourly(self.inner.new())

    def fit(self, y: pd.Series) -> Hourly:
        y = check_history(y)
        self._index = y.index
        self._resolution = resolution_for(step_of(y.index), self.season_length, len(y))
        per_hour = self._resolution.per_hour
        season = self._resolution.model_season
        self._model = self.inner.new() if per_hour == 1 else type(self.inner)(season_length=season)
        self._model.fit(hourly_means(y, per_hour) if per_hour > 1 else y)
        return self

    def predict(self, horizon: int, levels: Sequence[int] = (80, 95)) -> Forecast:
        if not hasattr(self, "_model"):
            raise ForecastError(f"{self.name}: call fit() before predict()")
        per_hour = self._resolution.per_hour
        inner = self._model.predict(hours_needed(horizon, per_hour), levels)
        index = future_index(self._index, horizon)

        def read(s: pd.Series) -> np.ndarray:
            return to_steps(s.to_numpy(), horizon, per_hour)

        lower = {lvl: read(s) for lvl, s in inner.lower.items()}
        upper = {lvl: read(s) for lvl, s in inner.upper.items()}
        params = {**inner.params, "resolution": self._resolution.name}
        return make_forecast(self.name, index, read(inner.mean), lower, upper, params)
