"""Celery task of ad-hoc forecasts: one job under a soft and a hard time limit; and how the API enqueues one."""

from __future__ import annotations

from celery import Celery
from celery.exceptions import SoftTimeLimitExceeded

from services.db.engine import session_scope
from services.forecasting.adhoc_jobs import fail_job, run_job
from services.metrics import open_metric_store
from services.settings import Settings, get_settings
from services.tasks import app, make_celery

TASK_ADHOC_FORECAST = "headroom.adhoc_forecast"
HARD_LIMIT_GRACE_SECONDS = 15  # after the soft limit, time to record the failure before the worker kills the task


@app.task(name=TASK_ADHOC_FORECAST, ignore_result=True)
def adhoc_forecast_task(job_id: str) -> str:
    """Run one ad-hoc forecast job; a job stopped by its time limit is recorded as failed."""
    settings = get_settings()
    store = open_metric_store(settings.metrics_url)
    try:
        with session_scope(settings.database_url) as session:
            return run_job(session, store, job_id)
    except SoftTimeLimitExceeded:
        with session_scope(settings.database_url) as session:
            fail_job(session, job_id, f"stopped after {settings.adhoc.jobs.time_limit_seconds} s "
                                      "(adhoc.jobs.time_limit_seconds): try a shorter upload or a faster model")
        return "failed"
    finally:
        store.close()


_producers: dict[tuple[str, str], Celery] = {}  # one Celery app (and broker pool) per deployment, per process


def _producer(settings: Settings) -> Celery:
    key = (settings.broker_url, settings.result_backend)
    if key not in _producers:
        _producers[key] = make_celery(settings)
    return _producers[key]


def enqueue_job(settings: Settings, job_id: str) -> None:
    """Queue the job for a worker, with its time limits; it expires if no worker takes it in time."""
    limit = settings.adhoc.jobs.time_limit_seconds
    _producer(settings).send_task(TASK_ADHOC_FORECAST, args=[job_id], soft_time_limit=limit,
                       time_limit=limit + HARD_LIMIT_GRACE_SECONDS, expires=2 * limit)
