"""Per-stream ingest state: each (source, stream) keeps its own watermark, backfill cursor, cadence and retry state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.db.models import IngestStreamRow

STREAMS = ("inventory", "metrics", "costs")
MIN_RETRY = timedelta(minutes=5)  # a failing stream with no cadence waits at least this long before its next try
MAX_RETRY = timedelta(hours=24)  # ... and never longer than this


@dataclass
class StreamPlan:
    """What one run does with one stream: run it (and over which window), or why it is skipped."""

    stream: str
    due: bool
    reason: str = ""  # why it is skipped, for the run's report


def load_stream(session: Session, source: str, stream: str) -> IngestStreamRow:
    """The stream's row, created empty (never collected) when missing; attached to `session`."""
    row = session.get(IngestStreamRow, (source, stream))
    if row is None:
        row = IngestStreamRow(source=source, stream=stream, failures=0, last_error="", spend_month="", spend_calls=0,
                              spend_usd=Decimal(0), detail={})  # fmt: skip
        session.add(row)
    return row


def inherit_watermark(session: Session, row: IngestStreamRow) -> None:
    """A metric family's first run continues from the source's single "metrics" stream of before, if it had one."""
    if row.watermark is not None or row.backfill_cursor is not None or not row.stream.startswith("metrics:"):
        return
    legacy = session.get(IngestStreamRow, (row.source, "metrics"))
    if legacy is not None and legacy.watermark is not None:
        row.watermark = legacy.watermark


def stream_rows(session: Session, source: str | None = None) -> list[IngestStreamRow]:
    query = select(IngestStreamRow).order_by(IngestStreamRow.source, IngestStreamRow.stream)
    if source is not None:
        query = query.where(IngestStreamRow.source == source)
    return list(session.scalars(query))


def plan(row: IngestStreamRow, cadence: timedelta, now: datetime, *, forced: bool = False) -> StreamPlan:
    """Due when never run, when its cadence has passed since the last success, or when a failed try's wait is over."""
    if forced or row.last_run_at is None:
        return StreamPlan(row.stream, True)
    if row.failures:
        due_at = row.next_due_at or now
        if now >= due_at:
            return StreamPlan(row.stream, True)
        return StreamPlan(row.stream, False, f"failing ({row.failures}x), next try at {due_at:%Y-%m-%d %H:%M} UTC")
    last = row.last_success_at or row.last_run_at
    if now >= last + cadence:
        return StreamPlan(row.stream, True)
    return StreamPlan(row.stream, False, f"not due until {last + cadence:%Y-%m-%d %H:%M} UTC")


def record_success(row: IngestStreamRow, now: datetime) -> None:
    row.last_run_at = row.last_success_at = now
    row.failures = 0
    row.last_error = ""
    row.next_due_at = None


def record_failure(row: IngestStreamRow, now: datetime, cadence: timedelta, error: str) -> None:
    """Count the failure and wait before the next try: the cadence (at least MIN_RETRY), doubling per failure."""
    row.last_run_at = now
    row.failures = (row.failures or 0) + 1
    row.last_error = error[:2000]
    wait = max(cadence, MIN_RETRY) * 2 ** min(row.failures - 1, 16)
    row.next_due_at = now + min(wait, MAX_RETRY)


def prepare_backfill(
    row: IngestStreamRow, until: datetime, *, first_since: datetime | None, backfill: timedelta | None
) -> None:
    """Record the backfill to do as [backfill_cursor, backfill_until) on the row: the one asked for, or the first
    run's history. It survives a killed run, so the next run resumes it after the last stored chunk."""
    if backfill is not None:
        start = until - backfill
        cursor, end = row.backfill_cursor, row.backfill_until
        row.backfill_cursor = min(start, cursor) if cursor is not None else start
        row.backfill_until = max(until, end) if end is not None else until
    elif row.watermark is None and row.backfill_cursor is None and first_since is not None:
        row.backfill_cursor, row.backfill_until = first_since, until


def incremental_window(row: IngestStreamRow, until: datetime, lookback: timedelta) -> tuple[datetime | None, datetime]:
    """After any backfill: [watermark - lookback, until), or (None, until) for a source never collected that reads
    its whole history in one go. The look-back re-reads samples the provider publishes late (ingest upserts)."""
    if row.watermark is None:
        return None, until
    if row.watermark >= until:
        return until, until
    return row.watermark - lookback, until


def advance_backfill(row: IngestStreamRow, chunk_end: datetime) -> None:
    """One backfill chunk is stored: move the cursor past it, and finish the backfill at its end."""
    assert row.backfill_until is not None
    if chunk_end >= row.backfill_until:
        row.watermark = max(row.watermark or row.backfill_until, row.backfill_until)
        row.backfill_cursor = row.backfill_until = None
    else:
        row.backfill_cursor = chunk_end
