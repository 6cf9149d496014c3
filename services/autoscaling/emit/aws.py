"""The plan for an EC2 Auto Scaling group: scheduled actions on MinSize, target tracking, or predictive scaling."""

from __future__ import annotations

from typing import Any

from services.autoscaling.emit import CapacityPlan

MAX_NAME = 255


def scheduled_actions(plan: CapacityPlan) -> dict[str, Any]:
    """BatchPutScheduledUpdateGroupAction parameters: at each change of the plan, MinSize = the planned count,
    started `warmup` ahead; target tracking scales above it (the reactive floor is the group's own policy)."""
    actions = [
        {
            "ScheduledActionName": f"headroom-{plan.group}-{block.start:%Y%m%dT%H%M}"[:MAX_NAME],
            "StartTime": block.start,
            "MinSize": block.instances,
            "MaxSize": plan.max_size,
        }
        for block in plan.blocks()
    ]
    return {"AutoScalingGroupName": plan.group, "ScheduledUpdateGroupActions": actions}


def target_tracking_policy(plan: CapacityPlan) -> dict[str, Any]:
    """PutScalingPolicy parameters for the reactive part: average CPU at the recommended target."""
    return {
        "AutoScalingGroupName": plan.group,
        "PolicyName": f"headroom-{plan.group}-target-tracking"[:MAX_NAME],
        "PolicyType": "TargetTrackingScaling",
        "EstimatedInstanceWarmup": plan.warmup_seconds,
        "TargetTrackingConfiguration": {
            "PredefinedMetricSpecification": {"PredefinedMetricType": "ASGAverageCPUUtilization"},
            "TargetValue": plan.target_percent,
        },
    }


def predictive_scaling_policy(plan: CapacityPlan) -> dict[str, Any]:
    """PutScalingPolicy parameters for AWS's own predictive scaling at the same target, launching `warmup` ahead;
    for groups that would rather let AWS forecast than apply Headroom's schedule."""
    return {
        "AutoScalingGroupName": plan.group,
        "PolicyName": f"headroom-{plan.group}-predictive"[:MAX_NAME],
        "PolicyType": "PredictiveScaling",
        "PredictiveScalingConfiguration": {
            "MetricSpecifications": [
                {
                    "TargetValue": plan.target_percent,
                    "PredefinedMetricPairSpecification": {"PredefinedMetricType": "ASGCPUUtilization"},
                }
            ],
            "Mode": "ForecastAndScale",
            "SchedulingBufferTime": plan.warmup_seconds,
            "MaxCapacityBreachBehavior": "HonorMaxCapacity",
        },
    }
