"""Scale benchmark: the demo fleet at N resources through every stage, with time, peak memory and storage.

    .venv/bin/python bench/scale.py --resources 100,1000 [--days 15] [--sample 24] [--rate 20] [--seconds 20]

For each N, in a throwaway data folder (embedded mode: SQLite for the database and the metric store; pass
--database-url and --metrics-url for PostgreSQL and InfluxDB, which must then be empty), each stage runs in a
child process of its own, so its peak resident memory is its own (os.wait4):

- backfill: the demo source's N resources, `--days` of hourly samples and their bill, through the ingest path
  (services.ingest.ingest.run_collector, as `headroom collect`); points per second;
- round: one 5-minute collection round after it (one sample per series, at 5-minute steps);
- retrain cold, then warm (the next day, from the stored states): the product's model (the ensemble and the global
  network, as `headroom train`) on a sample of `--sample` metric series, one process (= one worker); series per
  second per worker, and the day's retrain of every series extrapolated from that rate;
- recommend: every recommender over the whole fleet (`headroom recommend refresh`);
- alerts: one evaluation of one rule of each fleet-wide kind (capacity, runway, growth, metric anomaly, source
  silent) over the whole fleet;
- api: `headroom serve` on loopback, and an open-loop load at a fixed arrival rate (`--rate` requests/s for
  `--seconds`) on the fleet page (GET /api/fleet, 50 rows) and the resource page (the resource, its CPU series
  over 14 days and its forecast); each latency counts from the request's scheduled start, so a slow answer
  delays no later request's clock (no coordinated omission).

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
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

RESULTS = REPO / "bench" / "results"
END = datetime(2026, 11, 30, tzinfo=UTC)  # the backfill ends here: every run of the benchmark sees the same data
STAGES = ("backfill", "round", "train_cold", "train_warm", "recommend", "alerts")
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
        "providers": {"demo": {"resources": args.n, "days": args.days, "step_minutes": step_minutes, "seed": 7}},
        "alerts": {"rules": [{**r, "channels": []} for r in RULES]},
    }
    if args.database_url:
        overrides["database_url"] = args.database_url
    if args.metrics_url:
        overrides["metrics_url"] = args.metrics_url
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
    return _collect(args, 60, END, timedelta(days=args.days))


def stage_round(args: argparse.Namespace) -> dict[str, Any]:
    return _collect(args, 5, END + timedelta(minutes=5), None)


def _sample(args: argparse.Namespace) -> tuple[Any, list[str], int]:
    from services.forecasting.training_pool import all_series_ids

    settings = _settings(args)
    ids = [s for s in all_series_ids(settings) if not s.startswith("cost:")]
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


# --- the API under a fixed arrival rate -----------------------------------------------------------------------
def open_loop(base: str, token: str, paths: list[str], rate: float, seconds: float) -> dict[str, Any]:
    """Send GET paths round-robin at `rate` per second for `seconds`; latencies from each scheduled start."""
    import httpx

    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    total = int(rate * seconds)
    start = time.perf_counter() + 0.5
    client = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30,
                          limits=httpx.Limits(max_connections=64))

    def one(k: int) -> None:
        nonlocal errors
        scheduled = start + k / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        try:
            ok = client.get(paths[k % len(paths)]).status_code == 200
        except httpx.HTTPError:
            ok = False
        with lock:
            latencies.append(time.perf_counter() - scheduled)
            errors += 0 if ok else 1

    threads = [threading.Thread(target=one, args=(k,)) for k in range(total)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    client.close()
    ms = sorted(1000 * v for v in latencies)
    return {"rate": rate, "requests": total, "errors": errors, "p50_ms": _pct(ms, 50), "p99_ms": _pct(ms, 99),
            "max_ms": ms[-1] if ms else None}


def _pct(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    return sorted_values[min(len(sorted_values) - 1, math.ceil(q / 100 * len(sorted_values)) - 1)]


def api_stage(args: argparse.Namespace, folder: Path, n: int) -> dict[str, Any]:
    from urllib.parse import quote

    import httpx
    from sqlalchemy import select

    from services.auth import create_token, ensure_user
    from services.db.engine import session_scope
    from services.db.models import ForecastRow, ResourceRow
    from testbed.servers import free_port, wait_until

    ns = argparse.Namespace(**{**vars(args), "folder": str(folder), "n": n})
    settings = _settings(ns)
    with session_scope(settings.database_url) as session:
        user = ensure_user(session, email="bench@localhost", role="viewer")
        token = create_token(session, user=user, name="scale", role="viewer", ttl=timedelta(days=1)).token
    port = free_port()
    env = {**os.environ, "HEADROOM_DATA_DIR": str(folder), "HEADROOM_CONFIG_DIR": str(folder / "config"),
           "HEADROOM_FRONTEND_DIST": str(folder / "no-dist"), "HEADROOM_DATABASE_URL": settings.database_url,
           "HEADROOM_METRICS_URL": settings.metrics_url,  # the load comes from one token and one address:
           "HEADROOM_LIMITS__PER_TOKEN": "1000000/minute", "HEADROOM_LIMITS__PER_ADDRESS": "1000000/minute"}
    log = (folder / "api.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "--port", str(port)], cwd=REPO, env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: httpx.get(f"{base}/api/health", timeout=1).status_code == 200, what="the API", timeout=90)
        headers = {"Authorization": f"Bearer {token}"}
        first = httpx.get(f"{base}/api/fleet", params={"size": 50}, headers=headers, timeout=60)
        first.raise_for_status()  # an untimed first view: it fills the p95 cache the next views read
        start, end = f"{END - timedelta(days=14):%Y-%m-%dT%H:%M:%SZ}", f"{END:%Y-%m-%dT%H:%M:%SZ}"  # no '+' in a URL
        resource_paths = []
        with session_scope(settings.database_url) as session:  # the resources whose series were trained
            trained = sorted(set(session.scalars(select(ForecastRow.series_id).where(ForecastRow.stat == "mean"))))
            pks = dict(session.execute(select(ResourceRow.resource_id, ResourceRow.id)).all())
        for series in [s for s in trained if s.split("/")[0] in pks][:20]:
            resource_paths += [f"/api/resources/{pks[series.split('/')[0]]}",
                               f"/api/metrics?series_id={quote(series)}&start={start}&end={end}",
                               f"/api/forecasts?series_id={quote(series)}"]
        fleet = open_loop(base, token, ["/api/fleet?size=50"], args.rate, args.seconds)
        resource = open_loop(base, token, resource_paths, args.rate, args.seconds)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
    return {"fleet_page": fleet, "resource_page": resource}


# --- the parent: every stage for every N ----------------------------------------------------------------------
def run_stage(name: str, args: argparse.Namespace, folder: Path, n: int) -> dict[str, Any]:
    argv = [sys.executable, __file__, "--stage", name, "--folder", str(folder), "--n", str(n), "--days",
            str(args.days), "--sample", str(args.sample)]
    argv += ["--database-url", args.database_url] if args.database_url else []
    argv += ["--metrics-url", args.metrics_url] if args.metrics_url else []
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--resources", default="100,1000", help="Comma-separated fleet sizes")
    parser.add_argument("--days", type=int, default=15, help="Days of hourly history loaded before the round")
    parser.add_argument("--sample", type=int, default=24, help="Metric series trained to measure the retrain rate")
    parser.add_argument("--rate", type=float, default=20.0, help="Requests per second of the API load")
    parser.add_argument("--seconds", type=float, default=20.0, help="Seconds of API load per page")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--metrics-url", default=None)
    parser.add_argument("--stage", choices=STAGES, help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--results", type=Path, default=RESULTS, help="Where scale.json, .md and .png go")
    args = parser.parse_args()
    if args.stage:
        result = globals()[f"stage_{args.stage}"](args)
        Path(args.out).write_text(json.dumps(result, default=str))
        return 0
    runs: dict[int, dict[str, Any]] = {}
    args.results.mkdir(parents=True, exist_ok=True)
    for n in [int(x) for x in args.resources.split(",")]:
        folder = Path(tempfile.mkdtemp(prefix=f"headroom-scale-{n}-"))
        runs[n] = {}
        for name in STAGES:
            print(f"N={n}: {name} ...", file=sys.stderr, flush=True)
            runs[n][name] = run_stage(name, args, folder, n)
            print(f"N={n}: {name} {runs[n][name]['seconds']:.1f} s", file=sys.stderr, flush=True)
        runs[n]["storage_bytes"] = storage_bytes(folder)
        print(f"N={n}: api ...", file=sys.stderr, flush=True)
        runs[n]["api"] = api_stage(args, folder, n)
        (args.results / "scale.json").write_text(json.dumps({"args": vars(args) | {"results": str(args.results)},
                                                             "runs": runs}, indent=1, default=str))
    write_report(runs, args)
    return 0


def growth(runs: dict[int, dict[str, Any]], stage: str, key: str = "seconds") -> float | None:
    """The exponent b of time ~ N^b between the two largest fleets (1 = linear)."""
    sizes = sorted(runs)
    if len(sizes) < 2:
        return None
    a, b = sizes[-2], sizes[-1]
    ta, tb = runs[a][stage].get(key), runs[b][stage].get(key)
    if not ta or not tb:
        return None
    return math.log(tb / ta) / math.log(b / a)


def write_report(runs: dict[int, dict[str, Any]], args: argparse.Namespace) -> None:
    sizes = sorted(runs)
    cmd = " ".join(["python bench/scale.py", f"--resources {','.join(map(str, sizes))}", f"--days {args.days}",
                    f"--sample {args.sample}", f"--rate {args.rate:g}", f"--seconds {args.seconds:g}"])
    lines = [f"# Scale, stage by stage ({datetime.now(UTC):%Y-%m-%d}, 2 cores)", "",
             f"Made by `{cmd}`; {'PostgreSQL/InfluxDB' if args.database_url else 'embedded mode (SQLite)'}.", "",
             "| stage | " + " | ".join(f"N={n}" for n in sizes) + " | growth exponent (last two N) |",
             "|---|" + "---:|" * (len(sizes) + 1)]

    def row(label: str, values: list[str], exponent: float | None) -> None:
        lines.append(f"| {label} | " + " | ".join(values) + f" | {'' if exponent is None else f'{exponent:.2f}'} |")

    for stage in STAGES:
        row(f"{stage}: seconds (peak MiB)", [f"{runs[n][stage]['seconds']:.1f} ({runs[n][stage]['peak_rss_mib']:.0f})"
                                            for n in sizes], growth(runs, stage))
    row("backfill: points per second", [f"{runs[n]['backfill']['points_per_second']:,.0f}" for n in sizes], None)
    row("round: points", [f"{runs[n]['round']['points']:,}" for n in sizes], None)
    for kind in ("cold", "warm"):
        stage = f"train_{kind}"
        row(f"retrain {kind}: global network, seconds", [f"{runs[n][stage]['network_seconds']:.1f}" for n in sizes],
            None)
        row(f"retrain {kind}: series/s per worker", [f"{runs[n][stage]['series_per_second']:.2f}" for n in sizes], None)
        row(f"retrain {kind}: all series, hours on 1 worker",
            [f"{runs[n][stage]['all_series_hours_one_worker']:.2f} ({runs[n][stage]['all_series']:,} series)"
             for n in sizes], None)
    for page in ("fleet_page", "resource_page"):
        row(f"API {page.replace('_', ' ')} at {args.rate:g}/s: p50 / p99 ms",
            [f"{runs[n]['api'][page]['p50_ms']:.0f} / {runs[n]['api'][page]['p99_ms']:.0f}"
             + (f" ({runs[n]['api'][page]['errors']} errors)" if runs[n]['api'][page]['errors'] else "")
             for n in sizes], None)
    row("storage per resource (KiB)", [f"{runs[n]['storage_bytes'] / n / 1024:,.0f}" for n in sizes], None)
    (args.results / "scale.md").write_text("\n".join(lines) + "\n")
    _plot(runs, args.results / "scale.png")
    print("\n".join(lines))


def _plot(runs: dict[int, dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(runs)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for stage in STAGES:
        ax.plot(sizes, [max(runs[n][stage]["seconds"], 1e-3) for n in sizes], marker="o", label=stage)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("resources")
    ax.set_ylabel("seconds")
    ax.set_title("Headroom: time per stage against fleet size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    raise SystemExit(main())
