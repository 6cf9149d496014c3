"""Celery: the app, the beat schedule (cheap check_for_* tasks) and the idempotent per-item tasks.

Embedded mode runs on kombu's SQLAlchemy transport over a SQLite file (a real worker and beat, no
server); distributed mode on Redis. The code path is the same.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from celery import Celery
from celery.schedules import crontab

from services.alerting import TASK_CHECK_FOR_ALERT_DELIVERIES, TASK_CHECK_FOR_ALERTS
from services.db.engine import private_sqlite_file
from services.recommend import TASK_REFRESH_RECOMMENDATIONS
from services.settings import Settings, get_settings

log = logging.getLogger(__name__)

TASK_CHECK_FOR_COLLECTION = "headroom.check_for_collection"
TASK_COLLECT_SOURCE = "headroom.collect_source"
TASK_CHECK_FOR_RETRAIN = "headroom.check_for_retrain"
TASK_RETRAIN_SERIES = "headroom.retrain_series"
TASK_RETRAIN_GLOBAL = "headroom.retrain_global"
TASK_RETRAIN_CHUNK = "headroom.retrain_chunk"
TASK_REFRESH_ACCURACY = "headroom.refresh_accuracy"


TASK_MODULES = ["services.alerting.tasks", "services.recommend.tasks", "services.forecasting.adhoc_tasks"]


def make_celery(settings: Settings) -> Celery:
    """A Celery app configured now from `settings` (tests and tools that run their own deployment)."""
    app = Celery("headroom", include=TASK_MODULES)
    app.conf.update(celery_config(settings))
    return app


def celery_config(settings: Settings) -> dict[str, Any]:
    """Broker, result backend, reliability options and the beat schedule, all from `settings`."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    for url in (settings.broker_url, settings.result_backend):
        private_sqlite_file(url)
    alerts = settings.alerts
    interval = settings.collect_interval_minutes * 60
    return dict(
        broker_url=settings.broker_url,
        result_backend=settings.result_backend,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_soft_time_limit=30 * 60,
        task_time_limit=35 * 60,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=timedelta(days=1),
        timezone="UTC",
        broker_connection_retry_on_startup=True,
        # Redis: a task a dead worker held goes back to the queue after this long (acks_late)
        # and the sweep for such tasks runs every 10 s (kombu's default scans only every 10th time: ~100 s)
        broker_transport_options=(
            {"visibility_timeout": settings.training.visibility_timeout_seconds, "unacked_restore_throttle": 1}
            if settings.broker_url.startswith(("redis://", "rediss://")) else {}  # the SQL transport takes neither
        ),
        beat_schedule_filename=str(settings.data_dir / "celerybeat-schedule"),
        beat_schedule={
            "check-for-collection": {
                "task": TASK_CHECK_FOR_COLLECTION,
                "schedule": timedelta(seconds=interval),
                "options": {"expires": interval},
            },
            "check-for-retrain": {
                "task": TASK_CHECK_FOR_RETRAIN,
                "schedule": crontab(minute=0, hour=settings.forecasting.retrain_hour_utc),
                "options": {"expires": 3600},
            },
            "refresh-accuracy": {
                "task": TASK_REFRESH_ACCURACY,
                "schedule": timedelta(minutes=settings.training.accuracy_refresh_minutes),
                "options": {"expires": settings.training.accuracy_refresh_minutes * 60},
            },
            "check-for-alerts": {
                "task": TASK_CHECK_FOR_ALERTS,
                "schedule": timedelta(seconds=alerts.evaluate_interval_seconds),
                "options": {"expires": alerts.evaluate_interval_seconds},
            },
            "refresh-recommendations": {  # after the daily training, whose forecasts it reads
                "task": TASK_REFRESH_RECOMMENDATIONS,
                "schedule": crontab(minute=30, hour=(settings.forecasting.retrain_hour_utc
                                                     + settings.recommend.refresh_hours_after_training) % 24),
                "options": {"expires": 3600},
            },
            "check-for-alert-deliveries": {
                "task": TASK_CHECK_FOR_ALERT_DELIVERIES,
                "schedule": timedelta(seconds=alerts.deliver_interval_seconds),
                "options": {"expires": alerts.deliver_interval_seconds},
            },
        },
    )


# The process-wide app: `celery -A services.tasks:app`. Settings are read when the configuration is first
# needed (a worker starting, a task sent), not when this module is imported.
app = Celery("headroom", include=TASK_MODULES)
app.add_defaults(lambda: celery_config(get_settings()))


@contextmanager
def non_blocking_lock(name: str, settings: Settings) -> Iterator[bool]:
    """True when this process holds the lock `name`; False when another one does (then do nothing)."""
    if settings.broker_url.startswith(("redis://", "rediss://")):
        import redis

        client = redis.Redis.from_url(settings.broker_url)
        lock = client.lock(f"headroom:lock:{name}", timeout=3600)
        got = bool(lock.acquire(blocking=False))
        try:
            yield got
        finally:
            if got:
                lock.release()
        return
    path = Path(settings.data_dir) / f".lock-{name}"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def fan_out(lock: str, settings: Settings, items: Callable[[], Sequence[Any]], task: Any, *, expires: float) -> int:
    """The beat's check shape: under the non-blocking lock `lock` (nothing when another check holds it), one `task`
    per item of items(), each expiring after `expires` seconds unless a worker took it; how many were sent."""
    with non_blocking_lock(lock, settings) as got:
        if not got:
            return 0
        todo = list(items())
        for item in todo:
            task.apply_async(args=[item], expires=expires)
        return len(todo)


