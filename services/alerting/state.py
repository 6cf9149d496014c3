"""Alert lifecycle: findings → pending → firing → resolved, silences, repeats, and outbox rows in the same transaction.

evaluate_rule() changes alert rows and writes the outbox rows that announce the changes within the caller's
session: committing that session commits both or neither, so no state change is announced twice or lost.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from services.alerting.base import AlertEvent, Notification
from services.alerting.config import AlertingSettings, RuleConfig
from services.alerting.rules import EVALUATORS, Finding, RuleView
from services.db.models import AlertChannelRow, AlertOutboxRow, AlertRow, AlertRuleRow, AlertSilenceRow

log = logging.getLogger(__name__)


@dataclass
class EvaluationResult:
    rule: str
    findings: int = 0
    fired: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    outbox_ids: list[int] = field(default_factory=list)
    channel_ids: list[int] = field(default_factory=list)
    error: str = ""


def fingerprint(rule: str, subject: str) -> str:
    """One incident = one alert: the same rule on the same subject always has the same fingerprint."""
    return hashlib.sha256(f"{rule}\x00{subject}".encode()).hexdigest()[:32]


def new_event_id() -> str:
    return "msg_" + secrets.token_hex(12)


def _iso(ts: datetime | None) -> str | None:
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z") if ts else None


def save_rule(session: Session, rule: RuleConfig, *, source: str, only_if_source: str | None = None) -> AlertRuleRow:
    """Create or update the rule named rule.name (an API edit never overwrites a config rule and vice versa)."""
    row = session.scalar(select(AlertRuleRow).where(AlertRuleRow.name == rule.name))
    values = rule.model_dump(mode="json", exclude={"name"})
    if row is None:
        row = AlertRuleRow(name=rule.name, source=source, **values)
        session.add(row)
    elif only_if_source is None or row.source == only_if_source:
        for key, value in values.items():
            if getattr(row, key) != value:
                setattr(row, key, value)
    session.flush()
    return row


def active_silences(session: Session, rule: str, now: datetime) -> list[AlertSilenceRow]:
    """Silences in force now for this rule (or for every rule)."""
    query = select(AlertSilenceRow).where(AlertSilenceRow.starts_at <= now, AlertSilenceRow.expires_at > now)
    return [s for s in session.scalars(query) if not s.rule or s.rule == rule]


def silenced(silences: list[AlertSilenceRow], labels: dict[str, str]) -> bool:
    return any(all(labels.get(k) == v for k, v in s.matchers.items()) for s in silences)


def _event(rule: AlertRuleRow, alert: AlertRow, *, valid_until: datetime | None) -> AlertEvent:
    resolved = alert.state == "resolved"
    return AlertEvent(
        fingerprint=alert.fingerprint, rule=rule.name, kind=rule.kind, severity=rule.severity,
        status="resolved" if resolved else "firing", subject=alert.subject, summary=alert.summary,
        value=alert.value, labels=dict(alert.labels), starts_at=_iso(alert.fired_at or alert.pending_since) or "",
        ends_at=_iso(alert.resolved_at) if resolved else _iso(valid_until),
    )


def enqueue(session: Session, *, channels: list[AlertChannelRow], notification_for: Any, rule_id: int | None,
            kind: str = "notify") -> list[AlertOutboxRow]:
    """One outbox row per channel, each with its own event id (the webhook-id receivers de-duplicate on)."""
    rows = []
    for channel in channels:
        event_id = new_event_id()
        notification: Notification = notification_for(event_id)
        row = AlertOutboxRow(event_id=event_id, channel_id=channel.id, rule_id=rule_id, kind=kind,
                             payload=notification.to_dict(), status="pending")
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def evaluate_rule(
    session: Session, rule: AlertRuleRow, *, settings: AlertingSettings, now: datetime | None = None
) -> EvaluationResult:
    """Evaluate one rule and apply the transitions; the caller's commit publishes alerts and outbox together."""
    now = now or datetime.now(UTC)
    result = EvaluationResult(rule=rule.name)
    view = RuleView(rule.name, rule.kind, rule.params, rule.scope)
    try:
        findings = EVALUATORS[rule.kind](session, view, now)
    except Exception as exc:  # one broken rule must not resolve its alerts nor stop the others
        log.exception("alert rule %s failed", rule.name)
        result.error = f"{type(exc).__name__}: {exc}"
        return result
    result.findings = len(findings)
    current: dict[str, Finding] = {fingerprint(rule.name, f.subject): f for f in findings}
    mine = select(AlertRow).where(AlertRow.rule_id == rule.id)
    existing = {a.fingerprint: a for a in session.scalars(mine)}
    new = [{"rule_id": rule.id, "fingerprint": fp, "subject": f.subject, "state": "pending", "labels": f.labels,
            "summary": f.summary, "pending_since": now, "last_seen_at": now}
           for fp, f in current.items() if fp not in existing]
    if new:  # one statement for every new incident, however many resources the rule found
        session.execute(insert(AlertRow), new)
        existing = {a.fingerprint: a for a in session.scalars(mine)}
    silences = active_silences(session, rule.name, now)
    to_notify: list[AlertRow] = []
    for fp, finding in current.items():
        alert = existing[fp]
        if alert.state == "resolved":
            alert.state, alert.pending_since = "pending", now
            alert.fired_at = alert.resolved_at = alert.last_notified_at = None
        alert.labels, alert.value, alert.summary = finding.labels, finding.value, finding.summary
        alert.last_seen_at = now
        if alert.state == "pending" and now - alert.pending_since >= timedelta(seconds=rule.for_seconds):
            alert.state, alert.fired_at = "firing", now
            result.fired.append(alert.subject)
        if alert.state != "firing" or silenced(silences, alert.labels):
            continue
        due = alert.last_notified_at is None or now - alert.last_notified_at >= timedelta(seconds=rule.repeat_seconds)
        if due:
            to_notify.append(alert)
    for fp, alert in existing.items():
        if fp in current or alert.state == "resolved":
            continue
        was_firing = alert.state == "firing"
        alert.state, alert.resolved_at = "resolved", now
        if was_firing:
            result.resolved.append(alert.subject)
            if alert.last_notified_at is not None and not silenced(silences, alert.labels):
                to_notify.append(alert)
    rule.last_evaluated_at = now
    session.flush()
    if to_notify:
        channels = list(session.scalars(select(AlertChannelRow).where(AlertChannelRow.name.in_(rule.channels))))
        valid_until = now + timedelta(seconds=rule.repeat_seconds + 2 * settings.evaluate_interval_seconds)
        events = [_event(rule, a, valid_until=valid_until) for a in sorted(to_notify, key=lambda a: a.subject)]
        for alert in to_notify:
            alert.last_notified_at = now
        rows = enqueue(session, channels=channels, rule_id=rule.id, notification_for=lambda event_id: Notification(
            event_id=event_id, rule=rule.name, severity=rule.severity, created_at=_iso(now) or "", alerts=events))
        result.outbox_ids = [r.id for r in rows]
        result.channel_ids = [c.id for c in channels]
    return result


def sample_notification(channel: AlertChannelRow, event_id: str, now: datetime | None = None) -> Notification:
    """A clearly marked test message through the real channel path."""
    now = now or datetime.now(UTC)
    event = AlertEvent(fingerprint=fingerprint("headroom-test", channel.name), rule="headroom-test", kind="test",
                       severity="info", status="firing", subject=f"channel {channel.name}",
                       summary="Test message from Headroom: this channel is set up correctly.", value=None,
                       labels={"channel": channel.name}, starts_at=_iso(now) or "",
                       ends_at=_iso(now + timedelta(minutes=5)))
    return Notification(event_id=event_id, rule="headroom-test", severity="info", created_at=_iso(now) or "",
                        alerts=[event], test=True)
