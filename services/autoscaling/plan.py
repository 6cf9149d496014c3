"""A scalable group's capacity plan for the next hours from its stored forecast, at a stated risk."""

from __future__ import annotations

import math
from datetime import datetime
from statistics import NormalDist

import numpy as np
import pandas as pd

from ml_engine.base import Forecast
from services.autoscaling.emit import CapacityPlan, PlanError
from services.autoscaling.settings import ScalingSettings

PLAN_HOURS = 48


def demand_quantile(forecast: Forecast, risk: float) -> pd.Series:
    """The forecast's (1 - risk) quantile per step: mean + z(1 - risk) x sigma, sigma read from the widest upper
    band (hi_L = mean + z((1 + L/100) / 2) x sigma); the mean alone when the forecast has no bands."""
    if not forecast.upper:
        return forecast.mean.clip(lower=0.0)
    level = max(forecast.upper)
    z_band = NormalDist().inv_cdf(0.5 + level / 200.0)
    sigma = ((forecast.upper[level] - forecast.mean) / z_band).clip(lower=0.0)
    return (forecast.mean + NormalDist().inv_cdf(1.0 - risk) * sigma).clip(lower=0.0)


def hourly_instances(
    forecast: Forecast, *, unit: float, settings: ScalingSettings, peak: Forecast | None = None,
    hours: int = PLAN_HOURS,
) -> pd.Series:
    """Instances needed per hour: the (1 - risk) quantile of demand in each hour (of the within-hour peak forecast
    when there is one, else of the mean) over one instance's capacity `unit`, within the group's size."""
    if unit <= 0:
        raise PlanError(f"one instance's capacity must be positive, got {unit}")
    quantile = demand_quantile(peak if peak is not None else forecast, settings.risk)
    hourly = quantile.resample("1h").max().iloc[:hours]
    counts = np.ceil(hourly.to_numpy() / unit - 1e-9)
    upper = settings.max_instances if settings.max_instances is not None else math.inf
    return pd.Series(np.clip(counts, settings.min_instances, upper).astype(int), index=hourly.index)


def capacity_plan(
    group: str, instances: pd.Series, settings: ScalingSettings, *, max_size: int, target_utilisation: float
) -> CapacityPlan:
    """The plan the emitters take: hourly counts from the first hour, the reactive part's target and timings."""
    if instances.empty:
        raise PlanError(f"{group}: no forecast hours to plan; train the group's demand series first")
    start = pd.Timestamp(instances.index[0]).to_pydatetime()
    if not isinstance(start, datetime) or start.tzinfo is None:
        raise PlanError(f"{group}: forecast timestamps must be UTC")
    return CapacityPlan(
        group=group, start=start, hourly=tuple(int(v) for v in instances), min_size=settings.min_instances,
        max_size=max_size, target_utilisation=target_utilisation,
        warmup_seconds=int(settings.launch_lead_minutes * 60),
        cooldown_seconds=int(settings.stabilisation_minutes * 60),
    )
