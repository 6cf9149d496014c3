"""`headroom` in `headroom eval`: the product's model run the way the daily retrain runs it.

The retrain (services.forecasting.training) fits the ensemble, global network included, on the last
`forecasting.history_days` of each series, warm-started from the state the series' previous version left (same
weights, serving order, calibrated intervals and member models, with a fresh backtest once that state is
`refresh_days` old). The benchmark does the same at each rolling origin: the history before the origin is cut to
the same number of days, and the state of the same series' previous (earlier) origin is handed to the next fit,
so a 5-minute series (origins a day apart) is fitted cold once and refitted warm, as in production, while an
hourly one (origins a week apart) is fitted cold at every origin. A state is only ever passed forward in time:
nothing a later origin saw can reach an earlier one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from ml_engine import Forecast, Forecaster, make_forecaster
from ml_engine.nn import GlobalNN


@dataclass
class ProductRuns:
    """A factory of the product's forecaster for one `headroom eval` run, keeping each series' latest state."""

    global_nn: GlobalNN | None
    history_days: int
    states: dict[str, tuple[pd.Timestamp, dict[str, Any]]] = field(default_factory=dict)

    def __call__(self, season_length: int) -> Forecaster:
        return ProductForecaster(self, season_length)


class ProductForecaster(Forecaster):
    """The ensemble fitted on the last history_days, warm from the same series' previous origin (by y.name)."""

    name = "ensemble"

    def __init__(self, runs: ProductRuns, season_length: int) -> None:
        super().__init__(season_length=season_length)
        self.runs = runs
        self.inner = make_forecaster("ensemble", season_length, runs.global_nn)

    def new(self) -> ProductForecaster:
        return ProductForecaster(self.runs, self.season_length)

    def fit(self, y: pd.Series) -> ProductForecaster:
        end = y.index[-1]
        recent = y[y.index > end - pd.Timedelta(days=self.runs.history_days)]
        self._key = str(y.name or "")
        self._end = end
        previous = self.runs.states.get(self._key)
        if previous is not None and previous[0] < end:  # only an earlier origin's state, never a later one's
            self.inner.warm_start(previous[1])
        self.inner.fit(recent.rename(y.name))
        return self

    def predict(self, horizon: int, levels: Sequence[int] = (80, 95)) -> Forecast:
        forecast = self.inner.predict(horizon, levels)
        state = self.inner.fit_state()
        known = self.runs.states.get(self._key)
        if state is not None and (known is None or known[0] < self._end):
            self.runs.states[self._key] = (self._end, state)
        return forecast
