"""Each platform's policy validated against that platform's own model: botocore, compute v1, ARM shape, Kubernetes."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import botocore.session
import jsonschema
import kubernetes_validate
import pytest
from botocore.validate import ParamValidator
from google.cloud import compute_v1

from services.autoscaling.emit import CapacityPlan, PlanError, aws, azure, gcp, kubernetes

START = datetime(2026, 12, 7, 0, 0, tzinfo=UTC)
HOURLY = (2, 2, 2, 2, 2, 2, 2, 3, 6, 8, 8, 8, 8, 8, 8, 8, 6, 4, 3, 2, 2, 2, 2, 2) * 2


@pytest.fixture
def plan() -> CapacityPlan:
    return CapacityPlan(group="web-asg", start=START, hourly=HOURLY, min_size=2, max_size=10,
                        target_utilisation=0.8, warmup_seconds=600, cooldown_seconds=900)


def _aws_errors(operation: str, params: dict) -> str:
    model = botocore.session.get_session().get_service_model("autoscaling")
    report = ParamValidator().validate(params, model.operation_model(operation).input_shape)
    return report.generate_report()


def test_blocks_scale_out_ahead_of_the_hour_and_in_on_it(plan: CapacityPlan) -> None:
    blocks = plan.blocks()
    assert [b.instances for b in blocks[:6]] == [2, 3, 6, 8, 6, 4]
    assert blocks[1].start == START.replace(hour=6, minute=50)  # 3 from 07:00, launched 10 minutes ahead
    assert blocks[4].start == START.replace(hour=16)  # 8 -> 6 at 16:00, not before
    assert all(a.end == b.start for a, b in zip(blocks, blocks[1:], strict=False))
    assert plan.reaches_max is False


def test_aws_scheduled_actions_and_policies_fit_the_service_model(plan: CapacityPlan) -> None:
    actions = aws.scheduled_actions(plan)
    assert _aws_errors("BatchPutScheduledUpdateGroupAction", actions) == ""
    assert [a["MinSize"] for a in actions["ScheduledUpdateGroupActions"]][:4] == [2, 3, 6, 8]
    assert _aws_errors("PutScalingPolicy", aws.target_tracking_policy(plan)) == ""
    predictive = aws.predictive_scaling_policy(plan)
    assert _aws_errors("PutScalingPolicy", predictive) == ""
    assert predictive["PredictiveScalingConfiguration"]["SchedulingBufferTime"] == 600


def test_aws_validation_catches_a_wrong_field() -> None:
    assert "Unknown parameter" in _aws_errors("PutScalingPolicy", {"AutoScalingGroupName": "g", "PolicyName": "p",
                                                                   "Bogus": 1})


def test_gcp_policy_is_a_compute_v1_autoscaling_policy(plan: CapacityPlan) -> None:
    body = gcp.autoscaling_policy(plan)
    policy = compute_v1.AutoscalingPolicy.from_json(json.dumps(body), ignore_unknown_fields=False)
    schedules = policy.scaling_schedules
    assert len(schedules) == 12  # every block above the minimum size, both days
    first = schedules[sorted(schedules)[0]]
    assert first.min_required_replicas == 3 and first.schedule == "50 6 7 12 *" and first.duration_sec >= 300
    assert all(len(name) <= 63 and name[0].isalpha() for name in schedules)
    assert policy.cpu_utilization.utilization_target == pytest.approx(0.8)


AZURE_PROFILE_SCHEMA = {  # Microsoft.Insights/autoscalesettings (api 2022-10-01): the parts the emitter writes
    "type": "object",
    "required": ["location", "properties"],
    "properties": {
        "properties": {
            "type": "object",
            "required": ["profiles", "targetResourceUri"],
            "properties": {
                "profiles": {
                    "type": "array", "maxItems": 20,
                    "items": {
                        "type": "object", "required": ["name", "capacity", "rules"], "additionalProperties": False,
                        "properties": {
                            "name": {"type": "string"},
                            "capacity": {"type": "object", "required": ["minimum", "maximum", "default"],
                                         "additionalProperties": {"type": "string", "pattern": "^[0-9]+$"}},
                            "rules": {"type": "array", "maxItems": 10, "items": {
                                "type": "object", "required": ["metricTrigger", "scaleAction"]}},
                            "fixedDate": {"type": "object", "required": ["start", "end"], "properties": {
                                "timeZone": {"type": "string"}, "start": {"type": "string", "format": "date-time"},
                                "end": {"type": "string", "format": "date-time"}}},
                            "recurrence": {"type": "object"},
                        },
                    },
                },
            },
        },
    },
}


def test_azure_autoscale_setting_fits_the_arm_shape(plan: CapacityPlan) -> None:
    short = CapacityPlan(group="vmss", start=START, hourly=HOURLY[:24], min_size=2, max_size=10)
    body = azure.autoscale_setting(short, "/subscriptions/s/resourceGroups/r/providers/Microsoft.Compute/"
                                          "virtualMachineScaleSets/vmss", "westeurope")
    jsonschema.validate(body, AZURE_PROFILE_SCHEMA, format_checker=jsonschema.FormatChecker())
    profiles = body["properties"]["profiles"]
    assert profiles[1]["fixedDate"]["end"] == profiles[2]["fixedDate"]["start"] == "2026-12-07T06:50:00Z"
    assert [p["capacity"]["minimum"] for p in profiles[1:5]] == ["2", "3", "6", "8"]


KEDA_SCHEMA = {  # the KEDA ScaledObject CRD's openAPIV3Schema (keda.sh/v1alpha1), the fields the emitter writes
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "properties": {
        "apiVersion": {"const": "keda.sh/v1alpha1"},
        "kind": {"const": "ScaledObject"},
        "spec": {
            "type": "object", "required": ["scaleTargetRef", "triggers"],
            "properties": {
                "scaleTargetRef": {"type": "object", "required": ["name"]},
                "minReplicaCount": {"type": "integer", "minimum": 0},
                "maxReplicaCount": {"type": "integer", "minimum": 1},
                "cooldownPeriod": {"type": "integer"},
                "triggers": {"type": "array", "items": {
                    "type": "object", "required": ["type", "metadata"],
                    "properties": {"type": {"type": "string"}, "name": {"type": "string"},
                                   "metadata": {"type": "object", "additionalProperties": {"type": "string"}}},
                    "if": {"properties": {"type": {"const": "cron"}}},
                    "then": {"properties": {"metadata": {"required": ["timezone", "start", "end", "desiredReplicas"],
                                                         "properties": {"desiredReplicas": {"pattern": "^[0-9]+$"}}}}},
                }},
            },
        },
    },
}


def test_keda_scaled_object_fits_the_crd_schema_and_its_hpa_behaviour_the_kubernetes_schema(
    plan: CapacityPlan,
) -> None:
    body = kubernetes.scaled_object(plan)
    jsonschema.validate(body, KEDA_SCHEMA)
    crons = [t for t in body["spec"]["triggers"] if t["type"] == "cron"]
    assert crons[0]["metadata"] == {"timezone": "Etc/UTC", "start": "50 6 7 12 *", "end": "50 7 7 12 *",
                                    "desiredReplicas": "3"}
    hpa = kubernetes.horizontal_pod_autoscaler(plan, hour=9)
    kubernetes_validate.validate(hpa, "1.37.0", strict=True)
    assert hpa["spec"]["minReplicas"] == 8
    hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] = "soon"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(hpa, "1.37.0", strict=True)


def test_a_plan_without_a_time_zone_is_refused() -> None:
    with pytest.raises(PlanError, match="time zone"):
        CapacityPlan(group="g", start=datetime(2026, 1, 1), hourly=(1,), min_size=0, max_size=2)  # noqa: DTZ001
