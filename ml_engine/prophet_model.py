"""Prophet with its default settings behind the Forecaster contract; intervals from its posterior predictive samples."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ml_engine.base import Forecast, Forecaster, ForecastError
from ml_engine.intervals import check_history, future_index, make_forecast

# Prophet turns daily seasonality on from two days of history; below two seasons there is nothing to learn.
MIN_SEASONS = 2
SAMPLING_SEED = 0  # Prophet samples from numpy's global generator; a fixed seed makes predict() repeatable


def _import_prophet() -> Any:
    """Prophet's class, imported quietly: prophet logs that plotly is missing (it only plots) and cmdstanpy logs
    every optimisation at INFO; neither helps a batch. cmdstanpy sets its logger up on first use: we do that first."""
    logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)
    try:
        from cmdstanpy.utils import get_logger
        from prophet import Prophet as MetaProphet
    except ImportError as exc:
        raise ForecastError(f"prophet: not installed ({exc}); pip install prophet") from exc
    get_logger().setLevel(logging.WARNING)
    logging.getLogger("prophet").setLevel(logging.WARNING)
    return MetaProphet


class Prophet(Forecaster):
    """Meta's Prophet, Prophet() with no arguments changed.

    Prophet computes one interval width per model, so every level comes from the same posterior
    predictive samples (its default 1000): the band at level L spans their (100-L)/2 and (100+L)/2
    percentiles; the point forecast is Prophet's yhat. Sampling is seeded, so predict() is repeatable,
    and numpy's global random state is left as it was.
    """

    name = "prophet"

    @property
    def min_length(self) -> int:
        return MIN_SEASONS * self.season_length

    def fit(self, y: pd.Series) -> Prophet:
        meta_prophet = _import_prophet()
        y = check_history(y)
        values = y.to_numpy()
        if not np.isfinite(values).all():
            raise ForecastError("prophet: history contains NaN or infinity: regularize it first")
        if len(values) < self.min_length:
            raise ForecastError(f"prophet: needs at least {self.min_length} points, got {len(values)}")
        if np.ptp(values) == 0.0:
            raise ForecastError("prophet: history is constant: there is nothing to model")
        frame = pd.DataFrame({"ds": _naive_utc(y.index), "y": values})
        init = getattr(self, "_init", None)
        try:
            try:
                self._model = meta_prophet().fit(frame, init=init) if init else meta_prophet().fit(frame)
            except (RuntimeError, ValueError, TypeError, KeyError, AttributeError):
                if not init:
                    raise
                self._model = meta_prophet().fit(frame)  # yesterday's parameters do not fit today's model shape
        except (RuntimeError, ValueError) as exc:  # cmdstan optimisation failures surface as RuntimeError
            raise ForecastError(f"prophet: fit failed ({type(exc).__name__}: {exc})") from exc
        self._index = y.index
        return self

    def predict(self, horizon: int, levels: Sequence[int] = (80, 95)) -> Forecast:
        if not hasattr(self, "_model"):
            raise ForecastError("prophet: call fit() before predict()")
        index = future_index(self._index, horizon)
        future = pd.DataFrame({"ds": _naive_utc(index)})
        wanted = sorted(set(levels))
        lower: dict[int, np.ndarray] = {}
        upper: dict[int, np.ndarray] = {}
        state = np.random.get_state()
        try:
            np.random.seed(SAMPLING_SEED)
            mean = self._model.predict(future)["yhat"].to_numpy()
            if wanted:
                samples = self._model.predictive_samples(future)["yhat"]  # shape (horizon, samples)
                for level in wanted:
                    tail = (100.0 - level) / 2.0
                    lower[level], upper[level] = np.percentile(samples, [tail, 100.0 - tail], axis=1)
        finally:
            np.random.set_state(state)
        return make_forecast(self.name, index, mean, lower, upper, self.describe())

    def warm_start(self, state: Mapping[str, Any] | None) -> Prophet:
        """Start the optimiser from yesterday's fitted parameters (Prophet's documented warm start)."""
        init = (state or {}).get("init")
        self._init: dict[str, Any] | None = None
        if isinstance(init, Mapping):  # Stan wants arrays for the vector parameters
            self._init = {k: np.asarray(v, dtype=np.float64) if isinstance(v, list) else v for k, v in init.items()}
        return self

    def fit_state(self) -> dict[str, Any] | None:
        params = self._model.params
        init: dict[str, Any] = {name: float(params[name][0][0]) for name in ("k", "m", "sigma_obs")}
        init.update({name: [float(v) for v in params[name][0]] for name in ("delta", "beta")})
        return {"init": init}

    def describe(self) -> dict[str, Any]:
        """Which seasonalities Prophet switched on for this history."""
        return {"season_length": self.season_length, "seasonalities": sorted(self._model.seasonalities)}

    def new(self) -> Prophet:
        return Prophet(season_length=self.season_length)


def _naive_utc(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Prophet refuses time zones: UTC wall time without the zone."""
    return index.tz_convert("UTC").tz_localize(None) if index.tz is not None else index
