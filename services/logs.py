"""Logging of the long-running processes: plain text or one JSON object per line, each with the request id."""

from __future__ import annotations

import logging
import re
import uuid
from contextvars import ContextVar

from pythonjsonlogger.json import JsonFormatter

from services.settings import Settings

# The id of the HTTP request (X-Request-ID) or Celery task being handled; "-" outside of one.
request_id_var: ContextVar[str] = ContextVar("headroom_request_id", default="-")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s %(process)d"


def accept_request_id(incoming: str | None) -> str:
    """The caller's X-Request-ID when it is a sane token (so ids can be followed across services), else a new one."""
    if incoming and _SAFE_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIdFilter(logging.Filter):
    """Stamps every record with the current request id, so formatters can print it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get()
        return True


def configure_logging(settings: Settings) -> None:
    """Send every logger's records to stderr at settings.log_level, as text or JSON (HEADROOM_DEPLOY__LOG_FORMAT)."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    if settings.deploy.log_format == "json":
        handler.setFormatter(JsonFormatter(JSON_FIELDS, rename_fields={"levelname": "level", "asctime": "time",
                                                                       "name": "logger"}))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=settings.log_level, handlers=[handler], force=True)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per InfluxDB query otherwise
    # uvicorn's own handlers would print a second, unstructured copy of each line
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "celery", "celery.task"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True


def configure_celery_logging(settings: Settings) -> None:
    """configure_logging, and keep Celery (worker, beat) from replacing it with its own when it starts."""
    from celery import signals

    def keep_ours(**_: object) -> None:  # a receiver of setup_logging tells Celery to leave the root logger alone
        configure_logging(settings)

    signals.setup_logging.connect(keep_ours, weak=False)
    configure_logging(settings)
