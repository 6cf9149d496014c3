"""The Forecaster contract: fit(y) -> self, predict(horizon, levels) -> Forecast, new() for a fresh copy.

ml_engine is a pure library: pandas/numpy in, forecasts out. It imports nothing else of Headroom.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


class ForecastError(RuntimeError):
    """A model could not be fitted or asked to predict; the message says why."""


@dataclass
class Forecast:
    """Point forecast and prediction intervals on a regular future index.

    mean: pd.Series indexed by UTC timestamps; lower[level] / upper[level]: same index, for each
    level in percent (e.g. 80, 95).
    """

    model: str
    mean: pd.Series
    lower: dict[int, pd.Series] = field(default_factory=dict)
    upper: dict[int, pd.Series] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Columns mean, lo80, hi80, lo95, hi95 ... indexed by timestamp."""
        frame = pd.DataFrame({"mean": self.mean})
        for level in sorted(self.lower):
            frame[f"lo{level}"] = self.lower[level]
            frame[f"hi{level}"] = self.upper[level]
        return frame


class Forecaster(ABC):
    """A forecasting model. y is a float series on a regular UTC DatetimeIndex without gaps (NaN allowed
    only if the model says so); season_length is in steps of y."""

    name: str

    def __init__(self, season_length: int = 24) -> None:
        self.season_length = season_length

    @abstractmethod
    def fit(self, y: pd.Series) -> Forecaster:
        """Fit on history y; returns self."""

    @abstractmethod
    def predict(self, horizon: int, levels: Sequence[int] = (80, 95)) -> Forecast:
        """The next `horizon` steps after the end of y, with intervals at each level."""

    def new(self) -> Forecaster:
        """A fresh, unfitted copy with the same settings."""
        return type(self)(season_length=self.season_length)

    # Warm start, the contract of the daily refit:
    #   forecast = make_forecaster(name, m).warm_start(previous.params.get("state")).fit(y).predict(h, levels)
    #   store forecast.params; tomorrow pass params["state"] back to warm_start() before fit().
    # state is JSON-safe (plain dicts, lists, str, int, float, bool, None). A model uses what it can of it
    # (chosen ARIMA orders, the ETS model, ensemble weights and calibrated intervals) and ignores a state it
    # cannot use (None, another model's, another season, an older format), so passing it is always safe.

    def warm_start(self, state: Mapping[str, Any] | None) -> Forecaster:
        """Remember what yesterday's fit chose, to be reused by the next fit(); returns self. Default: ignored."""
        return self

    def fit_state(self) -> dict[str, Any] | None:
        """After fit(): the JSON-safe state warm_start() accepts, or None when the model has nothing to keep."""
        return None
