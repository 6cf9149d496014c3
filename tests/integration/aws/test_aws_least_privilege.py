"""The AWS policy in docs/sources.md, and no more, collects every stream: the proxy refuses any other action."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aws_fault_proxy import FaultProxy
from test_aws_costs import day, group, queue_results

from collector.aws import AwsCollector
from services.ingest.ingest import run_collector
from services.metrics import SqlMetricStore

pytestmark = pytest.mark.integration
SOURCES_PAGE = Path(__file__).resolve().parents[3] / "docs" / "sources.md"
UNTIL = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def documented_policy() -> set[str]:
    """The IAM actions of the **AWS** bullet of the least-privilege section (optional ones included)."""
    text = SOURCES_PAGE.read_text()
    bullet = text.split("- **AWS**", 1)[1].split("\n- **", 1)[0]
    return set(re.findall(r"`([a-z0-9-]+:[A-Za-z]+)`", bullet)) - {"sts:AssumeRole"}


def seed(aws: Any, moto_url: str) -> None:
    ec2 = aws("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    ec2.run_instances(ImageId=image, MinCount=2, MaxCount=2, InstanceType="m5.large")
    ec2.create_volume(AvailabilityZone="us-east-1a", Size=20)
    aws("rds").create_db_instance(DBInstanceIdentifier="orders", DBInstanceClass="db.m5.large", Engine="postgres",
                                  AllocatedStorage=20, MasterUsername="admin", MasterUserPassword="not-a-secret-1")
    queue_results(moto_url, [{"ResultsByTime": [day(UNTIL.date(), [group(["AWS Lambda", "123456789012"], "1.5")])],
                              "DimensionValueAttributes": []}])  # fmt: skip


def test_the_documented_policy_collects_every_stream_and_needs_every_action(
    aws: Any, moto_url: str, proxy: FaultProxy, make_settings: Any, sqlite_stores: tuple[str, SqlMetricStore]
) -> None:
    db_url, store = sqlite_stores
    policy = documented_policy()
    assert {"cloudwatch:GetMetricData", "ce:GetCostAndUsage", "ec2:DescribeInstances"} <= policy
    seed(aws, moto_url)
    proxy.enforce(policy)
    result = run_collector(AwsCollector(make_settings(proxy.url)), db_url=db_url, metric_store=store, until=UNTIL)
    assert result.failures == {} and proxy.denied == []
    assert result.resources >= 4 and result.costs == 1
    used = {f"{svc}:{action}" for svc, action in (
        ("ec2", "DescribeInstances"), ("ec2", "DescribeVolumes"), ("rds", "DescribeDBInstances"),
        ("autoscaling", "DescribeAutoScalingGroups"), ("cloudwatch", "GetMetricData"), ("cloudwatch", "ListMetrics"),
        ("ce", "GetCostAndUsage"))}  # fmt: skip
    assert used <= policy

    # one action fewer, and exactly the stream that needs it fails, naming the action
    proxy.enforce(policy - {"cloudwatch:GetMetricData"})
    narrower = run_collector(AwsCollector(make_settings(proxy.url, name="aws-narrow")), db_url=db_url,
                             metric_store=store, until=UNTIL)  # fmt: skip
    assert set(narrower.failures) == {"metrics:ec2", "metrics:rds"}  # the agent family had no query to make
    assert "cloudwatch:GetMetricData" in narrower.failures["metrics:ec2"]
    assert set(proxy.denied) == {"cloudwatch:GetMetricData"}

    # without cloudwatch:ListMetrics only the CloudWatch agent's family stops; EC2 and RDS metrics still arrive
    proxy.denied.clear()
    proxy.enforce(policy - {"cloudwatch:ListMetrics"})
    no_agent = run_collector(AwsCollector(make_settings(proxy.url, name="aws-no-agent")), db_url=db_url,
                             metric_store=store, until=UNTIL)  # fmt: skip
    assert set(no_agent.failures) == {"metrics:cwagent"} and "cloudwatch:ListMetrics" in no_agent.failures[
        "metrics:cwagent"]  # fmt: skip
