"""The plan for an Azure virtual machine scale set: autoscale setting profiles, one per block, over CPU rules."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from services.autoscaling.emit import CapacityPlan


def _iso(stamp: Any) -> str:
    return stamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def cpu_rules(plan: CapacityPlan, resource_id: str) -> list[dict[str, Any]]:
    """The reactive part: scale out by one above the target CPU, in by one well below it, after the cooldown."""
    cooldown = f"PT{max(1, plan.cooldown_seconds // 60)}M"

    def rule(direction: str, operator: str, threshold: float) -> dict[str, Any]:
        return {
            "metricTrigger": {
                "metricName": "Percentage CPU", "metricResourceUri": resource_id, "timeGrain": "PT1M",
                "statistic": "Average", "timeWindow": "PT5M", "timeAggregation": "Average",
                "operator": operator, "threshold": threshold,
            },
            "scaleAction": {"direction": direction, "type": "ChangeCount", "value": "1", "cooldown": cooldown},
        }

    return [rule("Increase", "GreaterThan", plan.target_percent),
            rule("Decrease", "LessThan", round(plan.target_percent * 0.6, 1))]


def autoscale_setting(plan: CapacityPlan, resource_id: str, location: str) -> dict[str, Any]:
    """A Microsoft.Insights/autoscalesettings resource body: a fixed-date profile per block of the plan (minimum =
    the planned count) with the CPU rules, after a default profile that is the reactive policy alone."""
    rules = cpu_rules(plan, resource_id)
    profiles = [{"name": "default (reactive)", "capacity": _capacity(plan, plan.min_size), "rules": rules}]
    for block in plan.blocks():
        profiles.append({
            "name": f"headroom {block.start:%Y-%m-%d %H:%M}",
            "capacity": _capacity(plan, block.instances),
            "rules": rules,
            "fixedDate": {"timeZone": "UTC", "start": _iso(block.start), "end": _iso(block.end)},
        })
    return {
        "location": location,
        "properties": {
            "name": f"headroom-{plan.group}",
            "enabled": True,
            "targetResourceUri": resource_id,
            "profiles": profiles,
        },
    }


def _capacity(plan: CapacityPlan, minimum: int) -> dict[str, str]:
    return {"minimum": str(minimum), "maximum": str(plan.max_size), "default": str(minimum)}
