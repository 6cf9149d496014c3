"""Is this process ready to work: can it reach the database, the metric store and the Celery broker?"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from urllib.parse import urlsplit

from kombu import Connection
from sqlalchemy import text

from services.db.engine import session_scope
from services.metrics import open_metric_store
from services.settings import Settings, redact_url

log = logging.getLogger(__name__)
PROBE_SERIES = "__headroom_readiness_probe__"
DEPENDENCIES = ("database", "metric_store", "broker")


def _database(settings: Settings) -> None:
    with session_scope(settings.database_url) as session:
        session.execute(text("SELECT 1"))


def _metric_store(settings: Settings) -> None:
    store = open_metric_store(settings.metrics_url)
    try:
        store.watermark(PROBE_SERIES)  # a real, authenticated read that finds nothing
    finally:
        store.close()


def _broker(settings: Settings) -> None:
    with Connection(settings.broker_url, connect_timeout=3) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0.5, timeout=3)


CHECKS: dict[str, Callable[[Settings], None]] = {"database": _database, "metric_store": _metric_store,
                                                 "broker": _broker}


def check_dependencies(settings: Settings, timeout_seconds: float = 5.0) -> dict[str, str]:
    """{dependency: "ok" | why it is down}, every check run in parallel and bounded by timeout_seconds."""
    results: dict[str, str] = {}
    pool = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="readiness")
    try:
        futures = {name: pool.submit(check, settings) for name, check in CHECKS.items()}
        for name, future in futures.items():
            try:
                future.result(timeout=timeout_seconds)
                results[name] = "ok"
            except FutureTimeout:
                results[name] = f"no answer within {timeout_seconds:.0f}s"
            except Exception as exc:  # any failure means "down"; the reason goes back to the caller
                results[name] = _scrub(f"{exc.__class__.__name__}: {exc}", settings)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    down = {k: v for k, v in results.items() if v != "ok"}
    if down:
        log.warning("not ready: %s", down)
    return results


def _scrub(message: str, settings: Settings) -> str:
    """The error text with every configured URL replaced by its redacted form (drivers echo DSNs)."""
    for url in (settings.database_url, settings.metrics_url, settings.broker_url):
        if url and url != redact_url(url):
            message = message.replace(url, redact_url(url))
            password = urlsplit(url).password
            if password:
                message = message.replace(password, "***")
    return message.splitlines()[0][:300] if message else "failed"
