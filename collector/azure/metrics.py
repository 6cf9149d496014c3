"""VM metrics through the batch metrics API (metrics:getBatch), mapped onto Headroom's metric vocabulary."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np

from collector.records import METRICS, Resource, SampleBatch, SeriesRef

NAMESPACE = "Microsoft.Compute/virtualMachines"
MAX_RESOURCES_PER_CALL = 50  # the getBatch limit; every id in a call shares subscription and region
MAX_POINTS_PER_CALL = 1440  # points per series per call: getBatch has no paging, so split long windows
METRICS_SUFFIX = "/providers/microsoft.insights/metrics/"
GIB = 2**30


@dataclass(frozen=True)
class AzureMetric:
    azure_name: str
    metric: str
    aggregation: str  # which MetricValue field to read: average or total


AZURE_METRICS = (
    AzureMetric("Percentage CPU", "cpu_utilization", "average"),
    AzureMetric("Available Memory Bytes", "memory_utilization", "average"),  # made a percentage of the VM's memory
    AzureMetric("Network In Total", "network_in_bytes", "total"),
    AzureMetric("Network Out Total", "network_out_bytes", "total"),
    AzureMetric("Disk Write Bytes", "disk_write_bytes", "total"),
)
BY_AZURE_NAME = {m.azure_name.lower(): m for m in AZURE_METRICS}
QueryResources = Callable[..., Sequence[Any]]  # MetricsClient.query_resources of one regional endpoint


def default_endpoint(region: str) -> str:
    return f"https://{region}.metrics.monitor.azure.com"


def batches_of(vms: Sequence[Resource]) -> Iterator[list[Resource]]:
    """VMs grouped by (subscription, region), at most MAX_RESOURCES_PER_CALL per group."""
    groups: dict[tuple[str, str], list[Resource]] = defaultdict(list)
    for vm in vms:
        groups[(vm.account, vm.region)].append(vm)
    for _key, members in sorted(groups.items()):
        for start in range(0, len(members), MAX_RESOURCES_PER_CALL):
            yield members[start : start + MAX_RESOURCES_PER_CALL]


def time_chunks(since: datetime, until: datetime, interval: timedelta) -> Iterator[tuple[datetime, datetime]]:
    span = interval * MAX_POINTS_PER_CALL
    start = since
    while start < until:
        end = min(start + span, until)
        yield start, end
        start = end


def planned_calls(vms: Sequence[Resource], since: datetime, until: datetime, interval: timedelta) -> int:
    """The getBatch calls collect_vm_metrics makes for `vms` over [since, until): one per batch and time chunk."""
    chunks = sum(1 for _ in time_chunks(since, until, interval))
    return chunks * sum(1 for _ in batches_of(vms))


def resource_of(metric_id: str | None) -> str | None:
    """The VM id a metric's id belongs to: '<vm id>/providers/Microsoft.Insights/metrics/<name>'."""
    if not metric_id:
        return None
    lowered = metric_id.lower()
    cut = lowered.find(METRICS_SUFFIX)
    return lowered[:cut] if cut > 0 else None


def series_ref(vm: Resource, metric: str, source: str) -> SeriesRef:
    labels = {
        "provider": vm.provider,
        "account": vm.account,
        "region": vm.region,
        "environment": vm.environment,
        "instance_type": vm.instance_type,
        "source": source,
    }
    return SeriesRef(resource_id=vm.resource_id, metric=metric, unit=METRICS[metric], labels=labels)


def _points(metric: Any, field: str, since: datetime, until: datetime) -> tuple[list[int], list[float]]:
    lo, hi = int(since.timestamp()), int(until.timestamp())
    stamps: list[int] = []
    values: list[float] = []
    for series in metric.timeseries or []:
        for point in series.data or []:
            value = getattr(point, field, None)
            if value is None or point.timestamp is None:
                continue  # Azure returns empty buckets for intervals without data
            t = int(point.timestamp.timestamp())
            if lo <= t < hi:
                stamps.append(t)
                values.append(float(value))
    return stamps, values


def to_batch(
    vm: Resource, spec: AzureMetric, stamps: list[int], values: list[float], source: str
) -> SampleBatch | None:
    data = np.asarray(values, dtype=np.float64)
    if spec.metric == "memory_utilization":
        if not vm.memory_gib:
            return None  # without the VM's memory size, free bytes cannot become a utilisation
        data = np.clip(100.0 * (1.0 - data / (vm.memory_gib * GIB)), 0.0, 100.0)
    order = np.argsort(np.asarray(stamps, dtype=np.int64), kind="stable")
    return SampleBatch(series_ref(vm, spec.metric, source), np.asarray(stamps, dtype=np.int64)[order], data[order])


def collect_vm_metrics(
    query_for_region: Callable[[str], QueryResources],
    vms: Sequence[Resource],
    since: datetime,
    until: datetime,
    interval: timedelta,
    source: str,
) -> Iterator[SampleBatch]:
    """One getBatch call per (≤50 VMs of one subscription and region) × (time chunk); batches per series."""
    for group in batches_of(vms):
        by_id = {vm.resource_id: vm for vm in group}
        ids = [vm.resource_id for vm in group]
        query = query_for_region(group[0].region)
        for start, end in time_chunks(since, until, interval):
            results = query(
                resource_ids=ids,
                metric_namespace=NAMESPACE,
                metric_names=[m.azure_name for m in AZURE_METRICS],
                timespan=(start, end),
                granularity=interval,
                aggregations=["Average", "Total"],
            )
            for index, result in enumerate(results):
                for metric in result.metrics:
                    spec = BY_AZURE_NAME.get((metric.name or "").lower())
                    rid = resource_of(metric.id) or (ids[index] if index < len(ids) else None)
                    vm = by_id.get(rid or "")
                    if spec is None or vm is None:
                        continue
                    stamps, values = _points(metric, spec.aggregation, start, end)
                    batch = to_batch(vm, spec, stamps, values, source) if stamps else None
                    if batch is not None:
                        yield batch
