"""Headroom's predictive scaling policy: a quantile plan launched ahead of the load, over a reactive floor.

At each step the plan for the step `lead` ahead is a point forecast plus a quantile of that forecaster's recent
errors, in whole instances; a reactive floor (target tracking at a high target utilisation) catches what the
forecast misses. Which forecaster, which quantile and which floor is decided per series by replaying every
candidate on the last weeks of its history (never the data it is then judged on) and keeping the one with the
least cost + penalty x share of under-provisioned steps: the trade-off is priced once for every series
(`ScalingSettings.shortfall_penalty`), and each plan states the share it was short on its replayed weeks.
Nothing here reads a value observed after the decision it informs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from services.autoscaling.baselines import reactive, seasonal_profile
from services.autoscaling.settings import ScalingSettings, steps_of
from services.autoscaling.simulator import oracle, stabilise
from services.autoscaling.trace import Trace

LEVEL_SPANS = (1, 3, 6, 12)  # EWMA spans in steps of the recent level (1: the last value)
ERROR_DAYS = 7  # errors of the trailing week set a plan's quantile
REPLAY_DAYS = 28  # the candidates are replayed on up to this many days before the evaluated window
SCALINGS = ("additive", "sqrt")  # errors as they are, or relative to sqrt(level) (counts, Poisson-like noise)
QUANTILES = (0.5, 0.75, 0.9, 0.95, 0.98, 0.99, 0.995)  # forecast-error quantiles a plan may provision for
FLOOR_UTILISATIONS = (0.7, 0.8, 0.9, 1.0)  # target utilisations the reactive floor may track


@dataclass(frozen=True)
class PlanChoice:
    """The plan a series uses, and how it did when replayed on the last weeks of history."""

    span: int
    seasonal: bool
    scaling: str
    quantile: float  # the forecast-error quantile provisioned for
    floor_utilisation: float
    replay_instances: float  # mean instances per step on the replayed weeks
    replay_under: float  # share of those steps under-provisioned: the plan's stated risk

    def describe(self) -> str:
        level = "last value" if self.span == 1 else f"EWMA({self.span}) level"
        return (f"{level}{' + daily change' if self.seasonal else ''}, q{self.quantile:g} of {self.scaling} "
                f"errors, floor U {self.floor_utilisation:g}; short on {self.replay_under:.2%} of replayed steps")


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
    observed: np.ndarray, forecast: np.ndarray, *, quantile: float, lead: int, season: int, unit: float, scaling: str
) -> np.ndarray:
    """Demand to provision for at each step: forecast + the `quantile` of the trailing week's errors known `lead`
    steps before; before a day of errors exists, the worst error seen so far (or none)."""
    scale = np.ones_like(forecast) if scaling == "additive" else np.sqrt(np.maximum(forecast, unit))
    errors = (observed - forecast) / scale
    rolling = pd.Series(errors).rolling(ERROR_DAYS * season, min_periods=season).quantile(quantile).to_numpy()
    known = _shift(rolling, lead, np.nan)
    worst = _shift(pd.Series(errors).expanding().max().to_numpy(), lead, 0.0)
    return np.maximum(forecast + np.where(np.isnan(known), worst, known) * scale, 0.0)


def candidate_plans(trace: Trace, settings: ScalingSettings) -> dict[tuple[int, bool, str, float], np.ndarray]:
    """Every candidate plan in instances over the whole trace, held for the scale-in delay."""
    lead = trace.lag(settings)
    hold = steps_of(settings.scale_in_delay_minutes, trace.step, at_least=1)
    observed = trace.observed
    out = {}
    for (span, seasonal), forecast in point_forecasts(observed, trace.season, lead).items():
        for scaling in SCALINGS:
            for quantile in QUANTILES:
                demand = quantile_plan(observed, forecast, quantile=quantile, lead=lead, season=trace.season,
                                       unit=trace.unit, scaling=scaling)
                out[(span, seasonal, scaling, quantile)] = stabilise(np.ceil(demand / trace.unit - 1e-9), hold)
    return out


def choose_plan(trace: Trace, settings: ScalingSettings) -> tuple[PlanChoice, np.ndarray]:
    """Replay every candidate (plan x floor) on the last weeks of history and keep the one with the least
    cost / oracle + shortfall_penalty x under-provisioned share there. Returns it and its instances per step."""
    replay = slice(max(1, trace.start - REPLAY_DAYS * trace.season), trace.start)
    demand = trace.demand[replay]
    oracle_mean = max(float(oracle(demand, trace.unit).mean()), 1.0)
    floors = {u: reactive(trace, settings, utilisation=u) for u in FLOOR_UTILISATIONS
              if u >= settings.target_utilisation}
    best: tuple[float, PlanChoice, np.ndarray] | None = None
    for (span, seasonal, scaling, quantile), plan in candidate_plans(trace, settings).items():
        for utilisation, floor in floors.items():
            instances = bound(np.maximum(plan, floor), settings)
            held = instances[replay]
            under = float(np.nanmean(demand > held * trace.unit + 1e-9))
            mean = float(held.mean())
            loss = mean / oracle_mean + settings.shortfall_penalty * under
            if best is None or loss < best[0]:
                best = (loss, PlanChoice(span, seasonal, scaling, quantile, utilisation, mean, under), instances)
    if best is None:  # the candidate families are never empty
        raise RuntimeError("no candidate plan")
    return best[1], best[2]


def bound(instances: np.ndarray, settings: ScalingSettings) -> np.ndarray:
    """Clip a count to the group's minimum and maximum size."""
    upper = settings.max_instances if settings.max_instances is not None else np.inf
    return np.clip(instances, settings.min_instances, upper)


def predictive(trace: Trace, settings: ScalingSettings) -> np.ndarray:
    """Headroom's policy on a trace: the plan chosen on the last weeks of history, over its reactive floor;
    instances in service per step."""
    return choose_plan(trace, settings)[1]
