"""The plan for a Kubernetes deployment: a KEDA ScaledObject (cron triggers + CPU) or an HPA's behaviour."""

from __future__ import annotations

import re
from typing import Any

from services.autoscaling.emit import CapacityPlan

KEDA_API = "keda.sh/v1alpha1"


def _name(plan: CapacityPlan, suffix: str = "") -> str:
    """An RFC 1123 name: lowercase letters, digits and hyphens."""
    return re.sub(r"[^a-z0-9-]+", "-", f"{plan.group}{suffix}".lower()).strip("-")[:253]


def scaled_object(plan: CapacityPlan, namespace: str = "default") -> dict[str, Any]:
    """A KEDA ScaledObject: one cron trigger per block above the minimum (desiredReplicas from `warmup` before the
    block), and a CPU utilisation trigger at the recommended target for the reactive part; KEDA takes the largest."""
    triggers: list[dict[str, Any]] = []
    for block in plan.blocks():
        if block.instances <= plan.min_size:
            continue
        triggers.append({
            "type": "cron",
            "name": f"plan-{block.start:%m%d-%H%M}",
            "metadata": {
                "timezone": "Etc/UTC",
                "start": f"{block.start.minute} {block.start.hour} {block.start.day} {block.start.month} *",
                "end": f"{block.end.minute} {block.end.hour} {block.end.day} {block.end.month} *",
                "desiredReplicas": str(block.instances),
            },
        })
    triggers.append({"type": "cpu", "metricType": "Utilization", "metadata": {"value": f"{plan.target_percent:g}"}})
    return {
        "apiVersion": KEDA_API,
        "kind": "ScaledObject",
        "metadata": {"name": _name(plan, "-headroom"), "namespace": namespace},
        "spec": {
            "scaleTargetRef": {"name": _name(plan)},
            "minReplicaCount": plan.min_size,
            "maxReplicaCount": plan.max_size,
            "cooldownPeriod": plan.cooldown_seconds,
            "advanced": {"horizontalPodAutoscalerConfig": {"behavior": _behavior(plan)}},
            "triggers": triggers,
        },
    }


def horizontal_pod_autoscaler(plan: CapacityPlan, namespace: str = "default", *, hour: int = 0) -> dict[str, Any]:
    """An autoscaling/v2 HPA for the reactive part with minReplicas = the plan's count at `hour` (apply one per
    hour, e.g. from a CronJob, for 'HPA minReplicas by hour')."""
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": _name(plan), "namespace": namespace},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": _name(plan)},
            "minReplicas": max(1, min(max(plan.hourly[hour], plan.min_size), plan.max_size)),
            "maxReplicas": plan.max_size,
            "metrics": [{
                "type": "Resource",
                "resource": {"name": "cpu", "target": {"type": "Utilization",
                                                       "averageUtilization": round(plan.target_percent)}},
            }],
            "behavior": _behavior(plan),
        },
    }


def _behavior(plan: CapacityPlan) -> dict[str, Any]:
    return {"scaleDown": {"stabilizationWindowSeconds": min(3600, plan.cooldown_seconds)},
            "scaleUp": {"stabilizationWindowSeconds": 0}}
