"""CloudWatch GetMetricData against moto's server: >500 queries in batches, time chunks, values in SqlMetricStore."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aws_fault_proxy import FaultProxy

from collector.aws import AwsCollector
from services.ingest.ingest import run_collector
from services.metrics import SqlMetricStore

pytestmark = pytest.mark.integration
PERIOD = 60
FLEET = 172  # x 5 EC2 queries each: 860+ queries, more than one GetMetricData call can carry


def put_metrics(cloudwatch: Any, namespace: str, data: list[dict[str, Any]]) -> None:
    for start in range(0, len(data), 150):
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=data[start : start + 150])


def datum(name: str, dims: dict[str, str], ts: datetime, value: float) -> dict[str, Any]:
    dimensions = [{"Name": k, "Value": v} for k, v in dims.items()]
    return {"MetricName": name, "Dimensions": dimensions, "Timestamp": ts, "Value": value}


def stored(store: SqlMetricStore, until: datetime) -> dict[str, list[tuple[int, float]]]:
    """Every stored point, per series id."""
    out = {}
    for info in store.series():
        values = store.read(info.series_id, until - timedelta(days=30), until + timedelta(days=1))
        out[info.series_id] = [(int(ts.timestamp()), float(v)) for ts, v in values.items()]
    return out


def test_metrics_of_a_large_fleet_arrive_in_the_store_once(
    aws: Any, proxy: FaultProxy, make_settings: Any, sqlite_stores: tuple[str, SqlMetricStore]
) -> None:
    db_url, store = sqlite_stores
    until = datetime.now(UTC).replace(second=0, microsecond=0)
    minutes = [until - timedelta(minutes=m) for m in (15, 10, 5)]
    ec2 = aws("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    ids = [
        i["InstanceId"]
        for kind, count in (("c5.large", 100), ("m4.large", FLEET - 100))
        for i in ec2.run_instances(ImageId=image, MinCount=count, MaxCount=count, InstanceType=kind,
                                   TagSpecifications=[{"ResourceType": "instance",
                                                       "Tags": [{"Key": "env", "Value": "prod"}]}])["Instances"]
    ]  # fmt: skip
    aws("rds").create_db_instance(
        DBInstanceIdentifier="orders-db", DBInstanceClass="db.m4.large", Engine="postgres", AllocatedStorage=20,
        MasterUsername="admin", MasterUserPassword="not-a-secret-1",
    )  # fmt: skip
    cloudwatch = aws("cloudwatch")
    cpu = [datum("CPUUtilization", {"InstanceId": i}, ts, n % 100 + k) for n, i in enumerate(ids)
           for k, ts in enumerate(minutes)]  # fmt: skip
    network = [
        datum("NetworkIn", {"InstanceId": i}, ts + timedelta(seconds=s), 1000.0)
        for i in ids[:20]
        for ts in minutes
        for s in (0, 30)
    ]  # fmt: skip two datapoints per period: Sum adds them
    disk = [datum("EBSWriteBytes", {"InstanceId": ids[0]}, minutes[0], 4096.0),
            datum("DiskWriteBytes", {"InstanceId": ids[0]}, minutes[0], 512.0)]  # fmt: skip
    put_metrics(cloudwatch, "AWS/EC2", cpu + network + disk)
    agent = {"ImageId": image, "InstanceType": "c5.large"}
    put_metrics(cloudwatch, "CWAgent", [datum("mem_used_percent", {"InstanceId": i, **agent}, minutes[1], 61.5)
                                        for i in ids[:10]])  # fmt: skip
    put_metrics(cloudwatch, "AWS/RDS", [
        datum("CPUUtilization", {"DBInstanceIdentifier": "orders-db"}, minutes[2], 33.0),
        datum("NetworkReceiveThroughput", {"DBInstanceIdentifier": "orders-db"}, minutes[2], 250.0),
    ])  # fmt: skip

    collector = AwsCollector(make_settings(proxy.url, metrics_period_seconds=PERIOD, cost_explorer=False))
    window = timedelta(minutes=20)
    first = run_collector(collector, db_url=db_url, metric_store=store, until=until, backfill=window)

    # each family is its own stream: EC2 x5 (860 queries, 2 calls), RDS x4 (1 call), the agent's memory on 10
    # instances (1 call); GetMetricData is billed per metric, so the family split costs nothing more
    families = {"ec2": FLEET * 5, "rds": 4, "cwagent": 10}
    assert proxy.seen["GetMetricData"] == sum(-(-n // 500) for n in families.values()) == 4
    assert proxy.seen["ListMetrics"] == 2  # memory and disk of the agent
    points = stored(store, until)
    assert first.series == len(points) == FLEET + 20 + 10 + 1 + 2
    assert first.samples == sum(len(p) for p in points.values()) == FLEET * 3 + 20 * 3 + 10 + 1 + 2
    epochs = [int(ts.timestamp()) for ts in minutes]
    assert points[f"{ids[7]}/cpu_utilization"] == [(epochs[0], 7.0), (epochs[1], 8.0), (epochs[2], 9.0)]
    assert points[f"{ids[3]}/network_in_bytes"] == [(e, 2000.0) for e in epochs]
    assert points[f"{ids[0]}/disk_write_bytes"] == [(epochs[0], 4608.0)]  # EBS + instance store
    assert points[f"{ids[9]}/memory_utilization"] == [(epochs[1], 61.5)]
    db_arn = next(s.resource_id for s in store.series() if s.resource_id.startswith("arn:aws:rds:"))
    assert points[f"{db_arn}/network_in_bytes"] == [(epochs[2], 250.0 * PERIOD)]  # bytes/s x period
    info = store.series({"resource_id": ids[150]})[0]
    assert info.unit == "percent" and info.labels == {
        "provider": "aws", "account": "123456789012", "region": "us-east-1", "instance_type": "m4.large",
        "environment": "prod", "kind": "vm",
    }  # fmt: skip

    # the same window again stores nothing new; from the watermark there is nothing left to read
    again = run_collector(collector, db_url=db_url, metric_store=store, until=until, backfill=window)
    assert again.samples == first.samples and stored(store, until) == points
    calls = proxy.seen["GetMetricData"]
    assert run_collector(collector, db_url=db_url, metric_store=store, until=until).samples == 0
    assert proxy.seen["GetMetricData"] == calls and stored(store, until) == points


def test_long_windows_are_cut_under_the_datapoint_limit_per_call(
    aws: Any, proxy: FaultProxy, make_settings: Any
) -> None:
    until = datetime.now(UTC).replace(second=0, microsecond=0)
    since = until - timedelta(days=15)  # 21,600 one-minute periods x 5 queries > 100,800 datapoints
    ec2 = aws("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    (instance,) = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType="c5.large")["Instances"]
    dims = {"InstanceId": instance["InstanceId"]}
    first, last = since + timedelta(minutes=1), until - timedelta(minutes=2)
    put_metrics(aws("cloudwatch"), "AWS/EC2", [datum("CPUUtilization", dims, first, 10.0),
                                               datum("CPUUtilization", dims, last, 90.0)])  # fmt: skip
    collector = AwsCollector(make_settings(proxy.url, metrics_period_seconds=PERIOD, services=["ec2"]))
    collector.as_of = until  # the run's now: 15 days back is still within 60 s retention
    batches = list(collector.collect_metrics(since, until))
    assert proxy.seen["GetMetricData"] == 2  # 20,160 periods per call for 5 queries
    got = sorted((int(t), float(v)) for b in batches for t, v in zip(b.timestamps, b.values, strict=True))
    assert got == [(int(first.timestamp()), 10.0), (int(last.timestamp()), 90.0)]
