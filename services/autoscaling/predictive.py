"""Headroom's predictive scaling policy: a quantile plan launched ahead of the load, over a reactive floor.

At each step the plan for the step `lead` ahead is a point forecast plus a quantile of that forecaster's recent
errors, in whole instances; a reactive floor (target tracking at a high target utilisation) catches what the
forecast misses. Two refinements use the protocol's asymmetry and the plan's own misses:
- release check: capacity is launched `lead` steps ahead on that forecast, but a scale-in takes effect at the next
  step, so one step before, a fresh one-step-ahead plan may release what is no longer needed;
- miss guard: after a step on which the plan was short, the floor falls back to the group's own target
  utilisation for some hours (a regime change the plan's error history has not seen yet).
Which forecaster, quantile, floor, release check and guard is decided per series by replaying every candidate on
the last weeks of its history (never the data it is then judged on) and keeping the one with the least
cost + penalty x share of under-provisioned steps: the trade-off is priced once for every series
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
GUARD_HOURS = (0.0, 1.0, 3.0, 6.0, 24.0)  # how long the floor keeps the group's target after a miss (0: no guard)


@dataclass(frozen=True)
class PlanChoice:
    """The plan a series uses, and how it did when replayed on the last weeks of history."""

    span: int
    seasonal: bool
    scaling: str
    quantile: float  # the forecast-error quantile provisioned for
    floor_utilisation: float
    release_check: bool  # a one-step-ahead plan may release capacity launched on the `lead`-ahead one
    guard_hours: float  # after a miss the floor tracks the group's target utilisation this long (0: never)
    replay_instances: float  # mean instances per step on the replayed weeks
    replay_under: float  # share of those steps under-provisioned: the plan's stated risk

    def describe(self) -> str:
        level = "last value" if self.span == 1 else f"EWMA({self.span}) level"
        guard = f", back to the target for {self.guard_hours:g} h after a miss" if self.guard_hours else ""
        return (f"{level}{' + daily change' if self.seasonal else ''}, q{self.quantile:g} of {self.scaling} "
                f"errors{', release check' if self.release_check else ''}, floor U {self.floor_utilisation:g}{guard}; "
                f"short on {self.replay_under:.2%} of replayed steps")


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


PlanKey = tuple[int, bool, str, float, bool]  # span, seasonal, scaling, quantile, release check


def candidate_plans(trace: Trace, settings: ScalingSettings) -> dict[PlanKey, np.ndarray]:
    """Every candidate plan in instances over the whole trace, held for the scale-in delay. With a start-up longer
    than a step, each also comes with a release check: the count at k is the smaller of the plan made at k - lead
    (launched then) and the same forecaster's plan made at k - 1 (a scale-in decided then serves at k)."""
    lead = trace.lag(settings)
    hold = steps_of(settings.scale_in_delay_minutes, trace.step, at_least=1)
    observed = trace.observed
    fresh = point_forecasts(observed, trace.season, 1) if lead > 1 else {}
    out: dict[PlanKey, np.ndarray] = {}
    for (span, seasonal), forecast in point_forecasts(observed, trace.season, lead).items():
        for scaling in SCALINGS:
            for quantile in QUANTILES:
                counts = [
                    np.ceil(quantile_plan(observed, point, quantile=quantile, lead=ahead, season=trace.season,
                                          unit=trace.unit, scaling=scaling) / trace.unit - 1e-9)
                    for ahead, point in ((lead, forecast), (1, fresh.get((span, seasonal)))) if point is not None
                ]
                out[(span, seasonal, scaling, quantile, False)] = stabilise(counts[0], hold)
                if len(counts) > 1:
                    out[(span, seasonal, scaling, quantile, True)] = stabilise(np.minimum(*counts), hold)
    return out


def guarded(instances: np.ndarray, fallback: np.ndarray, trace: Trace, *, steps: int, lag: int) -> np.ndarray:
    """The miss guard: at k, at least `fallback` (the reactive floor at the group's target) if `instances` was short
    on any of the `steps` steps up to k - lag (known when the fallback's launch for k is decided)."""
    if steps <= 0:
        return instances
    miss = (trace.observed > instances * trace.unit + 1e-9).astype(np.float64)
    recent = pd.Series(miss).rolling(steps, min_periods=1).max().to_numpy()
    active = np.concatenate([np.zeros(lag), recent[:-lag]]) > 0
    return np.where(active, np.maximum(instances, fallback), instances)


def choose_plan(trace: Trace, settings: ScalingSettings) -> tuple[PlanChoice, np.ndarray]:
    """Replay every candidate (plan x floor x guard) on the last weeks of history and keep the one with the least
    cost / oracle + shortfall_penalty x under-provisioned share there. Returns it and its instances per step."""
    replay = slice(max(1, trace.start - REPLAY_DAYS * trace.season), trace.start)
    demand = trace.demand[replay]
    oracle_mean = max(float(oracle(demand, trace.unit).mean()), 1.0)
    floors = {u: reactive(trace, settings, utilisation=u) for u in FLOOR_UTILISATIONS
              if u >= settings.target_utilisation}
    fallback = reactive(trace, settings)
    lag = trace.lag(settings)
    guards = {hours: steps_of(hours * 60.0, trace.step) for hours in GUARD_HOURS}
    best: tuple[float, PlanChoice, np.ndarray] | None = None
    for (span, seasonal, scaling, quantile, release), plan in candidate_plans(trace, settings).items():
        for utilisation, floor in floors.items():
            base = np.maximum(plan, floor)
            for hours, steps in guards.items():
                instances = bound(guarded(base, fallback, trace, steps=steps, lag=lag), settings)
                held = instances[replay]
                under = float(np.nanmean(demand > held * trace.unit + 1e-9))
                mean = float(held.mean())
                loss = mean / oracle_mean + settings.shortfall_penalty * under
                if best is None or loss < best[0]:
                    choice = PlanChoice(span, seasonal, scaling, quantile, utilisation, release, hours, mean, under)
                    best = (loss, choice, instances)
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
