"""The Prometheus collector against a real Prometheus scraping a real node exporter, through real ingest."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from collector.base import CollectorError, EndpointUnreachableError, MissingCredentialsError, ThrottledError
from collector.config import PrometheusSourceSettings, RetrySettings
from collector.prometheus import PrometheusCollector
from collector.prometheus.client import PrometheusClient, chunk_range
from services.db.engine import session_scope
from services.db.migrate import upgrade
from services.db.models import ResourceRow
from services.ingest.ingest import IngestError, run_collector
from services.metrics import open_metric_store
from testbed.servers import free_port

pytestmark = pytest.mark.integration
FAST_RETRY = RetrySettings(max_attempts=3, max_backoff_seconds=0.0)
TOKEN_ENV = "PROM_TOKEN"  # noqa: S105 - the name of a variable, not a secret


def settings(url: str, **extra: object) -> PrometheusSourceSettings:
    # the servers are seconds old: a 5 s rate window (5 scrapes) instead of the default 5 minutes
    base = {"name": "prom", "url": url, "retry": FAST_RETRY, "rate_window_seconds": 5}
    return PrometheusSourceSettings.model_validate({**base, **extra})


def now_floor() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def meminfo_total_gib() -> float:
    line = next(x for x in Path("/proc/meminfo").read_text().splitlines() if x.startswith("MemTotal:"))
    return int(line.split()[1]) * 1024 / 1024**3


def test_host_series_arrive_in_the_sql_store_and_rerun_adds_nothing(prometheus_stack, sqlite_url) -> None:  # type: ignore[no-untyped-def]
    upgrade(sqlite_url)
    store = open_metric_store(sqlite_url)
    collector = PrometheusCollector(settings(prometheus_stack.url, step_seconds=1, initial_history_days=1))
    until = now_floor()
    first = run_collector(collector, db_url=sqlite_url, metric_store=store, until=until)
    assert first.samples > 0
    host = f"prometheus:{prometheus_stack.node_instance}"
    stored = {info.metric: info for info in store.series({"resource_id": host})}
    assert {"cpu_utilization", "memory_utilization", "disk_utilization", "network_in_bytes"} <= set(stored)
    for metric in ("cpu_utilization", "memory_utilization", "disk_utilization"):
        info = stored[metric]
        assert info.unit == "percent"
        assert info.labels["instance"] == prometheus_stack.node_instance
        assert info.labels["provider"] == "onprem" and info.labels["source"] == "prom"
        values = store.read(info.series_id, until - timedelta(days=1), until)
        assert len(values) >= 2, metric
        assert values.index.max() < until
        assert ((values >= 0) & (values <= 100)).all(), (metric, values.describe())
    assert store.read(stored["memory_utilization"].series_id, until - timedelta(days=1), until).min() > 0
    # Prometheus itself keeps a core busy, so some CPU is always measured (the ceiling depends on machine load)
    assert store.read(stored["cpu_utilization"].series_id, until - timedelta(days=1), until).max() > 0
    with session_scope(sqlite_url) as session:
        row = session.scalars(select(ResourceRow).where(ResourceRow.resource_id == host)).one()
        assert row.vcpus == os.cpu_count()
        assert row.memory_gib == pytest.approx(meminfo_total_gib(), rel=1e-3)
        assert row.kind == "vm" and row.provider == "onprem" and row.name == os.uname().nodename
    counts = {m: len(store.read(i.series_id, until - timedelta(days=1), until)) for m, i in stored.items()}

    again = run_collector(collector, db_url=sqlite_url, metric_store=store, until=until)
    assert again.samples == 0 and again.since == until
    # re-collecting the stored window (a backfill) overwrites the same timestamps: still no new samples
    run_collector(collector, db_url=sqlite_url, metric_store=store, until=until, backfill=timedelta(minutes=10))
    assert {m: len(store.read(i.series_id, until - timedelta(days=1), until)) for m, i in stored.items()} == counts
    store.close()


def test_containers_become_resources_sized_by_their_requests(prometheus_stack) -> None:  # type: ignore[no-untyped-def]
    collector = PrometheusCollector(settings(prometheus_stack.url, step_seconds=1))
    containers = [r for r in collector.discover() if r.kind == "container"]
    assert [c.resource_id for c in containers] == ["k8s:shop/web-0/nginx"]
    nginx = containers[0]
    assert nginx.vcpus == 0.5 and nginx.memory_gib == 0.25 and nginx.provider == "kubernetes"
    assert nginx.tags == {
        "namespace": "shop",
        "pod": "web-0",
        "container": "nginx",
        "cpu_limit": "1",
        "memory_limit_gib": "0.5",
    }
    until = now_floor()
    batches = [
        b
        for b in collector.collect_metrics(until - timedelta(seconds=30), until)
        if b.series.resource_id == nginx.resource_id
    ]
    by_metric = {b.series.metric: b for b in batches}
    assert set(by_metric) == {"cpu_utilization", "memory_utilization"}
    assert by_metric["memory_utilization"].values == pytest.approx(50.0)  # 128 MiB of 256 MiB requested
    # 0.25 of 0.5 cores; rate() over a 5 s window of 1 s scrapes extrapolates a little short of the true rate
    assert float(np.median(by_metric["cpu_utilization"].values)) == pytest.approx(50.0, abs=12)
    assert by_metric["cpu_utilization"].series.labels["namespace"] == "shop"


def test_range_queries_are_chunked_under_the_server_limit(prometheus_stack) -> None:  # type: ignore[no-untyped-def]
    cfg = settings(prometheus_stack.url, max_points_per_query=10_000)
    client = PrometheusClient(cfg)
    end = int(now_floor().timestamp())
    start = end - 25_000
    with pytest.raises(CollectorError, match="exceeded maximum resolution"):
        client.get("/api/v1/query_range", {"query": "vector(1)", "start": start, "end": end, "step": 1})
    assert len(chunk_range(start, end, 1, 10_000)) == 3
    stamps = [ts for series in client.query_range("vector(1)", start, end, 1) for ts, _ in series.points]
    assert stamps == list(range(start, end + 1))  # every second once: no gap, no duplicate at chunk edges
    node = f'up{{instance="{prometheus_stack.node_instance}"}}'
    chunks = list(client.query_range(node, end - 30, end, 1))
    assert len(chunks) == 1 and len(chunks[0].points) > 3
    one_point_chunks = PrometheusClient(cfg.model_copy(update={"max_points_per_query": 100}))
    odd = [ts for s in one_point_chunks.query_range("vector(1)", start, start + 1_001, 7) for ts, _ in s.points]
    assert odd == list(range(start, start + 1_002, 7))
    client.close()


def test_an_unreachable_url_names_it(prometheus_stack) -> None:  # type: ignore[no-untyped-def]
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(EndpointUnreachableError, match=url.replace(".", r"\.")) as err:
        PrometheusCollector(settings(url)).check()
    assert "\n" not in str(err.value)


def test_throttling_is_retried_then_reported(gateway) -> None:  # type: ignore[no-untyped-def]
    collector = PrometheusCollector(settings(gateway.url))
    gateway.fail_next, gateway.fail_status = 2, 429
    collector.check()
    assert [path for path, _ in gateway.seen] == ["/api/v1/status/buildinfo"] * 3
    gateway.fail_next, gateway.fail_status = 5, 503
    with pytest.raises(ThrottledError, match="HTTP 503 on all 3 attempts"):
        collector.check()


def test_bearer_token_comes_from_the_named_variable(gateway, monkeypatch, sqlite_url) -> None:  # type: ignore[no-untyped-def]
    gateway.token = "s3cret-token"  # noqa: S105 - a test token
    monkeypatch.delenv("PROM_TOKEN", raising=False)
    with pytest.raises(MissingCredentialsError, match="PROM_TOKEN"):
        PrometheusCollector(settings(gateway.url, bearer_token_env=TOKEN_ENV)).check()
    monkeypatch.setenv("PROM_TOKEN", "wrong")
    with pytest.raises(MissingCredentialsError, match="HTTP 401.*PROM_TOKEN") as err:
        PrometheusCollector(settings(gateway.url, bearer_token_env=TOKEN_ENV)).check()
    assert "wrong" not in str(err.value)
    # a refused source stores nothing
    upgrade(sqlite_url)
    store = open_metric_store(sqlite_url)
    with pytest.raises(IngestError, match="401"):
        run_collector(
            PrometheusCollector(settings(gateway.url, bearer_token_env=TOKEN_ENV)),
            db_url=sqlite_url,
            metric_store=store,
        )
    assert store.series() == []
    monkeypatch.setenv("PROM_TOKEN", "s3cret-token")
    hosts = list(PrometheusCollector(settings(gateway.url, bearer_token_env=TOKEN_ENV)).discover())
    assert any(h.kind == "vm" for h in hosts)
    assert gateway.seen[-1][1] == "Bearer s3cret-token"
    store.close()
