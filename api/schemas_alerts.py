"""API schemas of alerting: channels (secrets never returned), rules, alerts, silences, deliveries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from api.schemas import PlainText
from services.alerting.config import NAME, RuleConfig, Scope, Severity


class ChannelCreate(BaseModel):
    model_config = {"extra": "forbid"}
    name: str = Field(pattern=NAME, description="Unique channel name that rules refer to.")
    type: str = Field(description="slack, grafana, alertmanager, pagerduty, email or webhook.")
    config: dict[str, Any] = Field(default_factory=dict, description="The type's fields (see README 'Alerts').")


class ChannelRead(BaseModel):
    id: int
    name: str
    type: str
    source: str
    config: dict[str, Any] = Field(description="Secrets masked as ***; webhook URLs reduced to scheme and host.")
    created_at: datetime


RuleCreate = RuleConfig


class RuleUpdate(BaseModel):
    model_config = {"extra": "forbid"}
    severity: Severity | None = None
    channels: list[str] | None = None
    scope: Scope | None = None
    params: dict[str, Any] | None = None
    for_seconds: int | None = None
    repeat_seconds: int | None = None
    enabled: bool | None = None


class RuleRead(BaseModel):
    id: int
    name: str
    kind: str
    severity: str
    channels: list[str]
    scope: dict[str, Any]
    params: dict[str, Any]
    for_seconds: int
    repeat_seconds: int
    enabled: bool
    source: str
    last_evaluated_at: datetime | None


class AlertRead(BaseModel):
    id: int
    rule: str
    fingerprint: str
    subject: str
    state: str
    value: float | None
    summary: str
    labels: dict[str, str]
    pending_since: datetime
    fired_at: datetime | None
    resolved_at: datetime | None
    last_notified_at: datetime | None


class SilenceCreate(BaseModel):
    model_config = {"extra": "forbid"}
    rule: str = Field("", description="Rule name; empty = every rule.")
    matchers: dict[str, str] = Field(default_factory=dict, description="Label equalities, e.g. resource_id.")
    minutes: float = Field(gt=0, le=90 * 24 * 60, description="How long the silence lasts.")
    comment: PlainText = ""


class SilenceRead(BaseModel):
    id: int
    rule: str
    matchers: dict[str, str]
    comment: str
    created_by: str
    starts_at: datetime
    expires_at: datetime


class DeliveryAttemptRead(BaseModel):
    attempt: int
    at: datetime
    ok: bool
    status_code: int | None
    latency_ms: float
    error: str


class DeliveryRead(BaseModel):
    id: int
    event_id: str
    channel: str
    kind: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str
    created_at: datetime
    delivered_at: datetime | None
    log: list[DeliveryAttemptRead] = Field(default_factory=list)
