"""Distributed mode on this machine: retrain throughput with one and with two workers (series per second), and API
latency under wrk at a fixed request rate against two API processes. Writes bench/results/distributed.{md,json}.

    nice -n 10 .venv/bin/python bench/distributed_bench.py            # about 6 minutes on 2 cores

The processes are the `command:` lines of docker-compose.yml (testbed/cluster.py), against real
PostgreSQL, Redis and InfluxDB started as in the tests.
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from celery import Celery

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from services import tasks
from services.auth import create_token, ensure_user
from services.db.engine import session_scope
from services.forecasting.training_runs import list_runs
from services.metrics import open_metric_store
from testbed.cluster import Cluster, cluster_settings, running_cluster
from testbed.servers import ensure_binary, start_influxdb, start_postgres, start_redis

ROOT = Path(__file__).resolve().parents[1]
WRK_SCRIPT = ROOT / "bench" / "distributed_wrk.lua"
REDIS_DB = 13


def _finished_run(database_url: str, as_of: date) -> Any:
    with session_scope(database_url) as session:
        runs = [r for r in list_runs(session, limit=100) if r.as_of == as_of]
        if runs and runs[0].status == "finished":
            session.expunge(runs[0])
            return runs[0]
    return None


def retrain_round(celery: Celery, database_url: str, as_of: date, timeout: float = 1800) -> dict[str, float]:
    """Fan out the day's retrain and time it until the day's training run is finished."""
    started = time.perf_counter()
    celery.send_task(tasks.TASK_CHECK_FOR_RETRAIN, args=[as_of.isoformat()])
    deadline = started + timeout
    while time.perf_counter() < deadline:
        run = _finished_run(database_url, as_of)
        if run is not None:
            seconds = time.perf_counter() - started
            return {"series": run.done, "skipped": run.skipped, "failed": run.failed, "seconds": seconds,
                    "series_per_second": run.done / seconds}
        time.sleep(0.25)
    raise TimeoutError(f"the retrain as of {as_of} did not finish within {timeout:.0f}s")


def throughput(cluster: Cluster, celery: Celery, database_url: str, workers: int, day: date,
               warm_up_series: list[str]) -> dict[str, float]:
    """The measured round with `workers` workers running, each warmed up first by one series of another day (each
    worker takes one task at a time, so `workers` warm-up tasks sent together land one per worker)."""
    for i in range(1, workers + 1):
        if f"bench-worker-{i}" not in cluster.processes:
            cluster.start_worker(f"bench-worker-{i}", concurrency=1)
    cluster.wait_for_workers(celery)
    warm_day = (day - timedelta(days=1)).isoformat()
    pending = [celery.send_task(tasks.TASK_RETRAIN_SERIES, args=[series_id, warm_day, True])
               for series_id in warm_up_series[:workers]]
    for result in pending:
        result.get(timeout=600)
    return retrain_round(celery, database_url, day)


def wrk_latency(cluster: Cluster, token: str, series_id: str, rate: int, seconds: int, connections: int,
                latency_ms: float = 0.0) -> list[dict[str, Any]]:
    """One wrk per API process, each at rate/2 requests per second, run at the same time; latency_ms (the mean
    latency of a warm-up) is taken off each connection's pause, since wrk waits for a response before pausing."""
    wrk = ensure_binary("wrk", "wrk")
    path = "/api/forecasts?" + urlencode({"series_id": series_id})
    procs = []
    for url in cluster.api_urls:
        env = {"HEADROOM_TOKEN": token, "HEADROOM_PATH": path, "HEADROOM_RATE": str(rate / len(cluster.api_urls)),
               "HEADROOM_CONNECTIONS": str(connections), "HEADROOM_LATENCY_MS": f"{latency_ms:.1f}",
               "PATH": "/usr/bin:/bin"}
        argv = [wrk, "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s", "-s", str(WRK_SCRIPT),
                url]
        procs.append(subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True))
    results = []
    for url, proc in zip(cluster.api_urls, procs, strict=True):
        out, _ = proc.communicate(timeout=seconds + 60)
        line = next(line for line in reversed(out.splitlines()) if line.startswith("{"))
        results.append({"api": url, **json.loads(line)})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=12, help="demo machines (2-4 series each)")
    parser.add_argument("--days", type=int, default=14, help="days of demo history")
    parser.add_argument("--model", default="auto_ets", help="HEADROOM_FORECASTING__MODEL of the workers")
    parser.add_argument("--chunk-size", type=int, default=2)
    parser.add_argument("--rate", type=int, default=20, help="total requests per second for wrk (both APIs)")
    parser.add_argument("--seconds", type=int, default=30, help="wrk duration")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections per API process")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "distributed")
    args = parser.parse_args()

    postgres, redis_server, influx = start_postgres(), start_redis(), start_influxdb()
    database_url = postgres.create_database("headroom_bench")
    influx_db = f"headroom_bench_{secrets.token_hex(4)}"
    redis_server.flush(REDIS_DB)
    broker = redis_server.url(REDIS_DB)
    workdir = Path(tempfile.mkdtemp(prefix="headroom-dist-bench-"))
    settings = cluster_settings(database_url=database_url, metrics_url=influx.url(influx_db), broker_url=broker,
                                result_backend=broker, workdir=workdir, resources=args.resources, days=args.days,
                                chunk_size=args.chunk_size, redeliver_after=3600, model=args.model)
    report: dict[str, Any] = {"when": datetime.now(UTC).isoformat(timespec="seconds"), "args": vars(args) | {
        "out": str(args.out)}}
    try:
        with running_cluster(workdir, settings) as cluster:
            cluster.run("migrate")
            cluster.run("migrate", "collect", "--source", "demo", timeout=1800)
            store = open_metric_store(settings["HEADROOM_METRICS_URL"])
            series = [s.series_id for s in store.series()]
            store.close()
            report["series"] = len(series)
            celery = Celery("headroom-bench", broker=broker, backend=broker)
            today = datetime.now(UTC).date()
            report["one_worker"] = throughput(cluster, celery, database_url, 1, today - timedelta(days=2), series)
            report["two_workers"] = throughput(cluster, celery, database_url, 2, today - timedelta(days=4), series)
            for name in [n for n in cluster.processes if n.startswith("bench-worker")]:
                cluster.kill(name)  # idle CPU for the latency run
            for name in ("api-1", "api-2"):
                cluster.start_api(name)
            with session_scope(database_url) as session:
                user = ensure_user(session, email="bench@localhost", role="viewer")
                token = create_token(session, user=user, name="bench", role="viewer", ttl=timedelta(days=1)).token
            warm = wrk_latency(cluster, token, series[0], args.rate, 10, args.connections)
            mean_ms = sum(r["mean_ms"] for r in warm) / len(warm)
            report["wrk"] = wrk_latency(cluster, token, series[0], args.rate, args.seconds, args.connections, mean_ms)
    finally:
        influx.query(f'DROP DATABASE "{influx_db}"')
        postgres.drop_database(database_url)
        redis_server.flush(REDIS_DB)
        for server in (influx, redis_server, postgres):
            server.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(markdown(report))
    print(markdown(report))


