"""Alerting: channels and rules (admins, audited), alerts, silences (editors), the delivery log, test messages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.deps import AdminPrincipal, CurrentPrincipal, EditorPrincipal, RowId, SessionDep, SettingsDep
from api.schemas_alerts import (
    AlertRead,
    ChannelCreate,
    ChannelRead,
    DeliveryAttemptRead,
    DeliveryRead,
    RuleCreate,
    RuleRead,
    RuleUpdate,
    SilenceCreate,
    SilenceRead,
)
from services.alerting.admin import (
    AlertConfigError,
    create_silence,
    redacted_config,
    save_api_rule,
    save_channel,
    send_test,
)
from services.alerting.config import RuleConfig
from services.alerting.params import RuleParamsError
from services.alerting.safety import UnsafeDestinationError
from services.db.models import (
    AlertChannelRow,
    AlertDeliveryRow,
    AlertOutboxRow,
    AlertRow,
    AlertRuleRow,
    AlertSilenceRow,
)
from services.identity import audit
from services.settings import Settings

router = APIRouter(prefix="/alerts", tags=["alerts"])
BAD_INPUT = (AlertConfigError, UnsafeDestinationError, RuleParamsError)


def _unprocessable(exc: Exception) -> HTTPException:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        return HTTPException(422, f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}")
    return HTTPException(422, str(exc))


def _channel_read(row: AlertChannelRow, settings: Settings) -> ChannelRead:
    return ChannelRead(id=row.id, name=row.name, type=row.type, source=row.source,
                       config=redacted_config(row, settings.alerts), created_at=row.created_at)


def _channel(session: Session, name: str) -> AlertChannelRow:
    row = session.scalar(select(AlertChannelRow).where(AlertChannelRow.name == name))
    if row is None:
        raise HTTPException(404, f"no channel named {name!r}: GET /api/alerts/channels lists them")
    return row


def _rule(session: Session, name: str) -> AlertRuleRow:
    row = session.scalar(select(AlertRuleRow).where(AlertRuleRow.name == name))
    if row is None:
        raise HTTPException(404, f"no rule named {name!r}: GET /api/alerts/rules lists them")
    return row


@router.get("/channels", response_model=list[ChannelRead])
def list_channels(session: SessionDep, settings: SettingsDep, _: CurrentPrincipal) -> list[ChannelRead]:
    return [_channel_read(r, settings) for r in session.scalars(select(AlertChannelRow).order_by(AlertChannelRow.name))]


@router.put("/channels", response_model=ChannelRead)
def put_channel(body: ChannelCreate, session: SessionDep, settings: SettingsDep, principal: AdminPrincipal
                ) -> ChannelRead:
    """Create or replace a channel; its URL is checked now and again at every send."""
    try:
        row = save_channel(session, {**body.config, "name": body.name, "type": body.type}, settings.alerts)
    except BAD_INPUT as exc:
        raise _unprocessable(exc) from None
    shown = _channel_read(row, settings)
    audit(session, principal, "channel.put", body.name, type=body.type, config=shown.config)  # redacted
    return shown


@router.delete("/channels/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_channel(name: str, session: SessionDep, principal: AdminPrincipal) -> None:
    session.delete(_channel(session, name))
    audit(session, principal, "channel.delete", name)


@router.post("/channels/{name}/test", response_model=DeliveryRead)
def test_channel(name: str, session: SessionDep, settings: SettingsDep, principal: AdminPrincipal) -> DeliveryRead:
    """Send a marked test message now and return its delivery record (status delivered or dead, and why)."""
    row = send_test(session, _channel(session, name), settings.alerts)
    audit(session, principal, "channel.test", name, status=row.status)
    return _delivery_read(session, row, name)


@router.get("/rules", response_model=list[RuleRead])
def list_rules(session: SessionDep, _: CurrentPrincipal) -> list[AlertRuleRow]:
    return list(session.scalars(select(AlertRuleRow).order_by(AlertRuleRow.name)))


@router.post("/rules", response_model=RuleRead, status_code=status.HTTP_201_CREATED)
def create_rule(body: RuleCreate, session: SessionDep, principal: AdminPrincipal) -> AlertRuleRow:
    if session.scalar(select(AlertRuleRow.id).where(AlertRuleRow.name == body.name)) is not None:
        raise HTTPException(409, f"a rule named {body.name!r} exists: PATCH /api/alerts/rules/{body.name} changes it")
    try:
        row = save_api_rule(session, body)
    except BAD_INPUT as exc:
        raise _unprocessable(exc) from None
    audit(session, principal, "rule.create", body.name, **body.model_dump(mode="json", exclude={"name"}))
    return row


@router.patch("/rules/{name}", response_model=RuleRead)
def update_rule(name: str, body: RuleUpdate, session: SessionDep, principal: AdminPrincipal) -> AlertRuleRow:
    row = _rule(session, name)
    current = {k: getattr(row, k) for k in RuleConfig.model_fields if k != "name"}
    change = body.model_dump(exclude_none=True, mode="json")
    try:
        saved = save_api_rule(session, RuleConfig.model_validate({**current, **change, "name": name}))
    except (ValidationError, *BAD_INPUT) as exc:
        raise _unprocessable(exc) from None
    audit(session, principal, "rule.update", name, **change)
    return saved


@router.delete("/rules/{name}", status_code=status.HTTP_204_NO_CONTENT)
def delete_rule(name: str, session: SessionDep, principal: AdminPrincipal) -> None:
    row = _rule(session, name)
    if row.source == "config":
        raise HTTPException(409, f"rule {name!r} comes from config/alerts.yml: remove it there")
    session.delete(row)
    audit(session, principal, "rule.delete", name)


@router.get("", response_model=list[AlertRead])
def list_alerts(
    session: SessionDep, _: CurrentPrincipal,
    state: Annotated[str | None, Query(pattern="^(pending|firing|resolved)$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AlertRead]:
    query = select(AlertRow, AlertRuleRow.name).join(AlertRuleRow, AlertRuleRow.id == AlertRow.rule_id)
    if state:
        query = query.where(AlertRow.state == state)
    rows = session.execute(query.order_by(AlertRow.last_seen_at.desc()).limit(limit)).all()
    return [AlertRead(rule=rule, **{k: getattr(a, k) for k in AlertRead.model_fields if k != "rule"})
            for a, rule in rows]


@router.get("/silences", response_model=list[SilenceRead])
def list_silences(session: SessionDep, _: CurrentPrincipal) -> list[AlertSilenceRow]:
    return list(session.scalars(select(AlertSilenceRow).order_by(AlertSilenceRow.expires_at.desc())))


@router.post("/silences", response_model=SilenceRead, status_code=status.HTTP_201_CREATED)
def add_silence(body: SilenceCreate, session: SessionDep, principal: EditorPrincipal) -> AlertSilenceRow:
    try:
        return create_silence(session, rule=body.rule, matchers=body.matchers, minutes=body.minutes,
                              comment=body.comment, created_by=principal.token_name)
    except AlertConfigError as exc:
        raise _unprocessable(exc) from None


@router.delete("/silences/{silence_id}", status_code=status.HTTP_204_NO_CONTENT)
def expire_silence(silence_id: RowId, session: SessionDep, _: EditorPrincipal) -> None:
    row = session.get(AlertSilenceRow, silence_id)
    if row is None:
        raise HTTPException(404, f"no silence {silence_id}")
    session.delete(row)


def _delivery_read(session: Session, row: AlertOutboxRow, channel: str) -> DeliveryRead:
    log = session.scalars(select(AlertDeliveryRow).where(AlertDeliveryRow.outbox_id == row.id)
                          .order_by(AlertDeliveryRow.id))
    return DeliveryRead(channel=channel, log=[DeliveryAttemptRead.model_validate(d, from_attributes=True) for d in log],
                        **{k: getattr(row, k) for k in DeliveryRead.model_fields if k not in ("channel", "log")})


@router.get("/deliveries", response_model=list[DeliveryRead])
def list_deliveries(
    session: SessionDep, _: CurrentPrincipal,
    status_: Annotated[str | None, Query(alias="status", pattern="^(pending|sending|delivered|dead)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryRead]:
    """The outbox with each message's attempts (status code, latency, error), newest first."""
    query = select(AlertOutboxRow, AlertChannelRow.name).join(AlertChannelRow,
                                                              AlertChannelRow.id == AlertOutboxRow.channel_id)
    if status_:
        query = query.where(AlertOutboxRow.status == status_)
    rows = session.execute(query.order_by(AlertOutboxRow.id.desc()).limit(limit)).all()
    return [_delivery_read(session, row, name) for row, name in rows]
