"""Headroom's own metrics for Prometheus: HTTP latency, task durations and failures, queue depth, ingest lag.

The API process serves them at /metrics (api/telemetry.py). A `headroom worker` runs its tasks in forked
processes, so it keeps its metrics in prometheus-client's multiprocess mode and serves them on
HEADROOM_DEPLOY__WORKER_METRICS_PORT. Queue depth and ingest lag are read from Redis and the database at
scrape time, so any API replica reports the same values.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from services.settings import Settings

log = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"  # prometheus-client's own switch for its multiprocess mode
CELERY_QUEUE = "celery"  # Celery's default queue; every Headroom task goes there
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
TASK_BUCKETS = (0.05, 0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 1800.0)

disable_created_metrics()  # no *_created series: every exported name is one of EXPORTED_METRICS below
HTTP_REQUEST_DURATION = Histogram(
    "headroom_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template, method and status code.",
    ["route", "method", "status"],
    buckets=LATENCY_BUCKETS,
)

# Every metric name Headroom exports; the shipped Grafana dashboard may query only these (tests check it).
EXPORTED_METRICS = {
    "headroom_http_request_duration_seconds": "histogram",
    "headroom_task_duration_seconds": "histogram",
    "headroom_task_failures_total": "counter",
    "headroom_queue_depth": "gauge",
    "headroom_tasks_unacknowledged": "gauge",
    "headroom_ingest_lag_seconds": "gauge",
    "headroom_source_last_run_failed": "gauge",
    "headroom_forecast_accuracy": "gauge",
    "headroom_forecast_scored_points": "gauge",
}


# -- the API process: state of the deployment read at scrape time ------------------------------------
class DeploymentCollector(Collector):
    """Queue depth (Redis broker); ingest lag and last-run failure per source, live forecast accuracy per model
    (database); read per scrape."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def collect(self) -> Iterator[Metric]:
        yield from self._queue_metrics()
        yield from self._source_metrics()

    def _queue_metrics(self) -> Iterable[Metric]:
        if not self.settings.broker_url.startswith(("redis://", "rediss://")):
            return []  # the embedded SQLite transport has no cheap queue length
        import redis

        depth = GaugeMetricFamily("headroom_queue_depth", "Tasks waiting in a Celery queue.", labels=["queue"])
        unacked = GaugeMetricFamily("headroom_tasks_unacknowledged",
                                    "Tasks a worker has taken but not finished (redelivered if it dies).")
        client = redis.Redis.from_url(self.settings.broker_url, socket_timeout=2, socket_connect_timeout=2)
        try:
            depth.add_metric([CELERY_QUEUE], float(client.llen(CELERY_QUEUE)))
            unacked.add_metric([], float(client.hlen("unacked")))  # kombu's Redis transport keeps them there
        except redis.RedisError as exc:
            log.warning("queue depth not scraped: broker unreachable (%s)", exc.__class__.__name__)
            return []
        finally:
            client.close()
        return [depth, unacked]

    def _source_metrics(self) -> Iterable[Metric]:
        from sqlalchemy.exc import SQLAlchemyError

        from services.db.engine import session_scope
        from services.forecasting.accuracy import accuracy_by_model
        from services.ingest.ingest import source_statuses

        lag = GaugeMetricFamily("headroom_ingest_lag_seconds",
                                "Seconds since a source was last collected successfully.", labels=["source"])
        failed = GaugeMetricFamily("headroom_source_last_run_failed",
                                   "1 when the last collection of a source failed.", labels=["source"])
        accuracy = GaugeMetricFamily(
            "headroom_forecast_accuracy", "Live accuracy of each model's stored forecasts against the actuals that "
            "arrived: MASE (lower is better) and the share of actuals inside the 80 % and 95 % intervals.",
            labels=["model", "measure"])
        points = GaugeMetricFamily("headroom_forecast_scored_points",
                                   "Forecast points scored against actuals, per model.", labels=["model"])
        now = datetime.now(UTC)
        try:
            with session_scope(self.settings.database_url) as session:
                for status in source_statuses(session):
                    if status.last_success_at is not None:
                        success = status.last_success_at.replace(tzinfo=status.last_success_at.tzinfo or UTC)
                        lag.add_metric([status.source], max(0.0, (now - success).total_seconds()))
                    failed.add_metric([status.source], 1.0 if status.last_error else 0.0)
                for model in accuracy_by_model(session):
                    points.add_metric([model.key], float(model.points))
                    for measure in ("mase", "coverage80", "coverage95"):
                        value = getattr(model, measure)
                        if value is not None:
                            accuracy.add_metric([model.key, measure], float(value))
        except SQLAlchemyError as exc:
            log.warning("ingest lag and accuracy not scraped: database unreachable (%s)", exc.__class__.__name__)
            return []
        return [lag, failed, accuracy, points]


