"""A loopback Cloud Monitoring v3 MetricService.ListTimeSeries over gRPC (the SDK's only transport).

Answers with the documented ListTimeSeriesResponse protobuf: aligned points on epoch multiples of the
alignment period, newest first, FULL-view pages of at most `page_points` points (so one series spans
pages) with next_page_token. Errors are google.rpc.Status with RetryInfo on RESOURCE_EXHAUSTED.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass, field

import grpc
from google.api import metric_pb2
from google.cloud import monitoring_v3
from google.protobuf import any_pb2, duration_pb2, timestamp_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from tests.integration.gcp.gcp_loopback import ApiError, GoogleState

Aligner = monitoring_v3.Aggregation.Aligner
GRPC_CODES = {400: code_pb2.INVALID_ARGUMENT, 401: code_pb2.UNAUTHENTICATED, 403: code_pb2.PERMISSION_DENIED,
              404: code_pb2.NOT_FOUND, 429: code_pb2.RESOURCE_EXHAUSTED}  # fmt: skip
METRIC_TYPE = re.compile(r'metric\.type\s*=\s*"(?P<type>[^"]+)"')
ROUTE = "monitoring.listTimeSeries"


def served_value(metric_type: str, instance_id: str, end: int, state: str = "used") -> float:
    """The aligned value the fake serves for one point (tests recompute it to check conversions)."""
    seed = int(instance_id) % 97
    step = end // 300
    if metric_type.endswith("cpu/utilization"):
        return round(0.05 + (seed % 7) / 10 + (step % 5) / 100, 6)  # a fraction
    if metric_type.endswith("memory/percent_used"):
        return 40.0 + seed % 10 + step % 3 if state == "used" else 10.0
    return float(1000 * (seed % 5 + 1) + step % 11)  # bytes per second (ALIGN_RATE)


@dataclass
class MonitoringData:
    instances: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # project -> (instance id, zone)
    page_points: int = 7


def _stamp(epoch: int) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=epoch)


class MetricService:
    def __init__(self, state: GoogleState, data: MonitoringData) -> None:
        self.state, self.data = state, data

    def list_time_series(
        self, request: monitoring_v3.ListTimeSeriesRequest, context: grpc.ServicerContext
    ) -> monitoring_v3.ListTimeSeriesResponse:
        metadata = dict(context.invocation_metadata())
        try:
            self.state.enter(ROUTE, metadata.get("authorization"))
            series = list(self._series(request))
        except ApiError as exc:
            status = status_pb2.Status(code=GRPC_CODES[exc.code], message=exc.message)
            if exc.code == 429:
                delay = error_details_pb2.RetryInfo(
                    retry_delay=duration_pb2.Duration(seconds=int(exc.headers["Retry-After"]))
                )
                detail = any_pb2.Any()
                detail.Pack(delay)
                status.details.append(detail)
            context.abort_with_status(rpc_status.to_status(status))
        return self._page(request, series)

    def _series(self, request: monitoring_v3.ListTimeSeriesRequest) -> Iterator[monitoring_v3.TimeSeries]:
        project = request.name.removeprefix("projects/")
        if project not in self.data.instances:
            raise ApiError(404, f"Project {project} not found or not monitored")
        match = METRIC_TYPE.search(request.filter)
        if not match or 'resource.type = "gce_instance"' not in request.filter:
            raise ApiError(400, f"filter must name a metric.type and resource.type: {request.filter!r}")
        metric_type = match["type"]
        counter = metric_type.endswith("_count")
        aggregation = request.aggregation
        wanted = Aligner.ALIGN_RATE if counter else Aligner.ALIGN_MEAN
        period = aggregation.alignment_period.total_seconds()
        if aggregation.per_series_aligner != wanted or period <= 0:
            raise ApiError(400, f"{metric_type}: expected {Aligner(wanted).name} with an alignment period")
        period = int(period)
        start, end = (int(t.timestamp()) for t in (request.interval.start_time, request.interval.end_time))
        ends = list(range(end - end % period, start, -period))  # (start, end], newest first
        states = ["used"] if "metric.labels.state" in request.filter else ["used", "free"]
        for instance_id, zone in self.data.instances[project]:
            for memory_state in states if metric_type.endswith("percent_used") else [""]:
                yield monitoring_v3.TimeSeries(
                    metric={"type": metric_type, "labels": {"state": memory_state} if memory_state else {}},
                    resource={"type": "gce_instance",
                              "labels": {"project_id": project, "instance_id": instance_id, "zone": zone}},
                    metric_kind=metric_pb2.MetricDescriptor.GAUGE,
                    value_type=metric_pb2.MetricDescriptor.DOUBLE,
                    points=[
                        monitoring_v3.Point(
                            interval={"start_time": _stamp(t - period if counter else t), "end_time": _stamp(t)},
                            value={"double_value": served_value(metric_type, instance_id, t, memory_state)},
                        )
                        for t in ends
                    ],
                )  # fmt: skip

    def _page(
        self, request: monitoring_v3.ListTimeSeriesRequest, series: list[monitoring_v3.TimeSeries]
    ) -> monitoring_v3.ListTimeSeriesResponse:
        offset = int(request.page_token or 0)
        headers_only = request.view == monitoring_v3.ListTimeSeriesRequest.TimeSeriesView.HEADERS
        if headers_only:
            size = min(request.page_size or 100_000, len(series))
            page = [
                monitoring_v3.TimeSeries(metric=s.metric, resource=s.resource) for s in series[offset : offset + size]
            ]
            token = str(offset + size) if offset + size < len(series) else ""
            return monitoring_v3.ListTimeSeriesResponse(time_series=page, next_page_token=token)
        flat = [(i, point) for i, s in enumerate(series) for point in s.points]
        size = min(request.page_size or 100_000, self.data.page_points)
        chunk = flat[offset : offset + size]
        out: dict[int, monitoring_v3.TimeSeries] = {}
        for i, point in chunk:
            if i not in out:
                out[i] = monitoring_v3.TimeSeries(
                    metric=series[i].metric, resource=series[i].resource, metric_kind=series[i].metric_kind,
                    value_type=series[i].value_type,
                )  # fmt: skip
            out[i].points.append(point)
        token = str(offset + size) if offset + size < len(flat) else ""
        return monitoring_v3.ListTimeSeriesResponse(time_series=list(out.values()), next_page_token=token)


class MonitoringGrpcServer:
    """MetricService on 127.0.0.1 with gRPC local (loopback-only) credentials."""

    def __init__(self, state: GoogleState, data: MonitoringData) -> None:
        service = MetricService(state, data)
        handler = grpc.method_handlers_generic_handler(
            "google.monitoring.v3.MetricService",
            {
                "ListTimeSeries": grpc.unary_unary_rpc_method_handler(
                    service.list_time_series,
                    request_deserializer=monitoring_v3.ListTimeSeriesRequest.deserialize,
                    response_serializer=monitoring_v3.ListTimeSeriesResponse.serialize,
                )
            },
        )
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        self.server.add_generic_rpc_handlers((handler,))
        port = self.server.add_secure_port(
            "127.0.0.1:0", grpc.local_server_credentials(grpc.LocalConnectionType.LOCAL_TCP)
        )
        self.url = f"http://127.0.0.1:{port}"
        self.server.start()

    def stop(self) -> None:
        self.server.stop(grace=None)
