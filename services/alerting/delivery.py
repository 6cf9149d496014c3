"""The delivery worker: sends each channel's outbox in order, retries with backoff and jitter, dead-letters, logs.

Per channel only the oldest undelivered message may be sent (so receivers see events in order); a worker claims
it with a lease, which another worker takes over if the first dies mid-send. A message is marked delivered only
after the receiver accepted it, so it is delivered at least once; its event id (webhook-id, dedup_key, Message-ID)
is the same on every attempt, so receivers see one delivery per event.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.alerting.base import Notification, SendResult
from services.alerting.channels import build_channel, http_client, validate_channel_config
from services.alerting.config import AlertingSettings
from services.alerting.safety import redact
from services.db.engine import session_scope
from services.db.models import AlertChannelRow, AlertDeliveryRow, AlertOutboxRow
from services.sealing import SealError, unseal

log = logging.getLogger(__name__)
OPEN = ("pending", "sending")


@dataclass
class DeliveryReport:
    channel_id: int
    delivered: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    dead: list[str] = field(default_factory=list)


def backoff_seconds(attempt: int, settings: AlertingSettings, rng: random.Random | None = None) -> float:
    """Exponential backoff with equal jitter: half the doubled delay fixed, half random."""
    delay = min(settings.backoff_max_seconds, settings.backoff_base_seconds * 2 ** max(0, attempt - 1))
    return delay / 2 + (rng or random).uniform(0, delay / 2)


def _head(session: Session, channel_id: int) -> AlertOutboxRow | None:
    query = select(AlertOutboxRow).where(AlertOutboxRow.channel_id == channel_id, AlertOutboxRow.status.in_(OPEN))
    return session.scalar(query.order_by(AlertOutboxRow.id).limit(1))


def _is_due(row: AlertOutboxRow, now: datetime) -> bool:
    if row.status == "pending":
        return row.next_attempt_at <= now
    return row.lease_until is None or row.lease_until <= now


def claim_head(session: Session, channel_id: int, *, settings: AlertingSettings) -> AlertOutboxRow | None:
    """The channel's oldest open message if it is due, leased to this worker (compare-and-set), else None."""
    now = datetime.now(UTC)
    row = _head(session, channel_id)
    if row is None or not _is_due(row, now):
        return None
    claimed = session.execute(
        update(AlertOutboxRow)
        .where(AlertOutboxRow.id == row.id, AlertOutboxRow.status == row.status,
               AlertOutboxRow.attempts == row.attempts)
        .values(status="sending", attempts=row.attempts + 1,
                lease_until=now + timedelta(seconds=settings.lease_seconds))
        .execution_options(synchronize_session=False)
    )
    session.commit()
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return None
    session.refresh(row)
    return row


def due_channel_ids(session: Session) -> list[int]:
    """Channels whose oldest open message can be sent now."""
    now = datetime.now(UTC)
    ids = session.scalars(select(AlertOutboxRow.channel_id).where(AlertOutboxRow.status.in_(OPEN)).distinct())
    due = []
    for channel_id in sorted(ids):
        head = _head(session, channel_id)
        if head is not None and _is_due(head, now):
            due.append(channel_id)
    return due


def _wait_for_rate_limit(session: Session, channel_id: int, min_interval: float) -> None:
    if min_interval <= 0:
        return
    last = session.scalar(
        select(AlertDeliveryRow.at).join(AlertOutboxRow, AlertOutboxRow.id == AlertDeliveryRow.outbox_id)
        .where(AlertOutboxRow.channel_id == channel_id).order_by(AlertDeliveryRow.at.desc()).limit(1)
    )
    if last is not None:
        wait = min_interval - (datetime.now(UTC) - last).total_seconds()
        if wait > 0:
            time.sleep(min(wait, min_interval))


def record(session: Session, row: AlertOutboxRow, result: SendResult, *, settings: AlertingSettings,
           secrets: list[str]) -> str:
    """Log the attempt and move the message on: delivered, back to pending with a delay, or dead. Commits."""
    now = datetime.now(UTC)
    error = redact(result.error, secrets)
    session.add(AlertDeliveryRow(outbox_id=row.id, attempt=row.attempts, at=now, ok=result.ok,
                                 status_code=result.status_code, latency_ms=result.latency_ms, error=error))
    if result.ok:
        row.status, row.delivered_at, row.last_error = "delivered", now, ""
    elif result.permanent or row.attempts >= settings.max_attempts or row.kind == "test":
        row.status, row.last_error = "dead", error
    else:
        delay = max(backoff_seconds(row.attempts, settings), result.retry_after or 0.0)
        row.status, row.last_error = "pending", error
        row.next_attempt_at = now + timedelta(seconds=delay)
    row.lease_until = None
    session.commit()
    if row.status == "dead":
        log.warning("alert message %s dead-lettered after %d attempts: %s", row.event_id, row.attempts, error)
    return row.status


def send_claimed(session: Session, row: AlertOutboxRow, channel_row: AlertChannelRow, *,
                 settings: AlertingSettings) -> str:
    """Send one claimed message through its channel and record the outcome; returns the new status."""
    try:
        config = validate_channel_config(unseal(channel_row.config, settings.sealing_key.get_secret_value()))
    except SealError as exc:
        return record(session, row, SendResult(False, error=str(exc)), settings=settings, secrets=[])
    except ValidationError as exc:
        result = SendResult(False, error=f"channel {channel_row.name!r} is misconfigured: {exc.errors()[0]['msg']}",
                            permanent=True)
        return record(session, row, result, settings=settings, secrets=[])
    with http_client(settings) as client:
        channel = build_channel(config, settings, client)
        _wait_for_rate_limit(session, channel_row.id, channel.min_interval_seconds)
        result = channel.send(Notification.from_dict(row.payload))
        return record(session, row, result, settings=settings, secrets=channel.secrets())


def deliver_channel(db_url: str, channel_id: int, *, settings: AlertingSettings, max_messages: int = 200
                    ) -> DeliveryReport:
    """Send the channel's due messages in order until one fails or none is due (the caller re-runs it later)."""
    report = DeliveryReport(channel_id)
    with session_scope(db_url) as session:
        channel_row = session.get(AlertChannelRow, channel_id)
        if channel_row is None:
            return report
        for _ in range(max_messages):
            row = claim_head(session, channel_id, settings=settings)
            if row is None:
                break
            status = send_claimed(session, row, channel_row, settings=settings)
            {"delivered": report.delivered, "dead": report.dead}.get(status, report.failed).append(row.event_id)
            if status == "pending":
                break
    return report

