"""Celery tasks of alerting: cheap check_for_* beat tasks that enqueue per-rule evaluation and per-channel delivery."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from services.alerting import (
    TASK_CHECK_FOR_ALERT_DELIVERIES,
    TASK_CHECK_FOR_ALERTS,
    TASK_DELIVER_ALERT_CHANNEL,
    TASK_EVALUATE_ALERT_RULE,
)
from services.settings import get_settings
from services.tasks import app, fan_out, non_blocking_lock


@app.task(name=TASK_CHECK_FOR_ALERTS, ignore_result=True)
def check_for_alerts() -> int:
    """Apply config/alerts.yml, then enqueue one evaluation per enabled rule."""
    from services.alerting.admin import sync_config
    from services.db.engine import session_scope
    from services.db.models import AlertRuleRow

    settings = get_settings()

    def enabled_rules() -> list[int]:
        with session_scope(settings.database_url) as session:
            sync_config(session, settings.alerts)
            return list(session.scalars(select(AlertRuleRow.id).where(AlertRuleRow.enabled.is_(True))))

    return fan_out("check_for_alerts", settings, enabled_rules, evaluate_alert_rule,
                   expires=settings.alerts.evaluate_interval_seconds)


@app.task(name=TASK_EVALUATE_ALERT_RULE)
def evaluate_alert_rule(rule_id: int) -> dict[str, Any]:
    """Evaluate one rule; its alert changes and outbox rows commit together, then delivery is kicked."""
    from services.alerting.state import evaluate_rule
    from services.db.engine import session_scope
    from services.db.models import AlertRuleRow

    settings = get_settings()
    with non_blocking_lock(f"evaluate_alert_rule_{rule_id}", settings) as got:
        if not got:
            return {"rule_id": rule_id, "skipped": "another evaluation of this rule is running"}
        with session_scope(settings.database_url) as session:
            rule = session.get(AlertRuleRow, rule_id)
            if rule is None or not rule.enabled:
                return {"rule_id": rule_id, "skipped": "rule deleted or disabled"}
            result = evaluate_rule(session, rule, settings=settings.alerts, now=datetime.now(UTC))
    for channel_id in result.channel_ids:
        deliver_alert_channel.apply_async(args=[channel_id])
    return {"rule": result.rule, "findings": result.findings, "fired": result.fired, "resolved": result.resolved,
            "error": result.error}


@app.task(name=TASK_CHECK_FOR_ALERT_DELIVERIES, ignore_result=True)
def check_for_alert_deliveries() -> int:
    """Enqueue delivery for every channel whose oldest open message is due (retries, taken-over leases)."""
    from services.alerting.delivery import due_channel_ids
    from services.db.engine import session_scope

    settings = get_settings()

    def due() -> list[int]:
        with session_scope(settings.database_url) as session:
            return list(due_channel_ids(session))

    return fan_out("check_for_alert_deliveries", settings, due, deliver_alert_channel,
                   expires=settings.alerts.deliver_interval_seconds * 4)


@app.task(name=TASK_DELIVER_ALERT_CHANNEL)
def deliver_alert_channel(channel_id: int) -> dict[str, Any]:
    """Send one channel's due messages in order (a lease on each message keeps concurrent workers apart)."""
    from services.alerting.delivery import deliver_channel

    settings = get_settings()
    report = deliver_channel(settings.database_url, channel_id, settings=settings.alerts)
    return {"channel_id": channel_id, "delivered": report.delivered, "failed": report.failed, "dead": report.dead}
