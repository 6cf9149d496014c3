"""Training runs: one row per day with its counters, one item per (day, series) that makes retraining exactly-once."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.db.models import TrainingItemRow, TrainingRunRow, utcnow

FINAL = ("trained", "skipped")  # outcomes that are not redone for the day unless forced; "failed" is retried


def start_run(session: Session, as_of: date, total: int) -> TrainingRunRow:
    """The day's run, created or widened to `total` planned series, and marked running until all are done."""
    run = session.scalars(select(TrainingRunRow).where(TrainingRunRow.as_of == as_of)).first()
    if run is None:
        run = TrainingRunRow(as_of=as_of, total=total, status="running", started_at=utcnow(), updated_at=utcnow())
        session.add(run)
        session.flush()
    elif total > run.total:
        run.total = total
    refresh_run(session, as_of)
    return run


def item_status(session: Session, as_of: date, series_id: str) -> str | None:
    """trained, skipped, failed, or None when the series has not been tried that day."""
    item = session.get(TrainingItemRow, (as_of, series_id))
    return item.status if item is not None else None


def record_item(session: Session, as_of: date, series_id: str, status: str, detail: str = "") -> None:
    """Record the outcome of (as_of, series_id). Call it in the transaction that stores the series' models: a
    worker killed before the commit leaves neither, so the redelivered task trains the series once."""
    item = session.get(TrainingItemRow, (as_of, series_id))
    if item is None:
        session.add(TrainingItemRow(as_of=as_of, series_id=series_id, status=status, detail=detail[:2000],
                                    attempts=1, updated_at=utcnow()))
    else:
        item.status, item.detail, item.updated_at = status, detail[:2000], utcnow()
        item.attempts += 1
    session.flush()


def refresh_run(session: Session, as_of: date) -> TrainingRunRow | None:
    """Recount the day's run from its items (so a redelivered task never double-counts); finished when all are."""
    run = session.scalars(select(TrainingRunRow).where(TrainingRunRow.as_of == as_of)).first()
    if run is None:
        return None
    query = select(TrainingItemRow.status, func.count()).where(TrainingItemRow.as_of == as_of)
    counts: dict[str, int] = {status: int(n) for status, n in session.execute(query.group_by(TrainingItemRow.status))}
    run.done, run.skipped, run.failed = counts.get("trained", 0), counts.get("skipped", 0), counts.get("failed", 0)
    run.total = max(run.total, run.done + run.skipped + run.failed)
    run.updated_at = utcnow()
    if run.done + run.skipped + run.failed >= run.total:
        run.status, run.finished_at = "finished", run.finished_at or utcnow()
    else:
        run.status, run.finished_at = "running", None
    session.flush()
    return run


def list_runs(session: Session, limit: int = 30) -> list[TrainingRunRow]:
    """The newest runs first."""
    return list(session.scalars(select(TrainingRunRow).order_by(TrainingRunRow.as_of.desc()).limit(limit)))
