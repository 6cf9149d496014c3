"""The alert lifecycle on a source-silent rule: for-duration, one alert per incident, repeats, silences, resolve."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from services.alerting.admin import create_silence, sync_config
from services.alerting.base import Notification
from services.alerting.state import evaluate_rule
from services.db.engine import session_scope
from services.db.models import AlertOutboxRow, AlertRuleRow, SourceStatusRow
from tests.integration.test_alerting.conftest import alert_settings

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def step(db_url: str, at: datetime) -> tuple[list[str], list[str], list[Notification]]:
    settings = alert_settings(
        channels=[{"type": "slack", "name": "ops", "webhook_url": "http://127.0.0.1:9/services/T/B/x"}],
        rules=[{"name": "silent", "kind": "source_silent", "channels": ["ops"], "for_seconds": 600,
                "repeat_seconds": 3600, "params": {"max_silence_minutes": 30}}])
    with session_scope(db_url) as session:
        sync_config(session, settings)
        before = {r.id for r in session.scalars(select(AlertOutboxRow))}
        rule = session.scalar(select(AlertRuleRow))
        assert rule is not None
        result = evaluate_rule(session, rule, settings=settings, now=at)
        new = [Notification.from_dict(r.payload) for r in session.scalars(select(AlertOutboxRow)) if r.id not in before]
    return result.fired, result.resolved, new


def set_sources(db_url: str, last_success: dict[str, datetime]) -> None:
    with session_scope(db_url) as session:
        for source, at in last_success.items():
            row = session.get(SourceStatusRow, source) or SourceStatusRow(source=source)
            row.last_success_at = at
            session.merge(row)


def test_pending_firing_repeat_silence_and_resolve(db_url: str) -> None:
    set_sources(db_url, {"aws": T0 - timedelta(hours=2), "gcp": T0 - timedelta(hours=3), "demo": T0})
    assert step(db_url, T0) == ([], [], [])  # pending: the condition must hold for 10 minutes
    fired, _, [note] = step(db_url, T0 + timedelta(minutes=10))
    assert fired == ["source:aws", "source:gcp"]
    assert [a.subject for a in note.alerts] == ["source:aws", "source:gcp"] and note.status == "firing"  # grouped
    assert step(db_url, T0 + timedelta(minutes=20)) == ([], [], [])  # still firing: no second message
    _, _, [again] = step(db_url, T0 + timedelta(minutes=71))  # the repeat interval has passed
    assert again.event_id != note.event_id and len(again.alerts) == 2
    with session_scope(db_url) as session:
        create_silence(session, rule="silent", matchers={"source": "gcp"}, minutes=60, comment="",
                       created_by="t", now=T0 + timedelta(minutes=80))
    set_sources(db_url, {"aws": T0 + timedelta(minutes=85), "demo": T0 + timedelta(minutes=85)})
    _, resolved, [done] = step(db_url, T0 + timedelta(minutes=90))
    assert resolved == ["source:aws"] and [(a.subject, a.status) for a in done.alerts] == [("source:aws", "resolved")]
    assert step(db_url, T0 + timedelta(minutes=139)) == ([], [], [])  # gcp repeats are silenced until T0+140
    _, _, [after] = step(db_url, T0 + timedelta(minutes=141))  # the silence expired: gcp is announced again
    assert [a.subject for a in after.alerts] == ["source:gcp"]
    # aws went silent again after 85: pending from 139, firing from 150, as a new incident of the same alert
    set_sources(db_url, {"demo": T0 + timedelta(minutes=150)})
    fired, _, [renewed] = step(db_url, T0 + timedelta(minutes=150))
    assert fired == ["source:aws"] and renewed.alerts[0].starts_at == "2026-11-23T14:30:00Z"
