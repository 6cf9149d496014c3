"""Streams against moto's server: a denied cost permission stops only costs; a killed backfill resumes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_fault_proxy import FaultProxy, json_error
from cloudwatch_rules import CloudWatchRules
from metric_data_pager import cloudwatch_error
from test_aws_metrics import datum, put_metrics, stored

from collector.aws import AwsCollector
from services.db.engine import session_scope
from services.db.models import IngestStreamRow
from services.ingest.ingest import run_collector
from services.metrics import SqlMetricStore

pytestmark = pytest.mark.integration
UNTIL = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
DENIED = json_error("AccessDeniedException", "User: arn:aws:iam::123456789012:user/ro is not authorized to perform: "
                    "ce:GetCostAndUsage on resource: arn:aws:ce:us-east-1:123456789012:/GetCostAndUsage")  # fmt: skip


def start_times(proxy: FaultProxy) -> list[datetime]:
    """StartTime of every GetMetricData request forwarded to moto (AWS JSON 1.0: epoch seconds)."""
    return [datetime.fromtimestamp(json.loads(b)["StartTime"], UTC) for b in proxy.bodies["GetMetricData"]]


def one_instance_with_cpu(aws: Any, first: datetime, last: datetime) -> str:
    ec2 = aws("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    (instance,) = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="c5.large")["Instances"]
    dims = {"InstanceId": instance["InstanceId"]}
    steps = int((last - first) / timedelta(minutes=5))
    put_metrics(aws("cloudwatch"), "AWS/EC2", [datum("CPUUtilization", dims, first + timedelta(minutes=5 * k),
                                                     float(k % 97)) for k in range(steps)])  # fmt: skip
    return str(instance["InstanceId"])


def stream(db_url: str, name: str) -> IngestStreamRow:
    with session_scope(db_url) as session:
        row = session.get(IngestStreamRow, ("aws", name))
        assert row is not None
        session.expunge(row)
        return row


def test_a_denied_cost_permission_leaves_metrics_on_schedule_and_is_reported_once_per_run(
    aws: Any, proxy: FaultProxy, make_settings: Any, sqlite_stores: tuple[str, SqlMetricStore]
) -> None:
    db_url, store = sqlite_stores
    runs = [UNTIL + timedelta(minutes=5 * n) for n in range(37)]  # three hours of 5-minute runs
    one_instance_with_cpu(aws, UNTIL - timedelta(days=1), runs[-1])
    proxy.fail("GetCostAndUsage", 1000, DENIED)
    collector = AwsCollector(make_settings(proxy.url, services=["ec2"], history_days=1, cost_interval_hours=1))
    cost_tries = []
    for until in runs:
        before = proxy.seen["GetCostAndUsage"]
        result = run_collector(collector, db_url=db_url, metric_store=store, until=until)
        # the denied stream is reported once per run, naming the IAM action to grant; the others succeed
        assert list(result.failures) == ["costs"]
        assert "grant the IAM action ce:GetCostAndUsage" in result.failures["costs"]
        assert stream(db_url, "metrics:ec2").watermark == until and stream(db_url, "metrics:ec2").failures == 0
        if proxy.seen["GetCostAndUsage"] > before:
            cost_tries.append(until)
    # Cost Explorer is retried at its cadence, doubling while it stays denied: not every 5 minutes
    assert cost_tries == [runs[0], runs[12], runs[36]]
    # metrics: the first day once (one chunk: 7 queries fit 14,400 periods a call), then one call a run over the
    # new minutes and the look-back
    starts = start_times(proxy)
    assert len(starts) == 1 + 36 and starts[0] == UNTIL - timedelta(days=1)
    lookback = collector.metrics_lookback
    assert all(start == until - timedelta(minutes=5) - lookback for start, until in zip(starts[1:], runs[1:],
                                                                                         strict=True))  # fmt: skip
    (series,) = stored(store, runs[-1]).values()
    assert len(series) == 24 * 12 + 36  # every 5-minute sample of the day and the three hours, once


def test_a_killed_backfill_resumes_without_fetching_committed_chunks_again(
    aws: Any, proxy: FaultProxy, make_settings: Any, sqlite_stores: tuple[str, SqlMetricStore]
) -> None:
    db_url, store = sqlite_stores
    first = UNTIL - timedelta(days=3)
    one_instance_with_cpu(aws, first, UNTIL + timedelta(minutes=5))
    image = aws("ec2").describe_images()["Images"][0]["ImageId"]
    aws("ec2").run_instances(ImageId=image, MinCount=99, MaxCount=99, InstanceType="c5.large")  # a full batch
    settings = make_settings(proxy.url, services=["ec2"], history_days=3, cost_explorer=False,
                             retry={"max_attempts": 1})  # the run dies on the faulted call
    collector = AwsCollector(settings)
    collector.as_of = UNTIL
    chunks = collector.metric_chunks(first, UNTIL)
    assert len(chunks) == 5  # 500 queries: 201 five-minute periods each, one GetMetricData call per chunk
    killed_at = chunks[2][0]
    proxy.fail("GetMetricData", 1, cloudwatch_error("InternalFailure", "The request processing has failed.", 500),
               when=lambda body: json.loads(body)["StartTime"] >= killed_at.timestamp())  # fmt: skip

    run_collector(collector, db_url=db_url, metric_store=store, until=UNTIL)
    metrics = stream(db_url, "metrics:ec2")
    assert metrics.failures == 1 and metrics.watermark is None
    assert (metrics.backfill_cursor, metrics.backfill_until) == (killed_at, UNTIL)  # two chunks committed
    assert start_times(proxy) == [chunks[0][0], chunks[1][0]]

    later = UNTIL + timedelta(minutes=5)
    resumed = run_collector(AwsCollector(settings), db_url=db_url, metric_store=store, until=later)
    assert resumed.failures == {}
    assert start_times(proxy)[2:] == [chunks[2][0], chunks[3][0], chunks[4][0], UNTIL - collector.metrics_lookback]
    metrics = stream(db_url, "metrics:ec2")
    assert metrics.watermark == later and metrics.backfill_cursor is None
    (series,) = stored(store, later).values()
    assert len(series) == 3 * 24 * 12 + 1  # every sample of the three days and the new five minutes, once


def test_a_backfill_beyond_15_days_reads_old_data_at_a_period_cloudwatch_still_keeps(
    aws: Any, proxy: FaultProxy, make_settings: Any, sqlite_stores: tuple[str, SqlMetricStore]
) -> None:
    db_url, store = sqlite_stores
    rules = CloudWatchRules(now=UNTIL)
    proxy.page("GetMetricData", rules)
    ec2 = aws("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    (instance,) = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="c5.large")["Instances"]
    dims = {"InstanceId": instance["InstanceId"]}
    old, recent = UNTIL - timedelta(days=30), UNTIL - timedelta(days=2)  # 30 days old: no 60 s data is kept
    put_metrics(aws("cloudwatch"), "AWS/EC2", [datum("CPUUtilization", dims, old, 40.0),
                                               datum("CPUUtilization", dims, recent, 60.0)])  # fmt: skip
    collector = AwsCollector(make_settings(proxy.url, services=["ec2"], cost_explorer=False, history_days=31,
                                           metrics_period_seconds=60))  # fmt: skip
    result = run_collector(collector, db_url=db_url, metric_store=store, until=UNTIL)
    assert result.failures == {} and rules.dropped == 0  # nothing was asked at a period CloudWatch no longer has
    (series,) = stored(store, UNTIL).values()
    assert [value for _, value in series] == [40.0, 60.0]  # the 30-day-old sample too, read at 300 s
    assert any("CloudWatch keeps 60 s data for 15 days" in note for note in result.notes)
    periods = {json.loads(b)["MetricDataQueries"][0]["MetricStat"]["Period"] for b in proxy.bodies["GetMetricData"]}
    assert periods == {60, 300}
