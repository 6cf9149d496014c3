"""The physical domain of a metric (utilisation 0-100%, counts and costs >= 0, a known capacity): bounds forecasts.

A forecast mean or interval edge outside the domain is impossible (a CPU below 0%, a request rate below zero), so
every forecast the ensemble serves, and every member's forecast before it is combined, is clipped to it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ml_engine.base import Forecast
from ml_engine.intervals import clip_forecast

PERCENT_UNITS = {"percent", "%", "pct"}
# a series whose name says utilisation or percent is a share of a capacity: 0..100 when its history fits in it
PERCENT_NAME = re.compile(r"util|percent|pct", re.IGNORECASE)
BOUND_TOLERANCE = 1e-9  # a value this close to a bound (relative, at least absolute) sits on it


@dataclass(frozen=True)
class Domain:
    """Closed interval [lower, upper] a metric's values live in; None = unbounded on that side."""

    lower: float | None = None
    upper: float | None = None

    def __post_init__(self) -> None:
        if self.lower is not None and self.upper is not None and self.lower > self.upper:
            raise ValueError(f"domain lower bound {self.lower} is above its upper bound {self.upper}")

    @property
    def bounded(self) -> bool:
        return self.lower is not None or self.upper is not None

    def clip(self, values: np.ndarray) -> np.ndarray:
        """values clipped into the domain (a copy)."""
        if not self.bounded:
            return np.asarray(values, dtype=np.float64).copy()
        return np.clip(np.asarray(values, dtype=np.float64), self.lower, self.upper)

    def apply(self, forecast: Forecast) -> Forecast:
        """A copy of forecast with its mean and every interval edge inside the domain, said in params["domain"]."""
        clipped = clip_forecast(forecast, self.lower, self.upper) if self.bounded else forecast
        clipped.params["domain"] = self.to_state()
        return clipped

    def contains(self, values: np.ndarray, tolerance: float = 1e-9) -> bool:
        """True when every finite value is inside the domain."""
        v = np.asarray(values, dtype=np.float64)
        v = v[np.isfinite(v)]
        low_ok = self.lower is None or bool(np.all(v >= self.lower - tolerance))
        high_ok = self.upper is None or bool(np.all(v <= self.upper + tolerance))
        return low_ok and high_ok

    def hold_bound_mass(
        self, recent: np.ndarray, lower: dict[int, np.ndarray], upper: dict[int, np.ndarray]
    ) -> dict[str, list[int]]:
        """Move a band's edge onto a bound that the recent history sits on more often than the band's tail share.

        The central band at level L runs from the (1 - L)/2 to the (1 + L)/2 quantile; when over (1 - L)/2 of the
        values sit exactly on a bound (a disk that writes nothing most of the time, a CPU pinned at 100%), that
        quantile is the bound itself, whatever residuals a backtest left around the point forecast. Edits the
        bands in place; returns the levels moved, per side.
        """
        values = np.asarray(recent, dtype=np.float64)
        values = values[np.isfinite(values)]
        moved: dict[str, list[int]] = {}
        if values.size == 0:
            return moved
        for side, bound, bands in (("lower", self.lower, lower), ("upper", self.upper, upper)):
            if bound is None:
                continue
            share = float(np.mean(_on(values, bound)))
            for level, edge in bands.items():
                if share > (1.0 - level / 100.0) / 2.0:
                    edge[:] = bound
                    moved.setdefault(side, []).append(level)
        return moved

    def median_on_bound(self, recent: np.ndarray, mean: np.ndarray, per_hour: int, *, start: int) -> list[int]:
        """Put the point forecast on a bound at the hours of the day when most of `recent` sat on it: the median
        there is the bound. `recent` starts at history position `start`; the forecast follows the history. Edits
        `mean` in place; returns those hours (counted from the history's first step, not the clock)."""
        per_day = 24 * per_hour
        values = np.asarray(recent, dtype=np.float64)
        if values.size < per_day:
            return []
        hour_of = lambda positions: (positions % per_day) // per_hour  # noqa: E731
        past = hour_of(start + np.arange(values.size))
        ahead = hour_of(start + values.size + np.arange(mean.size))
        found: list[int] = []
        for bound in (self.lower, self.upper):
            if bound is None:
                continue
            on = _on(values, bound)
            for hour in range(24):
                here = past == hour
                if here.any() and on[here].mean() > 0.5:
                    mean[ahead == hour] = bound
                    found.append(hour)
        return sorted(found)

    def to_state(self) -> dict[str, float | None]:
        return {"lower": self.lower, "upper": self.upper}

    @classmethod
    def from_state(cls, state: Mapping[str, Any] | None) -> Domain | None:
        if not isinstance(state, Mapping):
            return None
        return cls(_bound(state.get("lower")), _bound(state.get("upper")))


def domain_for(
    history: pd.Series | np.ndarray, name: str = "", unit: str = "", capacity: float | None = None
) -> Domain:
    """The domain of a metric from what is known of it: its unit, its name, a capacity, and its history.

    - unit percent, or a name that says utilisation/percent, with a history inside 0..100: [0, 100];
    - capacity (e.g. provisioned cores) given: at most the capacity;
    - a history that never went below zero (counts, bytes, requests, costs, utilisation): at least 0.
    A history with negative values gets no lower bound: the metric can be negative (a temperature, a balance).
    """
    values = np.asarray(history, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        return Domain()
    non_negative = bool(values.min() >= 0.0)
    lower = 0.0 if non_negative else None
    upper: float | None = None
    percent = unit.strip().lower() in PERCENT_UNITS or bool(PERCENT_NAME.search(name or ""))
    if percent and non_negative and values.max() <= 100.0:
        upper = 100.0
    if capacity is not None and math.isfinite(capacity) and capacity > 0 and values.max() <= capacity:
        upper = capacity if upper is None else min(upper, capacity)
    return Domain(lower, upper)


def _on(values: np.ndarray, bound: float) -> np.ndarray:
    """Which values sit on the bound: within BOUND_TOLERANCE of it, relative (absolute below 1)."""
    return np.abs(values - bound) <= BOUND_TOLERANCE * max(1.0, abs(bound))  # type: ignore[no-any-return]


def _bound(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None
