"""The protocol's baseline policies: static peak, reactive target tracking, seasonal predictive, oracle."""

from __future__ import annotations

import numpy as np

from services.autoscaling.settings import ScalingSettings, steps_of
from services.autoscaling.simulator import in_service, oracle, stabilise
from services.autoscaling.trace import Trace

SEASON_DAYS = 7  # the seasonal baseline averages the same time of day over this many previous days


def static_peak(trace: Trace, settings: ScalingSettings) -> np.ndarray:
    """ceil(max of the last 7 days of history / (U x C)) at every step: a capacity plan without scaling."""
    recent = trace.demand[max(0, trace.start - SEASON_DAYS * trace.season) : trace.start]
    count = np.ceil(np.nanmax(recent) / (settings.target_utilisation * trace.unit) - 1e-9)
    return np.full(trace.demand.size, count)


def reactive(trace: Trace, settings: ScalingSettings, *, utilisation: float | None = None) -> np.ndarray:
    """Target tracking: desired = ceil(last observed demand / (U x C)), scale-in after the stabilisation window,
    scale-out after the start-up time."""
    target = utilisation or settings.target_utilisation
    desired = np.ceil(trace.observed / (target * trace.unit) - 1e-9)
    window = steps_of(settings.stabilisation_minutes, trace.step, at_least=1)
    return in_service(stabilise(desired, window), trace.lag(settings))


def seasonal_profile(observed: np.ndarray, season: int, days: int = SEASON_DAYS) -> np.ndarray:
    """At each step k, the mean of steps k - season, ..., k - days x season (those that exist): known a day ahead."""
    total = np.zeros(observed.size)
    count = np.zeros(observed.size)
    for back in range(1, days + 1):
        shift = back * season
        if shift >= observed.size:
            break
        total[shift:] += observed[:-shift]
        count[shift:] += 1
    return np.divide(total, count, out=np.full(observed.size, np.nan), where=count > 0)


def seasonal_predictive(trace: Trace, settings: ScalingSettings) -> np.ndarray:
    """Cloud-style predictive scaling: the 7-day mean of the same time of day / (U x C), launched ahead of time,
    with the reactive policy as a floor (the larger of the two)."""
    profile = np.nan_to_num(seasonal_profile(trace.observed, trace.season))
    planned = np.ceil(profile / (settings.target_utilisation * trace.unit) - 1e-9)
    return np.maximum(planned, reactive(trace, settings))


def perfect_foresight(trace: Trace, settings: ScalingSettings) -> np.ndarray:
    """The oracle: ceil(demand / C) at every step, no start-up time."""
    return oracle(trace.observed, trace.unit)
