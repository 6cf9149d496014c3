"""Celery: the app, the beat schedule (cheap check_for_* tasks) and the idempotent per-item tasks.

Embedded mode runs on kombu's SQLAlchemy transport over a SQLite file (a real worker and beat, no
server); distributed mode on Redis. The code path is the same.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from celery import Celery
from celery.schedules import crontab

from services.settings import Settings, get_settings

log = logging.getLogger(__name__)

TASK_CHECK_FOR_COLLECTION = "headroom.check_for_collection"
TASK_COLLECT_SOURCE = "headroom.collect_source"
TASK_CHECK_FOR_RETRAIN = "headroom.check_for_retrain"
TASK_RETRAIN_SERIES = "headroom.retrain_series"


def make_celery(settings: Settings) -> Celery:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = Celery("headroom", broker=settings.broker_url, backend=settings.result_backend)
    interval = settings.collect_interval_minutes * 60
    app.conf.update(
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
        },
    )
    return app


app = make_celery(get_settings())


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


@app.task(name=TASK_CHECK_FOR_COLLECTION, ignore_result=True)
def check_for_collection() -> int:
    """Enqueue one collect task per configured source; cheap, and skipped while another check runs."""
    from services.sources import source_names

    settings = get_settings()
    with non_blocking_lock("check_for_collection", settings) as got:
        if not got:
            return 0
        names = source_names(settings)
        for name in names:
            collect_source.apply_async(args=[name], expires=settings.collect_interval_minutes * 60)
        return len(names)


@app.task(name=TASK_COLLECT_SOURCE)
def collect_source(source: str) -> dict[str, Any]:
    """Collect one source from its watermark to now (idempotent)."""
    from services.ingest import run_collector
    from services.metrics import open_metric_store
    from services.sources import build_collector

    settings = get_settings()
    with non_blocking_lock(f"collect_{source}", settings) as got:
        if not got:
            return {"source": source, "skipped": "another collection of this source is running"}
        store = open_metric_store(settings.metrics_url)
        try:
            result = run_collector(build_collector(settings, source), db_url=settings.database_url, metric_store=store)
        finally:
            store.close()
        return {"source": source, "resources": result.resources, "samples": result.samples, "costs": result.costs}


@app.task(name=TASK_CHECK_FOR_RETRAIN, ignore_result=True)
def check_for_retrain(as_of: str | None = None) -> int:
    """Enqueue retrain_series(series_id, as_of) for every stored series; one lock so two beats never double-train."""
    from services.metrics import open_metric_store

    settings = get_settings()
    day = as_of or datetime.now(UTC).date().isoformat()
    with non_blocking_lock(f"check_for_retrain_{day}", settings) as got:
        if not got:
            return 0
        store = open_metric_store(settings.metrics_url)
        try:
            ids = [s.series_id for s in store.series()]
        finally:
            store.close()
        for series_id in ids:
            retrain_series.apply_async(args=[series_id, day], expires=24 * 3600)
        return len(ids)


@app.task(name=TASK_RETRAIN_SERIES)
def retrain_series(series_id: str, as_of: str) -> dict[str, Any]:
    """Train and store the forecast of one series as of a day; re-running replaces, never duplicates."""
    from services.metrics import open_metric_store
    from services.training import train_all

    settings = get_settings()
    store = open_metric_store(settings.metrics_url)
    try:
        summary = train_all(
            as_of=date.fromisoformat(as_of),
            metric_store=store,
            db_url=settings.database_url,
            settings=settings.forecasting,
            series_ids=[series_id],
        )
    finally:
        store.close()
    return {"series_id": series_id, "as_of": as_of, "trained": bool(summary.trained), "skipped": summary.skipped,
            "errors": summary.errors}
