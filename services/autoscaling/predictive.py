"""Headroom's predictive scaling policy: a quantile plan launched ahead of the load, over a reactive floor.

At each step the plan for the step `lead` ahead is a point forecast plus the (1 - risk) quantile of that
forecaster's recent errors, in instances. The forecaster is chosen per series from a small family (recent level,
smoothed or not, with or without the day's seasonal change) by the capacity each would have planned over the
last week of history, which the choice never sees twice: errors are measured on data before each decision only.
A reactive floor at a high target utilisation catches what the forecast misses (a level shift, a spike that
lasts). Nothing here reads a value observed after the decision it informs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from services.autoscaling.baselines import reactive, seasonal_profile
from services.autoscaling.settings import ScalingSettings, steps_of
from services.autoscaling.simulator import stabilise
from services.autoscaling.trace import Trace

LEVEL_SPANS = (1, 3, 6, 12)  # EWMA spans in steps of the recent level (1: the last value)
ERROR_DAYS = 7  # errors of the trailing week set the quantile
SCALINGS = ("additive", "sqrt")  # errors as they are, or relative to sqrt(level) (counts, Poisson-like noise)


@dataclass(frozen=True)
class PlanChoice:
    """The forecaster a series' plan uses, and the capacity it planned on the calibration week."""

    span: int
    seasonal: bool
    scaling: str
    calibration_instances: float

    def describe(self) -> str:
        level = "last value" if self.span == 1 else f"EWMA({self.span}) level"
        return f"{level}{' + daily change' if self.seasonal else ''}, {self.scaling} errors"


def _shift(values: np.ndarray, lag: int, fill: float) -> np.ndarray:
    """values[k - lag] at k: what was known `lag` steps before."""
    return np.concatenate([np.full(lag, fill), values[:-lag]])


def point_forecasts(observed: np.ndarray, season: int, lead: int) -> dict[tuple[int, bool], np.ndarray]:
    """Each candidate's forecast of step k made at k - lead: recent level, optionally plus the seasonal profile's
    change between k - lead and k (the profile at k only uses days before k, so it is known at k - lead)."""
    profile = seasonal_profile(observed, season)
    profile = np.where(np.isnan(profile), observed, profile)
    change = profile - _shift(profile, lead, profile[0])
    out: dict[tuple[int, bool], np.ndarray] = {}
    for span in LEVEL_SPANS:
        level = observed if span == 1 else pd.Series(observed).ewm(span=span).mean().to_numpy()
        known = _shift(level, lead, observed[0])
        out[(span, False)] = known
        out[(span, True)] = np.maximum(known + change, 0.0)
    return out


def quantile_plan(
    observed: np.ndarray, forecast: np.ndarray, *, risk: float, lead: int, season: int, unit: float, scaling: str
) -> np.ndarray:
    """Demand to provision for at each step: forecast + the (1 - risk) quantile of the trailing week's errors known
    `lead` steps before; before a day of errors exists, the worst error seen so far (or none)."""
    scale = np.ones_like(forecast) if scaling == "additive" else np.sqrt(np.maximum(forecast, unit))
    errors = (observed - forecast) / scale
    rolling = pd.Series(errors).rolling(ERROR_DAYS * season, min_periods=season).quantile(1.0 - risk).to_numpy()
    known = _shift(rolling, lead, np.nan)
    fallback = float(np.nanmax(known)) if np.isfinite(known).any() else 0.0
    return np.maximum(forecast + np.where(np.isnan(known), fallback, known) * scale, 0.0)


def choose_plan(trace: Trace, settings: ScalingSettings) -> tuple[PlanChoice, np.ndarray]:
    """Every candidate's plan in instances over the whole trace; the one that planned least over the last week of
    history (before the window) is chosen. Every candidate plans at the same risk, so the cheapest is the sharpest."""
    lead = trace.lag(settings)
    observed = trace.observed
    calibration = slice(max(0, trace.start - ERROR_DAYS * trace.season), trace.start)
    best: tuple[PlanChoice, np.ndarray] | None = None
    for (span, seasonal), forecast in point_forecasts(observed, trace.season, lead).items():
        for scaling in SCALINGS:
            demand = quantile_plan(observed, forecast, risk=settings.risk, lead=lead, season=trace.season,
                                   unit=trace.unit, scaling=scaling)
            instances = np.ceil(demand / trace.unit - 1e-9)
            mean = float(instances[calibration].mean())
            if best is None or mean < best[0].calibration_instances:
                best = (PlanChoice(span, seasonal, scaling, mean), instances)
    if best is None:  # LEVEL_SPANS and SCALINGS are never empty
        raise RuntimeError("no candidate forecaster")
    return best


def bound(instances: np.ndarray, settings: ScalingSettings) -> np.ndarray:
    """Clip a count to the group's minimum and maximum size."""
    upper = settings.max_instances if settings.max_instances is not None else np.inf
    return np.clip(instances, settings.min_instances, upper)


def predictive(trace: Trace, settings: ScalingSettings) -> np.ndarray:
    """Headroom's policy on a trace: the chosen quantile plan, held for the scale-in delay, over a reactive floor
    at `floor_utilisation`; instances in service per step."""
    _, plan = choose_plan(trace, settings)
    hold = steps_of(settings.scale_in_delay_minutes, trace.step, at_least=1)
    floor = reactive(trace, settings, utilisation=settings.floor_utilisation)
    return bound(np.maximum(stabilise(plan, hold), floor), settings)
