"""The distributed mode, proven on one machine: the processes docker-compose.yml and k8s/ declare (migrate, two APIs,
two workers, one beat) run as local processes against real PostgreSQL, Redis and InfluxDB, scraped by Prometheus.

A daily retrain of the demo fleet spreads across both workers; one worker is SIGKILLed while it holds a retrain
task, and nothing is lost (its task is redelivered to the other); both APIs then serve the same forecasts.
"""

from __future__ import annotations

import json
import secrets
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from celery import Celery

from services import tasks
from services.metrics import open_metric_store
from services.telemetry import EXPORTED_METRICS
from testbed.cluster import Cluster, cluster_settings, running_cluster
from testbed.manifests import OVERLAYS, compose_commands, dashboard_queries, k8s_commands
from testbed.servers import (
    LOCALHOST,
    InfluxServer,
    ManagedServer,
    PostgresServer,
    RedisServer,
    ensure_binary,
    free_port,
    start_process,
    wait_until,
)

pytestmark = pytest.mark.integration

RESOURCES = 8  # demo machines; two series each (CPU and memory)
CHUNK_SIZE = 2  # series per retrain task, so the fan-out has work for both workers whatever the default
REDELIVER_AFTER = 15  # seconds before a dead worker's task goes back to the queue (Redis visibility timeout)
RETRAIN_TASKS = {name for name in (getattr(tasks, "TASK_RETRAIN_CHUNK", None), tasks.TASK_RETRAIN_SERIES) if name}
REDIS_DB = 14


@dataclass
class Deployment:
    cluster: Cluster
    celery: Celery
    token: str
    series: list[str]
    prometheus: str
    servers: list[ManagedServer] = field(default_factory=list)

    def get(self, api: str, path: str, **params: Any) -> httpx.Response:
        return httpx.get(f"{api}{path}", params=params, headers={"Authorization": f"Bearer {self.token}"},
                         timeout=30)


def _start_prometheus(workdir: Path, cluster: Cluster) -> ManagedServer:
    binary = ensure_binary("prometheus", "prometheus")
    apis = [url.removeprefix("http://") for url in cluster.api_urls]
    workers = [url.removeprefix("http://").removesuffix("/metrics") for url in cluster.worker_metrics.values()]
    (workdir / "prometheus.yml").write_text(
        "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
        "scrape_configs:\n"
        f"  - {{job_name: headroom-api, static_configs: [{{targets: {json.dumps(apis)}}}]}}\n"
        f"  - {{job_name: headroom-worker, static_configs: [{{targets: {json.dumps(workers)}}}]}}\n"
    )
    port = free_port()
    server = start_process("prometheus", [binary, f"--config.file={workdir / 'prometheus.yml'}",
                                          f"--storage.tsdb.path={workdir / 'tsdb'}",
                                          f"--web.listen-address={LOCALHOST}:{port}"], workdir, port)
    wait_until(lambda: httpx.get(f"http://{LOCALHOST}:{port}/-/ready", timeout=2).status_code == 200,
               what="prometheus", timeout=60, log=server.log)
    return server


def _create_token(database_url: str) -> str:
    from services.auth import create_token, ensure_user
    from services.db.engine import session_scope

    with session_scope(database_url) as session:
        user = ensure_user(session, email="distributed@test", role="viewer")
        return create_token(session, user=user, name="distributed-test", role="viewer", ttl=timedelta(days=1)).token


