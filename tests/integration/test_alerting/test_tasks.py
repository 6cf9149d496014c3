"""The Celery tasks of alerting run eagerly in process: the beat check → one evaluation per rule → delivery.

(A real worker runs them in test_delivery.py::test_a_worker_killed_mid_send_loses_nothing.)"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from standardwebhooks import Webhook

from services.alerting.tasks import (
    check_for_alert_deliveries,
    check_for_alerts,
    deliver_alert_channel,
    evaluate_alert_rule,
)
from services.db.engine import session_scope
from services.db.migrate import upgrade
from services.db.models import AlertChannelRow, AlertRuleRow, SourceStatusRow
from services.settings import get_settings
from services.tasks import app
from tests.integration.test_alerting.receivers import Receiver

pytestmark = pytest.mark.integration


def test_beat_check_evaluation_and_delivery_tasks(receiver: Receiver, use_alerts_yml: Callable[[str], None]) -> None:
    secret = "whsec_" + base64.b64encode(b"s" * 32).decode()
    use_alerts_yml(
        f"channels:\n  - {{name: hook, type: webhook, url: '{receiver.url}/hook', secrets: ['{secret}']}}\n"
        "rules:\n  - {name: silent, kind: source_silent, channels: [hook], params: {max_silence_minutes: 5}}\n")
    saved = {k: app.conf[k] for k in ("task_always_eager", "result_backend")}
    try:
        db = get_settings().database_url
        upgrade(db)
        with session_scope(db) as session:
            session.add(SourceStatusRow(source="aws", last_success_at=datetime.now(UTC) - timedelta(hours=1)))
        # enqueued tasks run here, on no broker and no result store
        app.conf.update(task_always_eager=True, result_backend="cache+memory://")
        assert check_for_alerts.run() == 1  # applied the YAML, evaluated the one rule, delivered its message
        assert len(receiver.requests) == 1
        with session_scope(db) as session:
            rule_id = session.scalars(select(AlertRuleRow.id)).one()
            channel_id = session.scalars(select(AlertChannelRow.id)).one()
        assert check_for_alert_deliveries.run() == 0 and deliver_alert_channel.run(channel_id)["delivered"] == []
        payload = Webhook(secret).verify(receiver.requests[0].body, receiver.requests[0].headers)
        assert payload["data"]["alerts"][0]["subject"] == "source:aws"
        assert evaluate_alert_rule.run(rule_id)["fired"] == []  # nothing new: no second message
    finally:
        app.conf.update(task_always_eager=saved["task_always_eager"], result_backend=saved["result_backend"])
