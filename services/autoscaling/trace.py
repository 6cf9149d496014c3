"""A demand trace split the protocol's way: history, then the last 7 days as the evaluation window."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from services.autoscaling.settings import ScalingSettings, steps_of

WINDOW = pd.Timedelta(days=7)
UNIT_PERCENTILE = 99.0  # C = p99(history) / INSTANCES_AT_P99
INSTANCES_AT_P99 = 10


class TraceError(ValueError):
    """A series the protocol cannot score (too short, no positive demand); the message says why."""


@dataclass(frozen=True)
class Trace:
    """A demand series on a regular grid for the simulator: history before `start`, evaluation window after.

    `demand` holds NaN where the series has a long gap; `observed` carries the last value forward, which is all a
    policy deciding at that step could know.
    """

    name: str
    demand: np.ndarray
    start: int
    unit: float  # C: demand one instance serves
    step: pd.Timedelta
    index: pd.DatetimeIndex

    @property
    def season(self) -> int:
        """Steps per day (the protocol's season)."""
        return max(1, int(pd.Timedelta(days=1) / self.step))

    @property
    def observed(self) -> np.ndarray:
        return pd.Series(self.demand).ffill().fillna(0.0).to_numpy()

    @property
    def window(self) -> np.ndarray:
        return self.demand[self.start :]

    def lag(self, settings: ScalingSettings) -> int:
        return steps_of(settings.launch_lead_minutes, self.step, at_least=1)


def split_trace(name: str, y: pd.Series) -> Trace:
    """The protocol's split of a cleaned series (regular UTC grid, NaN in long gaps): values below 0 count as 0,
    window = the last 7 days, history = everything before (at least 7 days), C = p99(history) / 10."""
    if len(y) < 2:
        raise TraceError(f"{name}: {len(y)} point(s); at least two weeks of data are needed")
    step = pd.Timedelta(y.index[1] - y.index[0])
    window = int(WINDOW / step)
    raw = y.to_numpy(dtype=np.float64, copy=True)
    demand = np.where(np.isnan(raw), np.nan, np.maximum(raw, 0.0))
    start = len(demand) - window
    if start < window:
        days = len(demand) * step / pd.Timedelta(days=1)
        raise TraceError(f"{name}: {days:.1f} days of data; the protocol needs 7 days of history before 7 days "
                         "of evaluation")
    history = demand[:start]
    p99 = float(np.nanpercentile(history, UNIT_PERCENTILE)) if np.isfinite(history).any() else 0.0
    if not p99 > 0:
        raise TraceError(f"{name}: the history's p99 is {p99:g}, so one instance's capacity would be zero")
    return Trace(name=name, demand=demand, start=start, unit=p99 / INSTANCES_AT_P99, step=step,
                 index=pd.DatetimeIndex(y.index))