@pytest.fixture(scope="module")
def deployment(postgres_server: PostgresServer, redis_server: RedisServer,
               influx_server: InfluxServer) -> Iterator[Deployment]:
    workdir = Path(tempfile.mkdtemp(prefix="headroom-distributed-"))
    database_url = postgres_server.create_database("headroom_dist")
    influx_db = f"headroom_dist_{secrets.token_hex(4)}"
    redis_server.flush(REDIS_DB)
    broker = redis_server.url(REDIS_DB)
    settings = cluster_settings(database_url=database_url, metrics_url=influx_server.url(influx_db),
                                broker_url=broker, result_backend=broker, workdir=workdir, resources=RESOURCES,
                                days=4, chunk_size=CHUNK_SIZE, redeliver_after=REDELIVER_AFTER,
                                model="seasonal_naive")
    prometheus: ManagedServer | None = None
    try:
        with running_cluster(workdir, settings) as cluster:
            cluster.run("migrate")
            # everything else starts at once, as compose does once migrate has completed
            collect = cluster.spawn("migrate", "collect", "--source", "demo")
            for name in ("api-1", "api-2"):
                cluster.start_api(name, wait=False)
            for name in ("worker-a", "worker-b"):
                cluster.start_worker(name)
            cluster.start("beat", "beat")
            celery = Celery("headroom-test-client", broker=broker, backend=broker)
            token = _create_token(database_url)
            cluster.wait_for_apis()
            cluster.wait_for_workers(celery)
            assert collect.wait(timeout=300) == 0, cluster.logs()
            prometheus = _start_prometheus(workdir, cluster)
            store = open_metric_store(settings["HEADROOM_METRICS_URL"])
            try:
                series = [s.series_id for s in store.series()]
            finally:
                store.close()
            assert len(series) >= 2 * RESOURCES  # CPU and memory of each machine, more for some
            yield Deployment(cluster, celery, token, series, f"http://{LOCALHOST}:{prometheus.port}")
    finally:
        if prometheus is not None:
            prometheus.workdir = None
            prometheus.stop()
        influx_server.query(f'DROP DATABASE "{influx_db}"')
        postgres_server.drop_database(database_url)
        redis_server.flush(REDIS_DB)
        shutil.rmtree(workdir, ignore_errors=True)


def test_the_processes_are_the_ones_compose_and_kubernetes_declare() -> None:
    declared = compose_commands()
    for overlay in OVERLAYS:
        assert k8s_commands(overlay) == declared
    assert set(declared) == {"migrate", "api", "worker", "beat"}


def test_both_apis_are_ready_and_carry_request_ids(deployment: Deployment) -> None:
    for api in deployment.cluster.api_urls:
        ready = httpx.get(f"{api}/api/ready", timeout=10)
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"database": "ok", "metric_store": "ok", "broker": "ok"}
        echoed = httpx.get(f"{api}/api/sources", headers={"X-Request-ID": "trace-42"}, timeout=10)
        assert echoed.status_code == 401 and echoed.headers["x-request-id"] == "trace-42"
        assert len(httpx.get(f"{api}/api/health", timeout=10).headers["x-request-id"]) == 32
    # compose runs the API with HEADROOM_DEPLOY__LOG_FORMAT=json: one JSON object per line, with the request id
    lines = (deployment.cluster.workdir / "api-1.log").read_text().splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    assert any(r.get("request_id") == "trace-42" and r.get("status") == 401 and r.get("route") == "/api/sources"
               for r in records)
    assert deployment.cluster.processes["beat"].poll() is None, "beat died:\n" + deployment.cluster.logs()


@dataclass
class RetrainOutcome:
    as_of: str
    killed: str
    killed_tasks: list[str]
    done_by_killed: int


def _retrain_totals(stats: dict[str, Any] | None, node: str) -> int:
    totals = ((stats or {}).get(node) or {}).get("total") or {}
    return sum(int(n) for name, n in totals.items() if name in RETRAIN_TASKS)


def _unacked_retrain_ids(broker_url: str) -> set[str]:
    """Retrain tasks some worker has taken but not acknowledged (kombu's Redis transport keeps them in `unacked`)."""
    client = redis.Redis.from_url(broker_url)
    try:
        headers = [json.loads(raw)[0]["headers"] for raw in client.hvals("unacked")]
    finally:
        client.close()
    return {h["id"] for h in headers if h.get("task") in RETRAIN_TASKS}


