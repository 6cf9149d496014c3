"""Managing channels, rules and silences, and sending test messages: the one path the API and the CLI share."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, SecretStr, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.alerting.channels import validate_channel_config
from services.alerting.config import AlertingSettings, ChannelBase, EmailChannel, RuleConfig
from services.alerting.delivery import send_claimed
from services.alerting.safety import UnsafeDestinationError, check_host, check_url, redact_url
from services.alerting.state import enqueue, sample_notification, save_rule
from services.db.models import AlertChannelRow, AlertOutboxRow, AlertRuleRow, AlertSilenceRow
from services.plugins import PluginError
from services.sealing import SealError, is_sealed, seal, unseal

log = logging.getLogger(__name__)
URL_FIELDS = ("url", "webhook_url")
SECRET_MASK = "***"  # noqa: S105 - the mask, not a secret


class AlertConfigError(ValueError):
    """A channel, rule or silence cannot be saved as given; the message says what to change."""


def parse_channel(data: dict[str, Any], settings: AlertingSettings) -> ChannelBase:
    """A validated channel config whose destination passes the safety check (the same check runs at send time)."""
    try:
        config = validate_channel_config(data)
    except PluginError as exc:
        raise AlertConfigError(f"channel {data.get('name', '?')!r}: type: {exc}") from None
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise AlertConfigError(f"channel {data.get('name', '?')!r}: {where}: {err['msg']}") from None
    for field in URL_FIELDS:
        value = getattr(config, field, None)
        if value is not None:
            url = value.get_secret_value() if isinstance(value, SecretStr) else value
            check_url(url, allowed_hosts=settings.allowed_hosts)
    if isinstance(config, EmailChannel):
        check_host(config.host, config.port, allowed_hosts=settings.allowed_hosts)
    return config


def plain_config(config: BaseModel) -> dict[str, Any]:
    data = config.model_dump(mode="python")
    for key, value in data.items():
        if isinstance(value, SecretStr):
            data[key] = value.get_secret_value()
        elif isinstance(value, list):
            data[key] = [v.get_secret_value() if isinstance(v, SecretStr) else v for v in value]
    return data


def channel_config(row: AlertChannelRow, settings: AlertingSettings) -> dict[str, Any]:
    """A channel's stored config, unsealed (SealError if HEADROOM_SECRET_KEY changed without a rotation)."""
    return unseal(row.config, settings.sealing_key.get_secret_value())


def _masked(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return SECRET_MASK if value.get_secret_value() else ""
    if isinstance(value, list):
        return [_masked(v) for v in value]
    return value


def redacted_config(row: AlertChannelRow, settings: AlertingSettings) -> dict[str, Any]:
    """A channel's config safe to show anyone: every secret field `***`, every URL reduced to scheme and host.

    A config that no longer validates (a plug-in's type uninstalled) shows only its name and type."""
    try:
        config = validate_channel_config(channel_config(row, settings))
    except (PluginError, ValidationError, SealError):
        return {"name": row.name, "type": row.type}
    out: dict[str, Any] = {}
    for key in type(config).model_fields:
        value = getattr(config, key)
        plain = value.get_secret_value() if isinstance(value, SecretStr) else value
        is_url = isinstance(plain, str) and (key in URL_FIELDS or key.endswith("_url"))
        out[key] = redact_url(plain) if is_url else _masked(value)
    return out


def save_channel(session: Session, data: dict[str, Any], settings: AlertingSettings, *, source: str = "api"
                 ) -> AlertChannelRow:
    """Create or replace the channel data['name'] after validating it and checking its destination."""
    config = parse_channel(data, settings)
    row = session.scalar(select(AlertChannelRow).where(AlertChannelRow.name == config.name))
    if row is None:
        row = AlertChannelRow(name=config.name, type=config.type, source=source)
        session.add(row)
    elif row.source != source:
        where = "config/alerts.yml" if row.source == "config" else "the API"
        raise AlertConfigError(f"channel {config.name!r} is managed through {where}: change it there")
    data = plain_config(config)
    key = settings.sealing_key.get_secret_value()
    if row.type != config.type or not is_sealed(row.config) or unseal(row.config, key) != data:
        row.type, row.config = config.type, seal(data, key)
    session.flush()
    return row


def reseal_channels(session: Session, settings: AlertingSettings, *, old_keys: tuple[str, ...] = ()) -> int:
    """Seal every channel's config under the current key, opening it with the current or an old key; returns how
    many were sealed (plain configs from before sealing are sealed too)."""
    key = settings.sealing_key.get_secret_value()
    rows = list(session.scalars(select(AlertChannelRow)))
    for row in rows:
        row.config = seal(unseal(row.config, key, old_keys=old_keys), key)
    session.flush()
    return len(rows)


def sync_config(session: Session, settings: AlertingSettings) -> None:
    """Write config/alerts.yml's channels and rules into the database (source=config); the file wins for them.

    A channel whose destination fails the safety check is skipped with an error in the log; its rules then
    notify nobody until the file is fixed."""
    for channel in settings.channels:
        try:
            save_channel(session, plain_config(channel), settings, source="config")
        except (AlertConfigError, UnsafeDestinationError) as exc:
            log.error("config/alerts.yml channel %r not applied: %s", channel.name, exc)
    for rule in settings.rules:
        save_rule(session, rule, source="config", only_if_source="config")
    session.flush()


def save_api_rule(session: Session, rule: RuleConfig) -> AlertRuleRow:
    known = set(session.scalars(select(AlertChannelRow.name)))
    missing = [c for c in rule.channels if c not in known]
    if missing:
        raise AlertConfigError(f"rule {rule.name!r}: unknown channels {missing}; create them first")
    existing = session.scalar(select(AlertRuleRow).where(AlertRuleRow.name == rule.name))
    if existing is not None and existing.source == "config":
        raise AlertConfigError(f"rule {rule.name!r} comes from config/alerts.yml: edit it there")
    return save_rule(session, rule, source="api")


def create_silence(session: Session, *, rule: str, matchers: dict[str, str], minutes: float, comment: str,
                   created_by: str, now: datetime | None = None) -> AlertSilenceRow:
    if minutes <= 0:
        raise AlertConfigError("a silence needs a positive duration, e.g. --minutes 120")
    if rule and session.scalar(select(AlertRuleRow.id).where(AlertRuleRow.name == rule)) is None:
        raise AlertConfigError(f"no rule named {rule!r}: list them with `headroom alerts rules`")
    now = now or datetime.now(UTC)
    row = AlertSilenceRow(rule=rule, matchers=matchers, comment=comment, created_by=created_by, starts_at=now,
                          expires_at=now + timedelta(minutes=minutes))
    session.add(row)
    session.flush()
    return row


def send_test(session: Session, channel: AlertChannelRow, settings: AlertingSettings) -> AlertOutboxRow:
    """Send a marked test message now through the channel's real path; the outbox row records the outcome.

    Test rows skip the queue (they never wait behind retries of real alerts) and are not retried."""
    [row] = enqueue(session, channels=[channel], rule_id=None, kind="test",
                    notification_for=lambda event_id: sample_notification(channel, event_id))
    session.commit()
    row.next_attempt_at = datetime.now(UTC)
    claimed = _claim(session, row, settings)
    send_claimed(session, claimed, channel, settings=settings)
    session.refresh(claimed)
    return claimed


def _claim(session: Session, row: AlertOutboxRow, settings: AlertingSettings) -> AlertOutboxRow:
    row.status, row.attempts = "sending", 1
    row.lease_until = datetime.now(UTC) + timedelta(seconds=settings.lease_seconds)
    session.commit()
    return row