@app.task(name=TASK_CHECK_FOR_COLLECTION, ignore_result=True)
def check_for_collection() -> int:
    """Enqueue one collect task per configured source; cheap, and skipped while another check runs."""
    from services.ingest.sources import source_names

    settings = get_settings()
    return fan_out("check_for_collection", settings, lambda: source_names(settings), collect_source,
                   expires=settings.collect_interval_minutes * 60)


@app.task(name=TASK_COLLECT_SOURCE)
def collect_source(source: str) -> dict[str, Any]:
    """Collect one source from its watermark to now (idempotent)."""
    from services.ingest.ingest import run_collector
    from services.ingest.sources import build_collector
    from services.metrics import open_metric_store

    settings = get_settings()
    with non_blocking_lock(f"collect_{source}", settings) as got:
        if not got:
            return {"source": source, "skipped": "another collection of this source is running"}
        store = open_metric_store(settings.metrics_url)
        try:
            result = run_collector(build_collector(settings, source), db_url=settings.database_url, metric_store=store,
                                   run_interval=timedelta(minutes=settings.collect_interval_minutes))
        finally:
            store.close()
        return {"source": source, "resources": result.resources, "samples": result.samples, "costs": result.costs,
                "failed_streams": result.failures, "skipped_streams": result.skipped}


@app.task(name=TASK_CHECK_FOR_RETRAIN, ignore_result=True)
def check_for_retrain(as_of: str | None = None, force: bool = False) -> int:
    """Plan the day's retraining (metric and cost series) and enqueue it in chunks of training.chunk_size; one lock
    so two beats never double-train, and per-(series, day) items so a series trained that day is skipped."""
    from services.db.engine import session_scope
    from services.forecasting.training_pool import all_series_ids
    from services.forecasting.training_runs import start_run

    settings = get_settings()
    day = as_of or datetime.now(UTC).date().isoformat()
    with non_blocking_lock(f"check_for_retrain_{day}", settings) as got:
        if not got:
            return 0
        ids = all_series_ids(settings)
        with session_scope(settings.database_url) as session:
            start_run(session, date.fromisoformat(day), len(ids))
        size = settings.training.chunk_size
        chunks = [ids[i : i + size] for i in range(0, len(ids), size)]
        retrain_global.apply_async(args=[day, chunks, force], expires=24 * 3600)
        return len(ids)


@app.task(name=TASK_RETRAIN_GLOBAL, acks_late=True, reject_on_worker_lost=True)
def retrain_global(as_of: str, chunks: list[list[str]], force: bool = False) -> dict[str, Any]:
    """Train the day's global network once (when the ensemble uses one), then enqueue the per-series chunks."""
    from services.forecasting.global_model import ensure_global_model

    settings = get_settings()
    with non_blocking_lock(f"retrain_global_{as_of}", settings) as got:
        uri = ensure_global_model(settings, date.fromisoformat(as_of)) if got else None
    for chunk in chunks:
        retrain_chunk.apply_async(args=[chunk, as_of, force], expires=24 * 3600)
    return {"as_of": as_of, "chunks": len(chunks), "global_model": uri}


@app.task(name=TASK_RETRAIN_CHUNK, acks_late=True, reject_on_worker_lost=True)
def retrain_chunk(series_ids: list[str], as_of: str, force: bool = False) -> dict[str, Any]:
    """Train a chunk of series as of a day. Safe to redeliver: a series whose (series, day) item is committed is
    skipped, and an item is committed together with the series' models, so each is trained exactly once."""
    from services.forecasting.global_model import load_global_model
    from services.forecasting.registry import open_artifact_store
    from services.forecasting.training import train_all
    from services.metrics import open_metric_store

    settings = get_settings()
    day = date.fromisoformat(as_of)
    store = open_metric_store(settings.metrics_url)
    try:
        summary = train_all(
            as_of=day, metric_store=store, db_url=settings.database_url, settings=settings.forecasting,
            series_ids=series_ids, training=settings.training, artifacts=open_artifact_store(settings.artifacts_url),
            force=force, global_nn=load_global_model(settings, day),
        )
    finally:
        store.close()
    return {"as_of": as_of, "trained": summary.trained, "skipped": summary.skipped, "errors": summary.errors}


@app.task(name=TASK_RETRAIN_SERIES)
def retrain_series(series_id: str, as_of: str, force: bool = False) -> dict[str, Any]:
    """Train and store the forecast of one series as of a day (a chunk of one)."""
    result: dict[str, Any] = retrain_chunk(series_ids=[series_id], as_of=as_of, force=force)
    return result


@app.task(name=TASK_REFRESH_ACCURACY, ignore_result=True)
def refresh_accuracy() -> dict[str, int]:
    """Score stored forecasts against the actuals that arrived, then update anomaly incidents."""
    from services.forecasting.anomalies import refresh_scores_and_anomalies

    settings = get_settings()
    with non_blocking_lock("refresh_accuracy", settings) as got:
        if not got:
            return {}
        scored, incidents = refresh_scores_and_anomalies(settings)
        return {"scored": scored, "incidents": incidents}