@pytest.fixture(scope="module")
def retrained(deployment: Deployment) -> RetrainOutcome:
    """The daily retrain, fanned out by check_for_retrain; worker-b is SIGKILLed while it holds a retrain task
    (after it has finished at least one, so both workers have taken part).

    To know for sure which tasks worker-b held when it died, it is frozen (SIGSTOP) first: the tasks then still
    unacknowledged, less those worker-a reports as its own, are worker-b's."""
    cluster, celery = deployment.cluster, deployment.celery
    broker = cluster.settings["HEADROOM_BROKER_URL"]
    # as of the day before yesterday, so at least a day of actuals has arrived since and the forecasts' live accuracy
    # can be scored whatever the time of day (as of yesterday, a run in the first hour after midnight UTC has no
    # forecast hour over yet, and nothing to score)
    as_of = (datetime.now(UTC).date() - timedelta(days=2)).isoformat()
    celery.send_task(tasks.TASK_CHECK_FOR_RETRAIN, args=[as_of])
    victim, survivor = cluster.worker_nodes["worker-b"], cluster.worker_nodes["worker-a"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        inspect = celery.control.inspect(destination=[victim], timeout=1)
        active = [t for t in (inspect.active() or {}).get(victim, []) if t["name"] in RETRAIN_TASKS]
        done = _retrain_totals(inspect.stats(), victim)
        if active and done >= 1:
            cluster.signal("worker-b", signal.SIGSTOP)
            before = _unacked_retrain_ids(broker)
            peer = celery.control.inspect(destination=[survivor], timeout=2)
            held_by_survivor = {t["id"] for group in (peer.active(), peer.reserved())
                                for t in (group or {}).get(survivor, [])}
            held_by_victim = (before & _unacked_retrain_ids(broker)) - held_by_survivor
            if held_by_victim:
                cluster.kill("worker-b")
                return RetrainOutcome(as_of, "worker-b", sorted(held_by_victim), done)
            cluster.signal("worker-b", signal.SIGCONT)  # it had just acknowledged its task: try again
        time.sleep(0.1)
    raise AssertionError("worker-b never held a retrain task after finishing one:\n" + cluster.logs())


def test_a_killed_worker_loses_nothing_and_the_retrain_spread_across_both(
    deployment: Deployment, retrained: RetrainOutcome
) -> None:
    cluster, celery = deployment.cluster, deployment.celery
    # the tasks worker-b held unacknowledged when it died are redelivered (visibility timeout) to worker-a
    for task_id in retrained.killed_tasks:
        result = celery.AsyncResult(task_id).get(timeout=REDELIVER_AFTER + 120)
        assert result["as_of"] == retrained.as_of
    survivor = cluster.worker_nodes["worker-a"]
    assert retrained.done_by_killed >= 1
    assert _retrain_totals(celery.control.inspect(destination=[survivor], timeout=5).stats(), survivor) >= 1
    # every series of the day is trained exactly once: the run is finished with nothing failed
    api = cluster.api_urls[0]
    wait_until(lambda: _run(deployment, api, retrained.as_of)["status"] == "finished", what="the day's run",
               timeout=REDELIVER_AFTER + 120)
    run = _run(deployment, api, retrained.as_of)
    assert run["failed"] == 0 and run["done"] + run["skipped"] == run["total"]
    assert run["done"] >= len(deployment.series)
    # the liveness probe tells the dead worker from the live one
    cluster.run("worker", "worker-ping", HEADROOM_DEPLOY__WORKER_NAME=survivor)
    with pytest.raises(AssertionError, match="did not answer"):
        cluster.run("worker", "worker-ping", "--timeout", "2",
                    HEADROOM_DEPLOY__WORKER_NAME=cluster.worker_nodes["worker-b"])


def _run(deployment: Deployment, api: str, as_of: str) -> dict[str, Any]:
    response = deployment.get(api, "/api/training/runs")
    response.raise_for_status()
    runs = [r for r in response.json()["items"] if r["as_of"] == as_of]
    assert runs, response.text
    run: dict[str, Any] = runs[0]
    return run


def test_both_apis_serve_the_same_forecasts(deployment: Deployment, retrained: RetrainOutcome) -> None:
    first, second = deployment.cluster.api_urls
    wait_until(lambda: _run(deployment, first, retrained.as_of)["status"] == "finished", what="the day's run",
               timeout=REDELIVER_AFTER + 120)
    def both(query: tuple[str, str]) -> tuple[httpx.Response, httpx.Response]:
        series_id, stat = query
        return (deployment.get(first, "/api/forecasts", series_id=series_id, stat=stat),
                deployment.get(second, "/api/forecasts", series_id=series_id, stat=stat))

    queries = [(series_id, "mean") for series_id in deployment.series] + [(s, "p95") for s in deployment.series[:4]]
    with ThreadPoolExecutor(max_workers=4) as pool:
        for a, b in pool.map(both, queries):
            assert a.status_code == 200, a.text
            assert a.json() == b.json()
            assert a.json()["as_of"] == retrained.as_of and len(a.json()["points"]) > 0


def _prometheus(deployment: Deployment, query: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{deployment.prometheus}/api/v1/query", params={"query": query}, timeout=10)
    body = response.json()
    assert body["status"] == "success", f"{query}: {body}"
    result: list[dict[str, Any]] = body["data"]["result"]
    return result


def _exported_names(deployment: Deployment) -> set[str]:
    query = 'group by (__name__) ({__name__=~"headroom_.+"})'
    found = {r["metric"]["__name__"] for r in _prometheus(deployment, query)}
    return {name.removesuffix("_bucket").removesuffix("_count").removesuffix("_sum")
            if name.endswith(("_bucket", "_count", "_sum")) and name.rsplit("_", 1)[0] in EXPORTED_METRICS
            else name for name in found}


def test_prometheus_scrapes_every_metric_headroom_exports(deployment: Deployment, retrained: RetrainOutcome) -> None:
    cluster, celery = deployment.cluster, deployment.celery
    # a task that fails (no such source) and a scoring of yesterday's forecasts against today's actuals
    failed = celery.send_task(tasks.TASK_COLLECT_SOURCE, args=["no-such-source"])
    with pytest.raises(Exception, match="no-such-source"):
        failed.get(timeout=60)
    wait_until(lambda: _run(deployment, cluster.api_urls[0], retrained.as_of)["status"] == "finished",
               what="the day's run", timeout=REDELIVER_AFTER + 120)
    celery.send_task(tasks.TASK_REFRESH_ACCURACY)
    for api in cluster.api_urls:  # some traffic on both APIs
        deployment.get(api, "/api/forecasts", series_id=deployment.series[0])
    def scraped() -> bool:  # the tasks above have run and both kinds of process have been scraped since
        tasks_seen = {r["metric"]["task"] for r in _prometheus(deployment, "headroom_task_duration_seconds_count")}
        return set(EXPORTED_METRICS) <= _exported_names(deployment) and tasks.TASK_REFRESH_ACCURACY in tasks_seen

    deadline = time.monotonic() + 60
    while not scraped() and time.monotonic() < deadline:
        time.sleep(0.5)
    # exactly the metrics Headroom says it exports (the list the dashboard test checks queries against)
    assert _exported_names(deployment) == set(EXPORTED_METRICS), cluster.logs()
    # latency by route template, from both API processes
    by_instance = _prometheus(deployment, 'sum by (instance) (headroom_http_request_duration_seconds_count'
                                          '{route="/api/forecasts", status="200"})')
    assert len(by_instance) == 2
    # task durations by task from the surviving worker, the failure counted against its task
    tasks_seen = {r["metric"]["task"] for r in _prometheus(deployment, "headroom_task_duration_seconds_count")}
    assert tasks_seen & RETRAIN_TASKS
    assert {tasks.TASK_COLLECT_SOURCE, tasks.TASK_REFRESH_ACCURACY} <= tasks_seen
    failures = _prometheus(deployment, "headroom_task_failures_total")
    assert {r["metric"]["task"] for r in failures} == {tasks.TASK_COLLECT_SOURCE}
    lag = _prometheus(deployment, "headroom_ingest_lag_seconds")
    assert {r["metric"]["source"] for r in lag} >= {"demo"}
    accuracy = _prometheus(deployment, 'headroom_forecast_accuracy{measure="mase"}')
    assert accuracy and all(float(r["value"][1]) > 0 for r in accuracy)
    # and every query of the shipped Grafana dashboard runs on it
    for expr in dashboard_queries():
        _prometheus(deployment, expr)
