"""The plan for a GCP managed instance group: the autoscaler's scaling schedules over CPU-utilisation scaling."""

from __future__ import annotations

import re
from typing import Any

from services.autoscaling.emit import CapacityPlan

MIN_DURATION = 300  # the shortest schedule Compute Engine accepts, in seconds


def schedule_name(group: str, stamp: str) -> str:
    """RFC 1035 name (lowercase letters, digits, hyphens; starts with a letter; at most 63 characters)."""
    base = re.sub(r"[^a-z0-9-]+", "-", f"hr-{group.lower()}")[: 63 - len(stamp) - 1].rstrip("-")
    return f"{base}-{stamp}"


def autoscaling_policy(plan: CapacityPlan) -> dict[str, Any]:
    """An autoscaler's `autoscalingPolicy` (compute v1 JSON): one dated schedule per block above the minimum size
    (cron minute hour day month, UTC), each starting `warmup` ahead; CPU target tracking for the reactive part."""
    schedules: dict[str, dict[str, Any]] = {}
    for block in plan.blocks():
        if block.instances <= plan.min_size:
            continue
        schedules[schedule_name(plan.group, f"{block.start:%m%d%H%M}")] = {
            "minRequiredReplicas": block.instances,
            "schedule": f"{block.start.minute} {block.start.hour} {block.start.day} {block.start.month} *",
            "timeZone": "UTC",
            "durationSec": max(MIN_DURATION, int((block.end - block.start).total_seconds())),
            "description": f"Headroom plan: {block.instances} instances until {block.end:%Y-%m-%d %H:%M} UTC",
        }
    return {
        "minNumReplicas": plan.min_size,
        "maxNumReplicas": plan.max_size,
        "coolDownPeriodSec": plan.warmup_seconds,
        "cpuUtilization": {"utilizationTarget": plan.target_utilisation},
        "mode": "ON",
        "scaleInControl": {"timeWindowSec": plan.cooldown_seconds},
        "scalingSchedules": schedules,
    }
