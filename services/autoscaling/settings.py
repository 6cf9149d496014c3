"""The settings of a scaling policy: start-up lag, scale-in delay, target utilisation, risk; bounded and described."""

from __future__ import annotations

import math

import pandas as pd
from pydantic import BaseModel, Field


class ScalingSettings(BaseModel):
    """How a group scales: the platform's timings and the policy's targets (BENCHMARK.md's defaults)."""

    launch_lead_minutes: float = Field(
        10.0, ge=0.0, le=240.0,
        description="Start-up time of an instance or pod: a scale-out decided now serves this much later "
        "(at least one step). The predictive plan launches this much ahead of the load.",
    )
    scale_in_delay_minutes: float = Field(
        0.0, ge=0.0, le=1440.0,
        description="How long the plan keeps capacity after the load it was planned for has passed (0: a scale-in "
        "takes effect at the next step).",
    )
    stabilisation_minutes: float = Field(
        15.0, ge=0.0, le=1440.0,
        description="Reactive part: scale in only when the highest desired count of this window is lower "
        "(the Kubernetes HPA's stabilisation window).",
    )
    target_utilisation: float = Field(
        0.7, gt=0.05, le=1.0, description="Target utilisation of the reactive baseline (target tracking)."
    )
    risk: float = Field(
        0.05, gt=0.0, lt=0.5,
        description="Risk of under-provisioning the 48-hour plan is sized for: each hour gets the (1 - risk) "
        "quantile of its forecast demand.",
    )
    shortfall_penalty: float = Field(
        15.0, ge=0.0, le=1000.0,
        description="How the policy replayed on a group's history trades cost for safety: it keeps the candidate "
        "with the least cost / oracle + this x the share of under-provisioned steps (15: one point of short steps "
        "is worth 0.15 of the oracle's cost). Higher is safer and costlier; chosen once on all dev sets "
        "(docs/autoscaling.md).",
    )
    min_instances: int = Field(0, ge=0, le=100_000, description="The group's minimum size.")
    max_instances: int | None = Field(None, ge=1, le=100_000, description="The group's maximum size; None: unbounded.")


def steps_of(minutes: float, step: pd.Timedelta, *, at_least: int = 0) -> int:
    """A duration in whole steps of the series, rounded up (10 minutes at 5-minute steps = 2; at hourly steps = 1)."""
    seconds = step.total_seconds()
    if seconds <= 0:
        raise ValueError(f"step must be positive, got {step}")
    return max(at_least, math.ceil(minutes * 60.0 / seconds - 1e-9))