def deployment_registry(settings: Settings) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DeploymentCollector(settings))
    return registry


# -- the worker: task metrics through Celery signals, in multiprocess mode ---------------------------
_task_metrics: dict[str, Any] = {}
_started: dict[str, float] = {}


def prepare_worker_metrics(settings: Settings) -> Path | None:
    """Call before the Celery app starts: multiprocess mode on, task signals connected, /metrics once ready.

    Returns the folder where the worker's processes keep their metric files (None when the port is 0).
    """
    from celery import signals

    from services.logs import configure_celery_logging

    configure_celery_logging(settings)
    if not settings.deploy.worker_metrics_port:
        return None
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="worker-metrics-", dir=settings.data_dir))
    os.environ[MULTIPROC_ENV] = str(folder)  # read by prometheus-client in this process and the forked ones
    from prometheus_client import values

    values.ValueClass = values.get_value_class()  # in case prometheus-client was imported before the switch
    _task_metrics["duration"] = Histogram(
        "headroom_task_duration_seconds", "Run time of a Celery task, by task name and outcome.",
        ["task", "outcome"], buckets=TASK_BUCKETS,
    )
    _task_metrics["failures"] = Counter(
        "headroom_task_failures_total", "Celery tasks that raised, by task name.", ["task"]
    )
    signals.task_prerun.connect(_on_task_prerun, weak=False)
    signals.task_postrun.connect(_on_task_postrun, weak=False)
    signals.task_failure.connect(_on_task_failure, weak=False)
    port, host = settings.deploy.worker_metrics_port, settings.api_host  # the API's bind address: 0.0.0.0 in images
    signals.worker_ready.connect(lambda **_: _serve_worker_metrics(host, port), weak=False)
    return folder


def _serve_worker_metrics(host: str, port: int) -> None:
    from prometheus_client import start_http_server
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry)
    try:
        start_http_server(port, addr=host, registry=registry)
    except OSError as exc:  # the worker still works; only its metrics are missing
        log.error("worker metrics not served on %s:%d (%s): set HEADROOM_DEPLOY__WORKER_METRICS_PORT to a free port "
                  "or 0", host, port, exc)
        return
    log.info("worker metrics at http://%s:%d/metrics", host, port)


def _on_task_prerun(task_id: str | None = None, **_: Any) -> None:
    from services.logs import request_id_var

    if task_id:
        _started[task_id] = time.perf_counter()
        request_id_var.set(task_id)


def _on_task_postrun(task_id: str | None = None, task: Any = None, state: str | None = None, **_: Any) -> None:
    started = _started.pop(task_id or "", None)
    if started is None or task is None:
        return
    outcome = {"SUCCESS": "success", "FAILURE": "failure", "RETRY": "retry"}.get(state or "", "other")
    _task_metrics["duration"].labels(task=task.name, outcome=outcome).observe(time.perf_counter() - started)


def _on_task_failure(sender: Any = None, **_: Any) -> None:
    _task_metrics["failures"].labels(task=getattr(sender, "name", "unknown")).inc()
