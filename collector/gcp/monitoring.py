"""Cloud Monitoring list_time_series, aligned and reduced per instance, into SampleBatches."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from google.api_core.retry import Retry
from google.cloud import monitoring_v3
from google.protobuf import duration_pb2, timestamp_pb2

from collector.records import METRICS, SampleBatch, SeriesRef

Aligner = monitoring_v3.Aggregation.Aligner
Reducer = monitoring_v3.Aggregation.Reducer
GROUP_BY = ("resource.labels.instance_id", "resource.labels.zone")
PAGE_SIZE = 100_000  # points per page with the FULL view (the API's maximum); each page is one billed read call


@dataclass(frozen=True)
class MetricSpec:
    """How one metric of ours is read from Cloud Monitoring."""

    metric: str  # our vocabulary (collector.records.METRICS)
    metric_type: str
    counter: bool = False  # DELTA counters: ALIGN_RATE, then times the period = bytes per period
    scale: float = 1.0
    extra_filter: str = ""

    def filter(self) -> str:
        parts = [f'metric.type = "{self.metric_type}"', 'resource.type = "gce_instance"']
        return " AND ".join(parts + ([self.extra_filter] if self.extra_filter else []))

    def aggregation(self, period_seconds: int) -> monitoring_v3.Aggregation:
        # several series per instance (network: loadbalanced true/false; disk: one per device) are summed
        return monitoring_v3.Aggregation(
            alignment_period=duration_pb2.Duration(seconds=period_seconds),
            per_series_aligner=Aligner.ALIGN_RATE if self.counter else Aligner.ALIGN_MEAN,
            cross_series_reducer=Reducer.REDUCE_SUM if self.counter else Reducer.REDUCE_MEAN,
            group_by_fields=list(GROUP_BY),
        )

    def factor(self, period_seconds: int) -> float:
        return self.scale * (period_seconds if self.counter else 1.0)


METRIC_SPECS: tuple[MetricSpec, ...] = (
    MetricSpec("cpu_utilization", "compute.googleapis.com/instance/cpu/utilization", scale=100.0),  # fraction
    MetricSpec(
        "memory_utilization", "agent.googleapis.com/memory/percent_used", extra_filter='metric.labels.state = "used"'
    ),
    MetricSpec("network_in_bytes", "compute.googleapis.com/instance/network/received_bytes_count", counter=True),
    MetricSpec("network_out_bytes", "compute.googleapis.com/instance/network/sent_bytes_count", counter=True),
    MetricSpec("disk_write_bytes", "compute.googleapis.com/instance/disk/write_bytes_count", counter=True),
)


def _timestamp(moment: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def _point_value(point: monitoring_v3.Point) -> float | None:
    value = point.value._pb  # noqa: SLF001 - the oneof is only visible on the raw protobuf
    kind = value.WhichOneof("value")
    if kind in ("double_value", "int64_value"):
        return float(getattr(value, kind))
    return None


def list_request(
    project: str,
    spec: MetricSpec,
    since: datetime,
    until: datetime,
    period_seconds: int,
    page_size: int = PAGE_SIZE,
    *,
    headers: bool = False,
) -> monitoring_v3.ListTimeSeriesRequest:
    """headers=True asks for series without points (a cheap permission check)."""
    view = monitoring_v3.ListTimeSeriesRequest.TimeSeriesView
    return monitoring_v3.ListTimeSeriesRequest(
        name=f"projects/{project}",
        filter=spec.filter(),
        interval=monitoring_v3.TimeInterval(start_time=_timestamp(since), end_time=_timestamp(until)),
        aggregation=spec.aggregation(period_seconds),
        view=view.HEADERS if headers else view.FULL,
        page_size=page_size,
    )


def points_per_series(window_seconds: int, period_seconds: int) -> int:
    """The most aligned points one series has in a window: one per period ending inside it."""
    return -(-window_seconds // period_seconds)


def list_calls(series: int, points: int, page_size: int = PAGE_SIZE) -> int:
    """Calls (pages) of one list_request over `series` series of `points` points each, as fetch_metric makes them:
    the FULL view returns at most page_size points a page, and the first page is asked for even when empty."""
    return max(1, -(-series * points // page_size))


def fetch_metric(
    client: monitoring_v3.MetricServiceClient,
    request: monitoring_v3.ListTimeSeriesRequest,
    *,
    retry: Retry,
    timeout: float,
    on_page: Callable[[], None] = lambda: None,
) -> dict[tuple[str, str], dict[int, float]]:
    """{(instance_id, zone): {end epoch: value}} over every page. With the FULL view a page holds at most
    page_size points, so one series may continue on the next page: points are merged per instance. on_page is
    called once per page fetched (each a billed read call)."""
    points: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    pager = client.list_time_series(request=request, retry=retry, timeout=timeout)
    for page in pager.pages:
        on_page()
        for series in page.time_series:
            key = (series.resource.labels.get("instance_id", ""), series.resource.labels.get("zone", ""))
            for point in series.points:
                value = _point_value(point)
                if key[0] and value is not None:
                    points[key][int(point.interval.end_time.timestamp())] = value
    return points


def to_batches(
    spec: MetricSpec,
    points: Mapping[tuple[str, str], Mapping[int, float]],
    *,
    since: datetime,
    until: datetime,
    period_seconds: int,
    labels: Mapping[str, Mapping[str, str]],
    project: str,
) -> Iterator[SampleBatch]:
    """One batch per instance; each value is stamped at the start of its alignment period."""
    lo, hi = int(since.timestamp()), int(until.timestamp())
    factor = spec.factor(period_seconds)
    for (instance_id, zone), by_end in sorted(points.items()):
        stamps = np.fromiter((end - period_seconds for end in sorted(by_end)), dtype=np.int64, count=len(by_end))
        values = np.array([by_end[end] * factor for end in sorted(by_end)], dtype=np.float64)
        keep = (stamps >= lo) & (stamps < hi)
        if not keep.any():
            continue
        series_labels = {"provider": "gcp", "account": project, "zone": zone, **labels.get(instance_id, {})}
        ref = SeriesRef(resource_id=instance_id, metric=spec.metric, unit=METRICS[spec.metric], labels=series_labels)
        yield SampleBatch(series=ref, timestamps=stamps[keep], values=values[keep])
