"""GetMetricData NextToken pages (cut by the proxy as AWS does) followed to the last datapoint, throttled or not."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from aws_fault_proxy import FaultProxy
from botocore.exceptions import ClientError
from metric_data_pager import MetricDataPager, has_next_token, throttled

from collector.aws import AwsCollector
from services.ingest.ingest import run_collector
from services.metrics import SqlMetricStore

pytestmark = pytest.mark.integration
PERIOD = 60
SEEDED = (("cpu_utilization", "CPUUtilization"), ("network_in_bytes", "NetworkIn"), ("network_out_bytes", "NetworkOut"))
MINUTES_AGO = (15, 10, 5)
Points = dict[str, list[tuple[int, float]]]


def seed(aws: Any, count: int, until: datetime) -> Points:
    """`count` instances with three metrics at three minutes each, put through PutMetricData: the expected store."""
    ec2 = aws("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    found = ec2.run_instances(ImageId=image, MinCount=count, MaxCount=count, InstanceType="c5.large")["Instances"]
    ids = [i["InstanceId"] for i in found]
    expected: Points = {}
    data = []
    for n, instance in enumerate(ids):
        for m, (metric, name) in enumerate(SEEDED):
            series = expected.setdefault(f"{instance}/{metric}", [])
            for k, ago in enumerate(MINUTES_AGO):
                ts = until - timedelta(minutes=ago)
                value = n % 100 + k / 4 if m == 0 else 1000.0 * n + 10 * m + k  # unique per series and minute
                series.append((int(ts.timestamp()), value))
                dims = [{"Name": "InstanceId", "Value": instance}]
                data.append({"MetricName": name, "Dimensions": dims, "Timestamp": ts, "Value": value})
    cloudwatch = aws("cloudwatch")
    for start in range(0, len(data), 500):
        cloudwatch.put_metric_data(Namespace="AWS/EC2", MetricData=data[start : start + 500])
    return expected


def stored(store: SqlMetricStore, until: datetime) -> Points:
    out = {}
    for info in store.series():
        values = store.read(info.series_id, until - timedelta(days=1), until + timedelta(days=1))
        out[info.series_id] = [(int(ts.timestamp()), float(v)) for ts, v in values.items()]
    return out


def follow_up_tokens(proxy: FaultProxy) -> list[str]:
    """The NextToken of every GetMetricData request that reached the pager."""
    bodies = (json.loads(body) for body in proxy.bodies["GetMetricData"])
    return [body["NextToken"] for body in bodies if "NextToken" in body]


def collect(proxy: FaultProxy, make_settings: Any, db_url: str, store: SqlMetricStore, until: datetime) -> Any:
    settings = make_settings(proxy.url, metrics_period_seconds=PERIOD, services=["ec2"], cost_explorer=False)
    return run_collector(AwsCollector(settings), db_url=db_url, metric_store=store, until=until,
                         backfill=timedelta(minutes=20))  # fmt: skip


def test_every_page_of_more_than_500_queries_reaches_the_store(
    aws: Any, proxy: FaultProxy, make_settings: Any, sqlite_stores: tuple[str, SqlMetricStore]
) -> None:
    db_url, store = sqlite_stores
    until = datetime.now(UTC).replace(second=0, microsecond=0)
    fleet = 172  # x 5 EC2 queries: 860 queries, two GetMetricData batches (100 and 72 instances)
    expected = seed(aws, fleet, until)
    pager = MetricDataPager(max_datapoints=250)  # 900 and 648 datapoints: 4 and 3 pages
    proxy.page("GetMetricData", pager)

    report = collect(proxy, make_settings, db_url, store, until)

    assert len(pager.issued) == 3 + 2 and follow_up_tokens(proxy) == pager.answered == pager.issued
    assert proxy.seen["GetMetricData"] == 2 + 5
    assert stored(store, until) == expected  # every seeded value, at its minute, under its instance and metric
    assert report.series == fleet * 3 and report.samples == fleet * 3 * 3


def test_a_throttled_follow_up_page_is_retried_with_its_token(
    aws: Any, proxy: FaultProxy, make_settings: Any, sqlite_stores: tuple[str, SqlMetricStore]
) -> None:
    db_url, store = sqlite_stores
    until = datetime.now(UTC).replace(second=0, microsecond=0)
    expected = seed(aws, 12, until)  # 108 datapoints, one batch of 60 queries
    pager = MetricDataPager(max_datapoints=30)  # 4 pages
    proxy.page("GetMetricData", pager)
    proxy.fail("GetMetricData", 2, throttled(), when=has_next_token)  # the first follow-up, and its first retry

    report = collect(proxy, make_settings, db_url, store, until)

    assert proxy.seen["GetMetricData"] == 4 + 2
    assert len(pager.issued) == 3 and follow_up_tokens(proxy) == pager.answered == pager.issued
    assert stored(store, until) == expected and report.samples == 12 * 3 * 3


def test_pages_are_cut_as_aws_documents(aws: Any, proxy: FaultProxy) -> None:
    """The pager itself, through boto3: page sizes, PartialData, oldest first, a token good once."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    load, free = ({"MetricName": name, "Dimensions": [{"Name": "Host", "Value": "a"}]} for name in ("Load", "Free"))
    aws("cloudwatch").put_metric_data(
        Namespace="Test",
        MetricData=[{**load, "Timestamp": now - timedelta(minutes=m), "Value": float(m)} for m in range(1, 8)]
        + [{**free, "Timestamp": now, "Value": 0.5}],
    )
    pager = MetricDataPager(max_datapoints=3)
    proxy.page("GetMetricData", pager)
    client = boto3.client("cloudwatch", region_name="us-east-1", endpoint_url=proxy.url)
    stat = {"Period": PERIOD, "Stat": "Average"}
    request = {
        "MetricDataQueries": [{"Id": "load", "MetricStat": {"Metric": {"Namespace": "Test", **load}, **stat}},
                              {"Id": "free", "MetricStat": {"Metric": {"Namespace": "Test", **free}, **stat}}],
        "StartTime": now - timedelta(minutes=10), "EndTime": now + timedelta(minutes=1),
        "ScanBy": "TimestampAscending",
    }  # fmt: skip
    pages = list(client.get_paginator("get_metric_data").paginate(**request))

    assert [sum(len(r["Values"]) for r in p["MetricDataResults"]) for p in pages] == [3, 3, 2]
    assert [[r["StatusCode"] for r in p["MetricDataResults"]] for p in pages] == [["PartialData"] * 2] * 2 + [
        ["Complete"] * 2
    ]
    assert [bool(p.get("NextToken")) for p in pages] == [True, True, False]
    loads = [v for p in pages for r in p["MetricDataResults"] if r["Id"] == "load" for v in r["Values"]]
    assert loads == [7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0]  # oldest first, across pages
    assert pages[-1]["MetricDataResults"][1]["Values"] == [0.5]  # the newest point comes last
    for result in (r for p in pages for r in p["MetricDataResults"]):
        assert len(result["Timestamps"]) == len(result["Values"])

    with pytest.raises(ClientError) as reused:  # a token is good once
        client.get_metric_data(**request, NextToken=pager.answered[0])
    first = client.get_metric_data(**request)
    with pytest.raises(ClientError) as changed:  # ... and only with the parameters that earned it
        client.get_metric_data(**{**request, "ScanBy": "TimestampDescending"}, NextToken=first["NextToken"])
    assert reused.value.response["Error"]["Code"] == changed.value.response["Error"]["Code"] == "InvalidNextToken"
