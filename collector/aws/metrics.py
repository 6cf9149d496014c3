"""CloudWatch GetMetricData for discovered resources: query building, 500-query batches, time chunks, NextToken."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from collector.aws.discovery import Found
from collector.aws.errors import AwsCaller

MAX_QUERIES_PER_CALL = 500  # GetMetricData accepts at most 500 MetricDataQuery structures
MAX_DATAPOINTS_PER_CALL = 100_800  # ... and returns at most 100,800 datapoints per call
CWAGENT = "CWAgent"
# CloudWatch retention: data at periods that are multiples of these seconds are kept this many days; a request
# for older data at a finer period comes back empty (GetMetricData, "StartTime" and "Period").
RETENTION: tuple[tuple[int, int], ...] = ((60, 15), (300, 63), (3600, 455))

# (vocabulary metric, namespace, CloudWatch metric, statistic, per-second rate to scale by the period?)
EC2_METRICS = (
    ("cpu_utilization", "AWS/EC2", "CPUUtilization", "Average", False),
    ("network_in_bytes", "AWS/EC2", "NetworkIn", "Sum", False),
    ("network_out_bytes", "AWS/EC2", "NetworkOut", "Sum", False),
    # EBS volumes (Nitro) and instance store: their sum is everything the instance wrote
    ("disk_write_bytes", "AWS/EC2", "EBSWriteBytes", "Sum", False),
    ("disk_write_bytes", "AWS/EC2", "DiskWriteBytes", "Sum", False),
)
RDS_METRICS = (
    ("cpu_utilization", "AWS/RDS", "CPUUtilization", "Average", False),
    ("network_in_bytes", "AWS/RDS", "NetworkReceiveThroughput", "Average", True),
    ("network_out_bytes", "AWS/RDS", "NetworkTransmitThroughput", "Average", True),
    ("disk_write_bytes", "AWS/RDS", "WriteThroughput", "Average", True),
)
# CloudWatch agent metrics exist only where the agent runs: found through ListMetrics
AGENT_METRICS: tuple[tuple[str, str, dict[str, str]], ...] = (
    ("memory_utilization", "mem_used_percent", {}),
    ("disk_utilization", "disk_used_percent", {"path": "/"}),
)


@dataclass(frozen=True)
class MetricQuery:
    query_id: str
    resource_id: str
    metric: str
    namespace: str
    name: str
    dimensions: tuple[tuple[str, str], ...]
    stat: str
    rate: bool  # a per-second average: multiplied by the period to give a total

    def request(self, period: int) -> dict[str, Any]:
        dims = [{"Name": k, "Value": v} for k, v in self.dimensions]
        stat = {"Metric": {"Namespace": self.namespace, "MetricName": self.name, "Dimensions": dims}}
        return {"Id": self.query_id, "MetricStat": {**stat, "Period": period, "Stat": self.stat}, "ReturnData": True}


@dataclass
class SeriesSamples:
    """Values of one (resource, metric) in one time chunk; several queries add up (EBS + instance store)."""

    points: dict[int, float] = field(default_factory=dict)

    def add(self, timestamps: list[datetime], values: list[float], scale: float) -> None:
        for ts, value in zip(timestamps, values, strict=True):
            epoch = int(ts.timestamp())
            self.points[epoch] = self.points.get(epoch, 0.0) + float(value) * scale

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        order = sorted(self.points)
        return np.asarray(order, dtype=np.int64), np.asarray([self.points[t] for t in order], dtype=np.float64)


def agent_dimensions(
    cloudwatch: AwsCaller, metric_name: str, required: dict[str, str]
) -> dict[str, tuple[tuple[str, str], ...]]:
    """InstanceId -> the dimensions under which the CloudWatch agent publishes `metric_name` (fewest wins)."""
    found: dict[str, tuple[tuple[str, str], ...]] = {}
    for page in cloudwatch.pages("ListMetrics", Namespace=CWAGENT, MetricName=metric_name):
        for metric in page.get("Metrics", []):
            dims = tuple((d["Name"], d["Value"]) for d in metric.get("Dimensions", []))
            as_dict = dict(dims)
            if "InstanceId" not in as_dict or any(as_dict.get(k) != v for k, v in required.items()):
                continue
            current = found.get(as_dict["InstanceId"])
            if current is None or len(dims) < len(current):
                found[as_dict["InstanceId"]] = dims
    return found


FAMILIES = ("ec2", "rds", "cwagent")  # AWS/EC2, AWS/RDS, and the CloudWatch agent's CWAgent (found by ListMetrics)


def build_queries(
    resources: list[Found], cloudwatch: AwsCaller, families: tuple[str, ...] = FAMILIES
) -> list[MetricQuery]:
    """Every query of these families for these resources; the queries of one (resource, metric) are adjacent."""
    specs: list[tuple[str, str, str, str, str, tuple[tuple[str, str], ...], bool]] = []
    vms = [r for r in resources if r.kind == "vm"]
    agent = ({metric: agent_dimensions(cloudwatch, name, req) for metric, name, req in AGENT_METRICS}
             if vms and "cwagent" in families else {})  # fmt: skip
    for res in resources:
        if res.kind == "vm":
            dims = (("InstanceId", res.metric_key),)
            for metric, namespace, name, stat, rate in EC2_METRICS if "ec2" in families else ():
                specs.append((res.resource_id, metric, namespace, name, stat, dims, rate))
            for metric, name, _req in AGENT_METRICS if agent else ():
                if res.metric_key in agent[metric]:
                    specs.append(
                        (res.resource_id, metric, CWAGENT, name, "Average", agent[metric][res.metric_key], False)
                    )
        elif res.kind == "database" and "rds" in families:
            dims = (("DBInstanceIdentifier", res.metric_key),)
            for metric, namespace, name, stat, rate in RDS_METRICS:
                specs.append((res.resource_id, metric, namespace, name, stat, dims, rate))
    return [
        MetricQuery(f"q{n}", rid, metric, ns, name, dims, stat, rate)
        for n, (rid, metric, ns, name, stat, dims, rate) in enumerate(specs)
    ]


def batches(queries: list[MetricQuery]) -> list[list[MetricQuery]]:
    """Groups of at most 500 queries that never split the queries of one (resource, metric)."""
    groups: dict[tuple[str, str], list[MetricQuery]] = defaultdict(list)
    for q in queries:
        groups[(q.resource_id, q.metric)].append(q)
    out: list[list[MetricQuery]] = [[]]
    for group in groups.values():
        if len(out[-1]) + len(group) > MAX_QUERIES_PER_CALL:
            out.append([])
        out[-1].extend(group)
    return [b for b in out if b]


def time_chunks(start: int, end: int, period: int, queries: int) -> Iterator[tuple[int, int]]:
    """[start, end) cut so that queries x periods per chunk stays within 100,800 datapoints."""
    step = max(1, MAX_DATAPOINTS_PER_CALL // max(1, queries)) * period
    for chunk_start in range(start, end, step):
        yield chunk_start, min(chunk_start + step, end)


def fetch_batch(
    cloudwatch: AwsCaller, batch: list[MetricQuery], start: int, end: int, period: int
) -> dict[tuple[str, str], SeriesSamples]:
    """One chunk of one batch, every NextToken page followed; results keyed by (resource_id, metric)."""
    by_id = {q.query_id: q for q in batch}
    out: dict[tuple[str, str], SeriesSamples] = defaultdict(SeriesSamples)
    for page in cloudwatch.pages(
        "GetMetricData",
        MetricDataQueries=[q.request(period) for q in batch],
        StartTime=datetime.fromtimestamp(start, UTC),
        EndTime=datetime.fromtimestamp(end, UTC),
        ScanBy="TimestampAscending",
    ):
        for result in page.get("MetricDataResults", []):
            query = by_id.get(result.get("Id", ""))
            if query is None:
                continue
            kept = [(t, v) for t, v in zip(result.get("Timestamps", []), result.get("Values", []), strict=True)
                    if start <= t.timestamp() < end]  # fmt: skip
            out[(query.resource_id, query.metric)].add(
                [t for t, _ in kept], [v for _, v in kept], float(period) if query.rate else 1.0
            )
    return out


def kept_days(period: int) -> int:
    """How long CloudWatch keeps data at `period` seconds (a multiple of 60)."""
    return max(days for tier, days in RETENTION if period % tier == 0)


def retained_period(period: int, start: datetime, now: datetime) -> int | None:
    """The finest period, at least `period`, at which CloudWatch still holds data from `start`; None: none kept."""
    age = now - start
    for tier, days in RETENTION:
        if age <= timedelta(days=days):
            return -(-max(period, tier) // tier) * tier
    return None


def lookback(period: int) -> timedelta:
    """How far before the watermark each run reads again: CloudWatch publishes some datapoints minutes late."""
    return timedelta(seconds=max(600, 2 * period))


def _ceil_hour(t: datetime) -> datetime:
    epoch = -(-int(t.timestamp()) // 3600) * 3600
    return datetime.fromtimestamp(epoch, UTC)


def most_queries(resources: list[Found] | None) -> int:
    """At most how many queries one GetMetricData batch of these resources holds (500 when not known)."""
    if resources is None:
        return MAX_QUERIES_PER_CALL
    per = {"vm": len(EC2_METRICS) + len(AGENT_METRICS), "database": len(RDS_METRICS)}
    return max(1, min(MAX_QUERIES_PER_CALL, sum(per.get(r.kind, 0) for r in resources)))


def retention_chunks(
    start: datetime, end: datetime, period: int, now: datetime, queries: int = MAX_QUERIES_PER_CALL
) -> list[tuple[datetime, datetime]]:
    """[start, end) cut at the retention boundaries (on whole hours, so the periods on either side meet) and then
    into pieces that a batch of `queries` reads in one call (201 periods for a full batch of 500)."""
    cuts = sorted({start, end, *(_ceil_hour(now - timedelta(days=days)) for _tier, days in RETENTION)})
    cuts = [c for c in cuts if start <= c <= end]
    out: list[tuple[datetime, datetime]] = []
    for seg_start, seg_end in zip(cuts, cuts[1:], strict=False):
        seg_period = retained_period(period, seg_start, now) or 86400
        step = timedelta(seconds=MAX_DATAPOINTS_PER_CALL // max(1, queries) * seg_period)
        t = seg_start
        while t < seg_end:
            out.append((t, min(t + step, seg_end)))
            t += step
    return out