def markdown(report: dict[str, Any]) -> str:
    a = report["args"]
    one, two = report["one_worker"], report["two_workers"]
    lines = [
        f"# Distributed mode on this machine ({report['when']})", "",
        f"Demo fleet: {report['series']} series ({a['resources']} machines, {a['days']} days), model "
        f"`{a['model']}`, chunks of {a['chunk_size']} series, each worker `headroom worker` with concurrency 1.", "",
        "| workers | series trained | seconds | series / second |", "|---|---|---|---|",
        f"| 1 | {one['series']} | {one['seconds']:.1f} | {one['series_per_second']:.2f} |",
        f"| 2 | {two['series']} | {two['seconds']:.1f} | {two['series_per_second']:.2f} |", "",
        f"API: GET /api/forecasts with wrk, {a['connections']} connections per API process, {a['rate']} requests/s "
        f"in total spread over the two processes, {a['seconds']} s. wrk has no fixed-rate mode (that is wrk2, not in "
        "Debian): each connection pauses (Lua `delay()`) so its requests start every connections/rate seconds, less "
        "the mean latency of a warm-up run; the achieved rate is shown. Latencies are wrk's (no coordinated-omission "
        "correction).",
        "", "| API process | requests | achieved req/s | p50 ms | p90 ms | p99 ms | max ms | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in report["wrk"]:
        lines.append(f"| {r['api']} | {r['requests']} | {r['rate']:.1f} | {r['p50_ms']:.1f} | {r['p90_ms']:.1f} | "
                     f"{r['p99_ms']:.1f} | {r['max_ms']:.1f} | {r['errors'] + r['non2xx']} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
