"""One scalable group end to end: its demand history to a 48-hour plan, the reactive part, and a platform policy."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ml_engine import make_forecaster
from services.autoscaling.emit import CapacityPlan, PlanError, aws, azure, gcp, kubernetes
from services.autoscaling.plan import PLAN_HOURS, capacity_plan, hourly_instances
from services.autoscaling.predictive import PlanChoice, choose_plan
from services.autoscaling.settings import ScalingSettings
from services.autoscaling.trace import Trace, split_trace

PLATFORMS: dict[str, Callable[[CapacityPlan], dict[str, Any]]] = {
    "aws-scheduled": aws.scheduled_actions,
    "aws-target-tracking": aws.target_tracking_policy,
    "aws-predictive": aws.predictive_scaling_policy,
    "gcp": gcp.autoscaling_policy,
    "azure": lambda plan: azure.autoscale_setting(plan, f"<resource id of {plan.group}>", "<location>"),
    "keda": kubernetes.scaled_object,
    "hpa": kubernetes.horizontal_pod_autoscaler,
}


@dataclass(frozen=True)
class GroupPlan:
    """A group's plan and the evidence behind it: the replayed policy choice on its own history."""

    plan: CapacityPlan
    choice: PlanChoice
    unit: float


def hourly_demand(y: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Hourly means and within-hour peaks (max) of a demand series; hours without data interpolated."""
    clean = y.clip(lower=0.0)
    hourly = clean.resample("1h")
    return (hourly.mean().interpolate(limit_direction="both"), hourly.max().interpolate(limit_direction="both"))


def plan_group(
    group: str, y: pd.Series, *, settings: ScalingSettings, max_size: int, unit: float | None = None,
    model: str = "seasonal_naive",
) -> GroupPlan:
    """The next 48 hours for a group whose demand history is `y` (regular UTC grid): forecast hourly mean and peak
    with `model`, size each hour at `settings.risk`, and recommend the reactive part's target from the policy
    replayed on the group's own last weeks. `unit` = demand one instance serves (default p99 of history / 10)."""
    trace = split_trace(group, y)
    unit = unit or trace.unit
    choice, _ = choose_plan(_with_unit(trace, unit), settings)
    means, peaks = hourly_demand(y)
    forecasts = []
    for series in (means, peaks):
        forecaster = make_forecaster(model, season_length=24).fit(series)
        forecasts.append(forecaster.predict(PLAN_HOURS, levels=(80, 95)))
    bounded = settings.model_copy(update={"max_instances": max_size})
    instances = hourly_instances(forecasts[0], unit=unit, settings=bounded, peak=forecasts[1])
    plan = capacity_plan(group, instances, bounded, max_size=max_size, target_utilisation=choice.floor_utilisation)
    return GroupPlan(plan=plan, choice=choice, unit=unit)


def _with_unit(trace: Trace, unit: float) -> Trace:
    return Trace(name=trace.name, demand=trace.demand, start=trace.start, unit=unit, step=trace.step,
                 index=trace.index)


def emit(plan: CapacityPlan, platform: str) -> dict[str, Any]:
    """The plan in `platform`'s form (see PLATFORMS)."""
    if platform not in PLATFORMS:
        raise PlanError(f"unknown platform {platform!r}: choose one of {', '.join(PLATFORMS)}")
    return PLATFORMS[platform](plan)

