"""Scale benchmark: the demo fleet at N resources through every stage (one module: the stages, the runner that
spawns them as `--stage` children, and the report all share one fleet's settings), with time, peak memory, storage.

    .venv/bin/python bench/scale.py --resources 100,1000 [--days 15] [--sample 24] [--rate 20] [--seconds 20]
    .venv/bin/python bench/scale.py --distributed --resources 100,1000,10000 --workers 1,2,4

The fleet is the demo's with every metric on each machine (5 series per resource: 10,000 resources are 50,000
series). Embedded mode keeps everything in SQLite under a throwaway folder. --distributed starts PostgreSQL, Redis
and InfluxDB as the tests do (testbed/servers.py) and gives each N fresh databases; the retrain then runs on real
Celery workers (`headroom worker`, concurrency 1 each, as docker-compose.yml runs them) and the API as
`headroom serve --workers 1` and `--workers 2`. Every other stage runs in a child process of its own, so its peak
resident memory is its own (os.wait4):

- backfill: the demo source's N resources, `--days` of hourly samples and their bill, through the ingest path
  (services.ingest.ingest.run_collector, as `headroom collect`); points per second into the metric store. The
  first 10 resources then get 90 days (the GET /api/metrics load below reads 90 days);
- round: one 5-minute collection round after it (one sample per series, at 5-minute steps);
- retrain cold, then warm (the next day, from the stored states): the product's model (the ensemble and the global
  network, as the daily retrain) on a sample of `--sample` metric series; series per second per worker (embedded:
  one process; distributed: 1, 2 and 4 workers, `--workers`), and the day's retrain of every series extrapolated
  from that rate (the global network once, then every series at the measured rate);
- recommend: every recommender over the whole fleet (`headroom recommend refresh`);
- alerts: one evaluation of one rule of each fleet-wide kind (capacity, runway, growth, metric anomaly, source
  silent) over the whole fleet;
- api: an open-loop load at fixed arrival rates (each latency counts from the request's scheduled start, so a
  slow answer delays no later request's clock: no coordinated omission) on the fleet page (GET /api/fleet, 50
  rows), the resource page (the resource, its CPU series over 14 days, its forecast), GET /api/forecasts and
  GET /api/metrics over 90 days; for each, the highest rate of `--rates` at which p99 stays under 100 ms;
- first view: the dashboard's overview in Chromium (bench/scale_first_view.mjs), with the built frontend.

Writes bench/results/scale.json, scale.md and scale.png (time per stage against N, log-log, with the growth
exponent between the two largest N).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.append(str(REPO))  # after PYTHONPATH: bench/scale_recommend.py runs the stages with other code trees
from bench.open_loop import highest_passing, open_loop, sweep  # noqa: E402

RESULTS = REPO / "bench" / "results"
END = datetime(2026, 11, 30, tzinfo=UTC)  # the backfill ends here: every run of the benchmark sees the same data
STAGES = ("backfill", "round", "train_cold", "train_warm", "recommend", "alerts")
HISTORY_RESOURCES, HISTORY_DAYS = 10, 90  # the first resources of the fleet (the same machines whatever N)
REDIS_DB = 12
RULES = [
    {"name": "capacity", "kind": "capacity", "params": {"threshold": 80}},
    {"name": "runway", "kind": "runway", "params": {"threshold": 80, "lead_time_days": 30}},
    {"name": "growth", "kind": "growth", "params": {"percent": 20}},
    {"name": "anomaly", "kind": "metric_anomaly", "params": {}},
    {"name": "silent", "kind": "source_silent", "params": {"max_silence_minutes": 60}},
]


# --- the stages, each run in a child process ------------------------------------------------------------------
def _settings(args: argparse.Namespace, step_minutes: int = 60) -> Any:
    from services.settings import load_settings

    folder = Path(args.folder)
    empty = folder / "config"
    empty.mkdir(exist_ok=True)
    overrides: dict[str, Any] = {
        "data_dir": folder, "config_dir": empty, "frontend_dist": folder / "no-dist",
        # the demo's history ends now: it must reach back past END - HISTORY_DAYS (each backfill asks for its window)
        "providers": {"demo": {"resources": args.n, "days": (datetime.now(UTC) - END).days + HISTORY_DAYS + 2,
                               "step_minutes": step_minutes, "seed": 7,
                               "every_metric": True}},
        "alerts": {"rules": [{**r, "channels": []} for r in RULES]},
    }
    if args.database_url:
        overrides["database_url"] = args.database_url
    if args.metrics_url:
        overrides["metrics_url"] = args.metrics_url
    overrides["artifacts_url"] = str(folder / "models")  # shared with the Celery workers of the distributed mode
    if getattr(args, "broker_url", None):
        overrides["broker_url"] = overrides["result_backend"] = args.broker_url
    return load_settings(**overrides)


def _collect(args: argparse.Namespace, step_minutes: int, until: datetime,
             backfill: timedelta | None) -> dict[str, Any]:
    from services.ingest.ingest import run_collector
    from services.ingest.sources import build_collector
    from services.metrics import open_metric_store

    settings = _settings(args, step_minutes)
    store = open_metric_store(settings.metrics_url)
    try:
        started = time.perf_counter()
        result = run_collector(build_collector(settings, "demo"), db_url=settings.database_url, metric_store=store,
                               until=until, backfill=backfill)
        seconds = time.perf_counter() - started
    finally:
        store.close()
    return {"seconds": seconds, "resources": result.resources, "series": result.series, "points": result.samples,
            "points_per_second": result.samples / seconds if seconds else None, "costs": result.costs}


def stage_backfill(args: argparse.Namespace) -> dict[str, Any]:
    from services.db.migrate import upgrade

    settings = _settings(args)
    upgrade(settings.database_url)
    if settings.metrics_url != settings.database_url and settings.metrics_url.startswith(("sqlite", "postgresql")):
        upgrade(settings.metrics_url)
    # the older history first: each stream's last success is the last run's `until`, which must be END, so that
    # the round after it asks for inventory and the bill only when their cadence says so, as in production
    older = argparse.Namespace(**{**vars(args), "n": min(args.n, HISTORY_RESOURCES)})  # the same first machines
    history = _collect(older, 60, END - timedelta(days=args.days), timedelta(days=HISTORY_DAYS - args.days))
    return {**_collect(args, 60, END, timedelta(days=args.days)), "history": history}


def stage_round(args: argparse.Namespace) -> dict[str, Any]:
    return _collect(args, 5, END + timedelta(minutes=5), None)


def _sample(args: argparse.Namespace) -> tuple[Any, list[str], int]:
    settings = _settings(args)
    ids = all_metric_series(settings)
    chosen = random.Random(7).sample(ids, min(args.sample, len(ids)))
    return settings, sorted(chosen), len(ids)


def _train(args: argparse.Namespace, day: datetime) -> dict[str, Any]:
    from services.forecasting.global_model import ensure_global_model
    from services.forecasting.training_pool import train_in_processes

    settings, chosen, total = _sample(args)
    started = time.perf_counter()
    ensure_global_model(settings, day.date())  # once a day on every series, before the per-series fits
    network = time.perf_counter() - started
    summary = train_in_processes(as_of=day.date(), settings=settings, jobs=1, series_ids=chosen, force=True)
    seconds = time.perf_counter() - started
    rate = len(summary.trained) / (seconds - network) if seconds > network else 0.0
    return {"seconds": seconds, "network_seconds": network, "series": len(chosen), "trained": len(summary.trained),
            "errors": len(summary.errors), "series_per_second": rate, "all_series": total,
            "all_series_hours_one_worker": (network + total / rate) / 3600 if rate else None}


def stage_train_cold(args: argparse.Namespace) -> dict[str, Any]:
    return _train(args, END - timedelta(days=1))


def stage_train_warm(args: argparse.Namespace) -> dict[str, Any]:
    return _train(args, END)


# --- the retrain on Celery workers (distributed mode) ------------------------------------------------------------
def _worker_peak_mib(pid: int) -> float:
    """The largest peak resident memory (VmHWM) of a worker and its task processes."""
    peak, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            status = Path(f"/proc/{p}/status").read_text()
            children = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            continue
        hwm = next((line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")), "0")
        peak = max(peak, int(hwm) / 1024)
        todo += [int(c) for c in children]
    return peak


def distributed_training(args: argparse.Namespace, folder: Path, n: int) -> dict[str, Any]:
    """The day's global network once (TASK_RETRAIN_GLOBAL on one worker), then the sample's series as
    TASK_RETRAIN_SERIES on 1, 2 and 4 workers: cold (the first day) on the first worker count, warm (the next day,
    from the stored states) on each."""
    from celery import Celery

    from services import tasks
    from testbed.cluster import Cluster

    ns = argparse.Namespace(**{**vars(args), "folder": str(folder), "n": n})
    settings = _settings(ns)
    ids = [s for s in all_metric_series(settings)]
    sample = sorted(random.Random(7).sample(ids, min(args.sample, len(ids))))
    warmups = [s for s in ids if s not in set(sample)][:max(args.workers)]
    env = {"HEADROOM_DATABASE_URL": settings.database_url, "HEADROOM_METRICS_URL": settings.metrics_url,
           "HEADROOM_BROKER_URL": settings.broker_url, "HEADROOM_RESULT_BACKEND": settings.result_backend,
           "HEADROOM_ARTIFACTS_URL": settings.artifacts_url, "HEADROOM_CONFIG_DIR": str(settings.config_dir),
           "HEADROOM_SECRET_KEY": "scale-bench-" + "x" * 32, "HEADROOM_LOG_LEVEL": "INFO",
           "HEADROOM_PROVIDERS__DEMO__RESOURCES": str(n), "HEADROOM_PROVIDERS__DEMO__EVERY_METRIC": "true"}
    celery = Celery("headroom-scale", broker=settings.broker_url, backend=settings.result_backend)
    cluster = Cluster(workdir=folder / "cluster", settings=env)
    (folder / "cluster").mkdir(exist_ok=True)
    out: dict[str, Any] = {"all_series": len(ids), "sample": len(sample)}
    try:
        for kind, day in (("cold", END - timedelta(days=1)), ("warm", END)):
            network = None
            for workers in args.workers if kind == "warm" else args.workers[:1]:
                for i in range(1, workers + 1):
                    if f"worker-{i}" not in cluster.processes:
                        cluster.start_worker(f"worker-{i}", concurrency=1)
                cluster.wait_for_workers(celery)
                if network is None:  # once a day, on one worker, before any series of the day
                    started = time.perf_counter()
                    celery.send_task(tasks.TASK_RETRAIN_GLOBAL, args=[day.date().isoformat(), [], False]).get(
                        timeout=3600)
                    network = time.perf_counter() - started
                # one series per worker first (imports, the network's load), not timed
                for r in [celery.send_task(tasks.TASK_RETRAIN_SERIES, args=[s, day.date().isoformat(), True])
                          for s in warmups[:workers]]:
                    r.get(timeout=1800)
                started = time.perf_counter()
                results = [celery.send_task(tasks.TASK_RETRAIN_SERIES, args=[s, day.date().isoformat(), True])
                           for s in sample]
                trained = sum(len(r.get(timeout=3600)["trained"]) for r in results)
                seconds = time.perf_counter() - started
                rate = trained / seconds
                key = f"train_{kind}_{workers}w"
                out[key] = {"seconds": seconds, "network_seconds": network, "workers": workers, "trained": trained,
                            "series_per_second": rate, "series_per_second_per_worker": rate / workers,
                            "all_series_seconds": network + len(ids) / rate if rate else None,
                            "all_series_hours": (network + len(ids) / rate) / 3600 if rate else None,
                            "peak_rss_mib": max(_worker_peak_mib(cluster.processes[f"worker-{i}"].pid)
                                                for i in range(1, workers + 1))}
                print(f"N={n}: retrain {kind} on {workers} worker(s): {rate:.2f} series/s, network {network:.0f} s",
                      file=sys.stderr, flush=True)
        # untimed: the CPU series of the fleet page's first 50 rows, so the page shows forecasts as in production
        from sqlalchemy import select

        from services.db.engine import session_scope
        from services.db.models import ResourceRow

        with session_scope(settings.database_url) as session:
            first_page = session.scalars(select(ResourceRow.resource_id).order_by(ResourceRow.name, ResourceRow.id)
                                         .limit(50)).all()
        for r in [celery.send_task(tasks.TASK_RETRAIN_SERIES, args=[f"{rid}/cpu_utilization", END.date().isoformat()])
                  for rid in first_page]:
            r.get(timeout=3600)
    finally:
        cluster.stop()
    return out


def all_metric_series(settings: Any) -> list[str]:
    from services.forecasting.training_pool import all_series_ids

    return [s for s in all_series_ids(settings) if not s.startswith("cost:")]


def stage_recommend(args: argparse.Namespace) -> dict[str, Any]:
    from services.recommend.refresh import refresh_recommendations

    settings = _settings(args)
    started = time.perf_counter()
    result = refresh_recommendations(settings, now=END)
    return {"seconds": time.perf_counter() - started, "result": str(result)[:200]}


def stage_alerts(args: argparse.Namespace) -> dict[str, Any]:
    from sqlalchemy import select

    from services.alerting.admin import sync_config
    from services.alerting.state import evaluate_rule
    from services.db.engine import session_scope
    from services.db.models import AlertRuleRow

    settings = _settings(args)
    with session_scope(settings.database_url) as session:
        sync_config(session, settings.alerts)
    started = time.perf_counter()
    findings: dict[str, int] = {}
    with session_scope(settings.database_url) as session:
        for rule in session.scalars(select(AlertRuleRow).where(AlertRuleRow.enabled.is_(True))):
            result = evaluate_rule(session, rule, settings=settings.alerts, now=END + timedelta(minutes=5))
            findings[rule.name] = -1 if result.error else result.findings
    return {"seconds": time.perf_counter() - started, "findings": findings}


# --- the API under a fixed arrival rate (bench/open_loop.py) ----------------------------------------------
def _paths(settings: Any) -> dict[str, list[str]]:
    """The requests of each load: trained series' resources, metrics and forecasts, and the 90-day metrics of the
    resources with 90 days of history."""
    from urllib.parse import quote

    from sqlalchemy import select

    from services.db.engine import session_scope
    from services.db.models import ForecastRow, ResourceRow

    def window(days: int) -> str:  # no '+' in a URL
        return f"start={END - timedelta(days=days):%Y-%m-%dT%H:%M:%SZ}&end={END:%Y-%m-%dT%H:%M:%SZ}"

    with session_scope(settings.database_url) as session:
        trained = sorted(set(session.scalars(select(ForecastRow.series_id).where(ForecastRow.stat == "mean"))))
        resources = session.execute(select(ResourceRow.resource_id, ResourceRow.id).order_by(ResourceRow.id)).all()
    pks = dict(resources)
    trained = [s for s in trained if s.split("/")[0] in pks][:20]
    oldest = {rid for rid, _ in resources[:HISTORY_RESOURCES]}
    history = [s for s in all_metric_series(settings) if s.split("/")[0] in oldest][:20]
    page = []
    for series in trained:
        page += [f"/api/resources/{pks[series.split('/')[0]]}", f"/api/metrics?series_id={quote(series)}&{window(14)}",
                 f"/api/forecasts?series_id={quote(series)}"]
    return {"fleet_page": ["/api/fleet?size=50"], "resource_page": page,
            "forecasts": [f"/api/forecasts?series_id={quote(s)}" for s in trained],
            "metrics_90d": [f"/api/metrics?series_id={quote(s)}&{window(HISTORY_DAYS)}&step=10800" for s in history]}


def api_stage(args: argparse.Namespace, folder: Path, n: int, api_processes: int) -> dict[str, Any]:
    """`headroom serve --workers api_processes` on loopback, then each load: the resource page at --rate, and a
    sweep of --rates on the fleet page, GET /api/forecasts and GET /api/metrics over 90 days."""
    import httpx

    from services.auth import create_token, ensure_user
    from services.db.engine import session_scope
    from testbed.servers import free_port, wait_until

    ns = argparse.Namespace(**{**vars(args), "folder": str(folder), "n": n})
    settings = _settings(ns)
    with session_scope(settings.database_url) as session:
        user = ensure_user(session, email="bench@localhost", role="viewer")
        token = create_token(session, user=user, name="scale", role="viewer", ttl=timedelta(days=1)).token
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADROOM_")}
    env |= {"HEADROOM_DATA_DIR": str(folder), "HEADROOM_CONFIG_DIR": str(folder / "config"),
            "HEADROOM_FRONTEND_DIST": str(REPO / "frontend" / "dist"), "HEADROOM_DATABASE_URL": settings.database_url,
            "HEADROOM_METRICS_URL": settings.metrics_url, "HEADROOM_API_WORKERS": str(api_processes),
            "HEADROOM_ARTIFACTS_URL": settings.artifacts_url, "HEADROOM_LOG_LEVEL": "WARNING",
            # the load comes from one token and one address:
            "HEADROOM_LIMITS__PER_TOKEN": "10000000/minute", "HEADROOM_LIMITS__PER_ADDRESS": "10000000/minute"}
    if settings.broker_url.startswith("redis"):
        env |= {"HEADROOM_BROKER_URL": settings.broker_url, "HEADROOM_RESULT_BACKEND": settings.result_backend}
    log = (folder / f"api-{api_processes}.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "--port", str(port)], cwd=REPO, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    rates = [float(r) for r in args.rates.split(",")]
    try:
        wait_until(lambda: httpx.get(f"{base}/api/ready", timeout=5).status_code == 200, what="the API",
                   timeout=120, log=folder / f"api-{api_processes}.log")
        paths = _paths(settings)
        for _ in range(2 * api_processes):  # untimed first views: every process fills its caches
            for group in paths.values():
                for path in group[:20]:
                    httpx.get(base + path, headers={"Authorization": f"Bearer {token}"}, timeout=120)
        out: dict[str, Any] = {"api_processes": api_processes}
        print(f"N={n}: API with {api_processes} process(es)", file=sys.stderr, flush=True)
        if not args.first_view_only:
            out["resource_page"] = open_loop(base, token, paths["resource_page"], args.rate, args.seconds)
            for name in ("fleet_page", "forecasts", "metrics_90d"):
                out[name] = sweep(base, token, paths[name], [r for r in rates if name == "forecasts" or r <= 200],
                                  args.seconds)
        if api_processes == 1:
            if not (REPO / "frontend" / "dist" / "index.html").is_file():
                raise RuntimeError("frontend/dist is not built: run `make frontend` before the first view")
            out["first_view"] = first_view(base, token, args.first_view_runs)
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(timeout=60)
        log.close()
    return out


def first_view(base: str, token: str, runs: int) -> dict[str, Any]:
    """The overview in Chromium, runs times with nothing cached (bench/scale_first_view.mjs)."""
    env = {**os.environ, "HEADROOM_URL": base, "HEADROOM_TOKEN": token, "BENCH_RUNS": str(runs)}
    done = subprocess.run(["node", str(REPO / "bench" / "scale_first_view.mjs")], env=env, cwd=REPO,
                          capture_output=True, text=True, check=False, timeout=900)
    if done.returncode != 0:
        return {"error": (done.stderr or done.stdout)[-1000:]}
    results = json.loads(done.stdout.strip().splitlines()[-1])
    return {"runs": results, "table_ms_median": sorted(r["table_ms"] for r in results)[len(results) // 2],
            "network_idle_ms_median": sorted(r["network_idle_ms"] for r in results)[len(results) // 2]}


# --- the parent: every stage for every N ----------------------------------------------------------------------
def run_stage(name: str, args: argparse.Namespace, folder: Path, n: int) -> dict[str, Any]:
    argv = [sys.executable, __file__, "--stage", name, "--folder", str(folder), "--n", str(n), "--days",
            str(args.days), "--sample", str(args.sample)]
    for flag in ("database_url", "metrics_url", "broker_url"):
        argv += [f"--{flag.replace('_', '-')}", getattr(args, flag)] if getattr(args, flag) else []
    out = folder / f"{name}.json"
    with (folder / f"{name}.log").open("wb") as log:
        proc = subprocess.Popen([*argv, "--out", str(out)], cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        tail = (folder / f"{name}.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"stage {name} at N={n} failed:\n{tail}")
    result: dict[str, Any] = json.loads(out.read_text())
    result["peak_rss_mib"] = usage.ru_maxrss / 1024  # Linux: KiB
    result["cpu_seconds"] = usage.ru_utime + usage.ru_stime
    return result


def storage_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and p.suffix in (".db", ".db-wal", ".gz"))


class Servers:
    """PostgreSQL, Redis and InfluxDB as the tests start them, with fresh databases for each fleet size."""

    def __init__(self) -> None:
        from testbed.servers import start_influxdb, start_postgres, start_redis

        self.postgres, self.redis, self.influx = start_postgres(), start_redis(), start_influxdb()
        self.databases: list[tuple[str, str]] = []

    def fresh(self, args: argparse.Namespace, n: int) -> None:
        import secrets

        args.database_url = self.postgres.create_database(f"headroom_scale_{n}")
        influx_db = f"headroom_scale_{n}_{secrets.token_hex(3)}"
        args.metrics_url = self.influx.url(influx_db)
        self.redis.flush(REDIS_DB)
        args.broker_url = self.redis.url(REDIS_DB)
        self.databases.append((args.database_url, influx_db))

    def storage_bytes(self, args: argparse.Namespace) -> dict[str, int]:
        import psycopg2

        database_url, influx_db = self.databases[-1]
        name = database_url.rsplit("/", 1)[1]
        conn = psycopg2.connect(host="127.0.0.1", port=self.postgres.port, user="postgres", dbname=name)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT pg_database_size(current_database())")
                row = cur.fetchone()
        finally:
            conn.close()
        workdir = self.influx.managed.workdir if self.influx.managed else None
        assert workdir is not None, "InfluxDB is started by the benchmark"
        influx = sum(p.stat().st_size for p in workdir.rglob("*") if p.is_file() and influx_db in p.parts)
        return {"postgresql": int(row[0]) if row else 0, "influxdb": influx}

    def stop(self) -> None:
        for database_url, influx_db in self.databases:
            self.postgres.drop_database(database_url)
            self.influx.query(f'DROP DATABASE "{influx_db}"')
        self.redis.flush(REDIS_DB)
        for server in (self.influx, self.redis, self.postgres):
            server.stop()


def run_fleet(args: argparse.Namespace, n: int, servers: Servers | None) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix=f"headroom-scale-{n}-"))
    if servers is not None:
        servers.fresh(args, n)
    run: dict[str, Any] = {}
    for name in STAGES:
        if servers is not None and name.startswith("train"):
            continue
        if servers is not None and name == "recommend":
            print(f"N={n}: retrain on Celery workers ...", file=sys.stderr, flush=True)
            run["workers"] = distributed_training(args, folder, n)
        print(f"N={n}: {name} ...", file=sys.stderr, flush=True)
        run[name] = run_stage(name, args, folder, n)
        print(f"N={n}: {name} {run[name]['seconds']:.1f} s", file=sys.stderr, flush=True)
    if servers is not None:
        run["storage"] = servers.storage_bytes(args)
    else:
        run["storage"] = {"sqlite": storage_bytes(folder)}
    run["series"], run["n"] = run["backfill"]["series"], n
    run["api"] = {str(k): api_stage(args, folder, n, k) for k in ((1, 2) if servers is not None else (1,))}
    return run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resources", default="100,1000", help="Comma-separated fleet sizes")
    parser.add_argument("--days", type=int, default=15, help="Days of hourly history loaded before the round")
    parser.add_argument("--sample", type=int, default=24, help="Metric series trained to measure the retrain rate")
    parser.add_argument("--distributed", action="store_true",
                        help="PostgreSQL + InfluxDB + Redis and Celery workers instead of the embedded mode")
    parser.add_argument("--workers", default="1,2,4", help="Celery worker counts of the retrain (--distributed)")
    parser.add_argument("--rate", type=float, default=20.0, help="Requests per second of the resource-page load")
    parser.add_argument("--rates", default="10,20,50,100,200,300,400",
                        help="Rates swept for the fleet page (up to 200), GET /api/forecasts and 90 days of metrics")
    parser.add_argument("--seconds", type=float, default=15.0, help="Seconds of API load per rate")
    parser.add_argument("--first-view-runs", type=int, default=3, help="Chromium loads of the overview")
    parser.add_argument("--merge", action="store_true",
                        help="Keep the other fleet sizes of the mode's scale-*.json (rerun some sizes only)")
    parser.add_argument("--first-view-only", action="store_true",
                        help="Measure the dashboard's first view again into the mode's scale-*.json: per size, a "
                             "fresh fleet, its backfill and recommendations, then Chromium")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--metrics-url", default=None)
    parser.add_argument("--broker-url", default=None)
    parser.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--results", type=Path, default=RESULTS, help="Where scale.json, .md and .png go")
    args = parser.parse_args()
    if args.stage:
        stage = globals()[f"stage_{args.stage}"]
        if os.environ.get("SCALE_PROFILE"):  # where the stage's time goes: <folder>/<stage>.prof, for pstats
            import cProfile

            profile = cProfile.Profile()
            result = profile.runcall(stage, args)
            profile.dump_stats(Path(args.folder) / f"{args.stage}.prof")
        else:
            result = stage(args)
        Path(args.out).write_text(json.dumps(result, default=str))
        return 0
    if args.first_view_only:
        return first_view_again(args)
    args.workers = [int(x) for x in str(args.workers).split(",")]
    runs: dict[int, dict[str, Any]] = {}
    args.results.mkdir(parents=True, exist_ok=True)
    earlier = results_json(args)
    if args.merge and earlier.is_file():
        runs = {int(n): run for n, run in json.loads(earlier.read_text())["runs"].items()}
    servers = Servers() if args.distributed else None
    try:
        for n in [int(x) for x in args.resources.split(",")]:
            runs[n] = run_fleet(args, n, servers)
            earlier.write_text(json.dumps(
                {"args": {k: v for k, v in vars(args).items() if not k.endswith("_url")} | {
                    "results": str(args.results)}, "runs": runs}, indent=1, default=str))
    finally:
        if servers is not None:
            servers.stop()
    write_report(runs, args)
    return 0


def results_json(args: argparse.Namespace) -> Path:
    """The mode's scale-<mode>.json under --results: every run's figures, which the report is made from."""
    return args.results / f"scale-{'distributed' if args.distributed else 'embedded'}.json"


def first_view_again(args: argparse.Namespace) -> int:
    """--first-view-only: the first view of each --resources size measured again and put into the earlier run."""
    earlier = results_json(args)
    if not earlier.is_file():
        raise SystemExit(f"{earlier} does not exist: run the whole benchmark first")
    saved = json.loads(earlier.read_text())
    runs = {int(n): run for n, run in saved["runs"].items()}
    servers = Servers() if args.distributed else None
    try:
        for n in [int(x) for x in args.resources.split(",")]:
            folder = Path(tempfile.mkdtemp(prefix=f"headroom-scale-{n}-"))
            if servers is not None:
                servers.fresh(args, n)
            for name in ("backfill", "recommend"):  # what the overview shows: the fleet and its runways
                print(f"N={n}: {name} {run_stage(name, args, folder, n)['seconds']:.1f} s", file=sys.stderr,
                      flush=True)
            view = api_stage(args, folder, n, 1)["first_view"]
            runs[n].setdefault("api", {}).setdefault("1", {})["first_view"] = view
            earlier.write_text(json.dumps({**saved, "runs": runs}, indent=1, default=str))
    finally:
        if servers is not None:
            servers.stop()
    kept = ("days", "sample", "workers", "rate", "rates", "seconds")  # the report names the whole run's command
    run_args = {k: saved["args"][k] for k in kept if k in saved["args"]}
    write_report(runs, argparse.Namespace(**{**vars(args), **run_args}))
    return 0


def growth(runs: dict[int, dict[str, Any]], *path: str) -> float | None:
    """The exponent b of time ~ N^b between the two largest fleets (1 = linear)."""
    sizes = sorted(runs)
    if len(sizes) < 2:
        return None
    a, b = sizes[-2], sizes[-1]
    ta, tb = _get(runs[a], *path), _get(runs[b], *path)
    if not ta or not tb:
        return None
    return math.log(tb / ta) / math.log(b / a)


def _get(run: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if not isinstance(run, dict) or key not in run:
            return None
        run = run[key]
    return run


def _timed_stages(runs: dict[int, dict[str, Any]]) -> list[tuple[str, tuple[str, ...]]]:
    """(label, path to its seconds) of every timed stage the runs have: on workers, the whole day's retrain
    extrapolated from the sample's rate (every series: the sample's seconds do not grow with the fleet)."""
    first = runs[min(runs)]
    stages: list[tuple[str, tuple[str, ...]]] = [(name, (name, "seconds")) for name in STAGES if name in first]
    stages += [(f"retrain {key.split('_')[1]} of every series, {key.split('_')[2][:-1]} worker(s), extrapolated",
                ("workers", key, "all_series_seconds"))
               for key in first.get("workers", {}) if key.startswith("train_")]
    return stages


def write_report(runs: dict[int, dict[str, Any]], args: argparse.Namespace) -> None:
    sizes = sorted(runs)
    mode = "distributed" if args.distributed else "embedded"
    cmd = " ".join(["python bench/scale.py", *(["--distributed"] if args.distributed else []),
                    f"--resources {','.join(map(str, sizes))}", f"--days {args.days}", f"--sample {args.sample}",
                    *([f"--workers {','.join(map(str, args.workers))}"] if args.distributed else []),
                    f"--rate {args.rate:g}", f"--rates {args.rates}", f"--seconds {args.seconds:g}"])
    where = ("PostgreSQL 15 + InfluxDB 1.x + Redis on loopback, the retrain on Celery workers (concurrency 1 each)"
             if args.distributed else "embedded mode (SQLite)")
    lines = [f"## {mode.capitalize()} mode ({datetime.now(UTC):%Y-%m-%d}, 2 cores)", "",
             f"Made by `{cmd}`; {where}. Every machine of the demo reports 5 metrics.", "",
             "| stage | " + " | ".join(f"N={n:,}" for n in sizes) + " | growth exponent (last two N) |",
             "|---|" + "---:|" * (len(sizes) + 1)]

    def row(label: str, values: list[str], exponent: float | None = None) -> None:
        lines.append(f"| {label} | " + " | ".join(values) + f" | {'' if exponent is None else f'{exponent:.2f}'} |")

    def each(fmt: Any) -> list[str]:
        out = []
        for n in sizes:
            try:
                out.append(fmt(runs[n]))
            except (KeyError, TypeError):
                out.append("")
        return out

    row("metric series", each(lambda r: f"{r['series']:,}"))
    for label, path in _timed_stages(runs):
        row(f"{label}: seconds (peak MiB)", each(lambda r, p=path: f"{_get(r, *p):,.1f} "
                                                 f"({_get(r, *p[:-1], 'peak_rss_mib'):.0f})"), growth(runs, *path))
    row("backfill: points per second", each(lambda r: f"{r['backfill']['points_per_second']:,.0f}"))
    row("round: points", each(lambda r: f"{r['round']['points']:,}"))
    if args.distributed:
        for key in [k for k in runs[min(runs)]["workers"] if k.startswith("train_")]:
            kind, workers = key.split("_")[1], key.split("_")[2][:-1]
            row(f"retrain {kind}, {workers} worker(s): series/s (per worker)",
                each(lambda r, k=key: f"{r['workers'][k]['series_per_second']:.2f} "
                                      f"({r['workers'][k]['series_per_second_per_worker']:.2f})"))
            row(f"retrain {kind}, {workers} worker(s): global network s; every series, hours",
                each(lambda r, k=key: f"{r['workers'][k]['network_seconds']:.0f}; "
                                      f"{r['workers'][k]['all_series_hours']:.2f}"))
    else:
        for kind in ("cold", "warm"):
            stage = f"train_{kind}"
            row(f"retrain {kind}: series/s; global network s; every series, hours on 1 worker",
                each(lambda r, st=stage: f"{r[st]['series_per_second']:.2f}; {r[st]['network_seconds']:.0f}; "
                                         f"{r[st]['all_series_hours_one_worker']:.2f}"))
    for procs in sorted({p for n in sizes for p in runs[n]["api"]}):
        api = f"API ({procs} process{'es' if procs != '1' else ''})"
        row(f"{api}: resource page at {args.rate:g}/s, p50 / p99 ms",
            each(lambda r, p=procs: f"{r['api'][p]['resource_page']['p50_ms']:.0f} / "
                                    f"{r['api'][p]['resource_page']['p99_ms']:.0f}"))
        for name, label in (("fleet_page", "fleet page"), ("forecasts", "GET /api/forecasts"),
                            ("metrics_90d", "GET /api/metrics, 90 days")):
            row(f"{api}: {label}, p99 ms at 20/s; highest rate with p99 < 100 ms",
                each(lambda r, p=procs, nm=name: _at(r["api"][p][nm], 20.0) + "; "
                     + f"{highest_passing(r['api'][p][nm]['runs']) or 'none'}/s"))
        row(f"{api}: GET /api/forecasts p99 ms at 200/s",
            each(lambda r, p=procs: _at(r["api"][p]["forecasts"], 200.0)))
    row("dashboard first view in Chromium: fleet table drawn / network idle, ms (median)",
        each(lambda r: f"{r['api']['1']['first_view']['table_ms_median']:,} / "
                       f"{r['api']['1']['first_view']['network_idle_ms_median']:,}"))
    for store in sorted({k for n in sizes for k in runs[n]["storage"]}):
        row(f"storage per resource, {store} (KiB)", each(lambda r, st=store: f"{r['storage'][st] / r['n'] / 1024:,.1f}"
                                                        if "n" in r else f"{r['storage'][st] / 1024:,.0f} KiB"))
    text = "\n".join(lines) + "\n"
    (args.results / f"scale-{mode}.md").write_text(text)
    parts = [(args.results / f"scale-{m}.md") for m in ("distributed", "embedded")]
    (args.results / "scale.md").write_text("# Scale, stage by stage\n\n" + "\n".join(
        p.read_text() for p in parts if p.is_file()) + "\nThe curves: scale.png.\n")
    _plot(args.results)
    print(text)


def _at(sweep_result: dict[str, Any], rate: float) -> str:
    found = [r for r in sweep_result["runs"] if r["rate"] == rate]
    return f"{found[0]['p99_ms']:.0f}" if found else "-"


def _plot(results: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for mode, style in (("distributed", "-"), ("embedded", ":")):
        path = results / f"scale-{mode}.json"
        if not path.is_file():
            continue
        runs = {int(k): v for k, v in json.loads(path.read_text())["runs"].items()}
        sizes = sorted(runs)
        for label, keys in _timed_stages(runs):
            values = [_get(runs[n], *keys) for n in sizes]
            if all(values):
                ax.plot(sizes, values, style, marker="o", label=f"{label} ({mode})")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("resources (5 metric series each)")
    ax.set_ylabel("seconds")
    ax.set_title("Headroom: time per stage against fleet size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    fig.savefig(results / "scale.png", dpi=110)


if __name__ == "__main__":
    raise SystemExit(main())
