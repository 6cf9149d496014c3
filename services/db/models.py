"""SQLAlchemy 2 ORM models of the relational store, one module so every table shares one metadata and naming
convention for Alembic; sections per capability. Change them only together with an Alembic migration."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every dialect (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON, dict[str, str]: JSON}


class ResourceRow(Base):
    __tablename__ = "resources"
    __table_args__ = (UniqueConstraint("provider", "resource_id", name="uq_resources_provider_resource_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    provider: Mapped[str] = mapped_column(String(32), index=True)
    resource_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(32), default="vm")
    account: Mapped[str] = mapped_column(String(128), default="", index=True)
    region: Mapped[str] = mapped_column(String(64), default="", index=True)
    instance_type: Mapped[str] = mapped_column(String(64), default="")
    vcpus: Mapped[float | None] = mapped_column(Float)
    memory_gib: Mapped[float | None] = mapped_column(Float)
    hourly_price: Mapped[float | None] = mapped_column(Float)
    environment: Mapped[str] = mapped_column(String(32), default="production", index=True)
    tags: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    first_seen: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(default=utcnow)


class SeriesRow(Base):
    """One metric of one resource. The SQL metric store keeps its points in metric_points."""

    __tablename__ = "series"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[str] = mapped_column(String(400), unique=True)
    resource_id: Mapped[str] = mapped_column(String(255), index=True)
    metric: Mapped[str] = mapped_column(String(64), index=True)
    unit: Mapped[str] = mapped_column(String(32), default="")
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MetricPointRow(Base):
    __tablename__ = "metric_points"

    series_pk: Mapped[int] = mapped_column(ForeignKey("series.id", ondelete="CASCADE"), primary_key=True)
    ts: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # epoch seconds, UTC
    value: Mapped[float] = mapped_column(Float)


class CostRow(Base):
    """A FOCUS-shaped cost line; dedup_key makes re-imports idempotent."""

    __tablename__ = "cost_records"
    __table_args__ = (Index("ix_cost_records_period", "charge_period_start", "provider"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(64), unique=True)
    source: Mapped[str] = mapped_column(String(64), default="")
    provider: Mapped[str] = mapped_column(String(32))
    charge_period_start: Mapped[date] = mapped_column(Date)
    charge_period_end: Mapped[date] = mapped_column(Date)
    billed_cost: Mapped[Decimal] = mapped_column(Numeric(18, 6))
    effective_cost: Mapped[Decimal] = mapped_column(Numeric(18, 6))
    list_cost: Mapped[Decimal] = mapped_column(Numeric(18, 6))
    charge_category: Mapped[str] = mapped_column(String(32), default="Usage")
    service_name: Mapped[str] = mapped_column(String(128), default="")
    resource_id: Mapped[str] = mapped_column(String(255), default="", index=True)
    region_id: Mapped[str] = mapped_column(String(64), default="")
    sub_account_id: Mapped[str] = mapped_column(String(128), default="")
    billing_currency: Mapped[str] = mapped_column(String(8), default="USD")
    tags: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)


class ModelVersionRow(Base):
    """A trained model of one series: parameters, data window, backtest metrics, artifact."""

    __tablename__ = "model_versions"
    __table_args__ = (UniqueConstraint("series_id", "stat", "version", name="uq_model_versions_series_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[str] = mapped_column(String(400), index=True)
    stat: Mapped[str] = mapped_column(String(16), default="mean")  # mean or p95 within the hour
    model_name: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    data_start: Mapped[datetime]
    data_end: Mapped[datetime]
    metrics: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    artifact_uri: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="active")  # candidate, active, retired
    trained_at: Mapped[datetime] = mapped_column(default=utcnow)
    as_of: Mapped[date | None] = mapped_column(Date)  # the training day
    reason: Mapped[str] = mapped_column(Text, default="")  # why it was promoted, kept candidate or rolled back


class ForecastRow(Base):
    """One forecast run of one series and statistic, as of a day; its points follow."""

    __tablename__ = "forecasts"
    __table_args__ = (UniqueConstraint("series_id", "stat", "as_of", name="uq_forecasts_series_stat_as_of"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[str] = mapped_column(String(400), index=True)
    stat: Mapped[str] = mapped_column(String(16), default="mean")
    as_of: Mapped[date] = mapped_column(Date)
    model_version_id: Mapped[int | None] = mapped_column(ForeignKey("model_versions.id", ondelete="SET NULL"))
    model_name: Mapped[str] = mapped_column(String(64))
    step_seconds: Mapped[int] = mapped_column(Integer, default=3600)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    points: Mapped[list[ForecastPointRow]] = relationship(
        back_populates="forecast", cascade="all, delete-orphan", order_by="ForecastPointRow.ts"
    )


class ForecastPointRow(Base):
    __tablename__ = "forecast_points"

    forecast_id: Mapped[int] = mapped_column(ForeignKey("forecasts.id", ondelete="CASCADE"), primary_key=True)
    ts: Mapped[datetime] = mapped_column(primary_key=True)
    mean: Mapped[float] = mapped_column(Float)
    lo80: Mapped[float | None] = mapped_column(Float)
    hi80: Mapped[float | None] = mapped_column(Float)
    lo95: Mapped[float | None] = mapped_column(Float)
    hi95: Mapped[float | None] = mapped_column(Float)
    forecast: Mapped[ForecastRow] = relationship(back_populates="points")


class RecommendationRow(Base):
    """One recommendation about one resource, scope or group, with its evidence and lifecycle (issue 5)."""

    __tablename__ = "recommendations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_pk: Mapped[int | None] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"), index=True)
    resource_key: Mapped[str] = mapped_column(String(400), index=True)  # provider:resource_id, or a scope/group
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)  # one row per (kind, resource_key, variant)
    kind: Mapped[str] = mapped_column(String(32), index=True)  # rightsize, idle, commitment, schedule, runway...
    finding: Mapped[str] = mapped_column(String(32), default="")
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    title: Mapped[str] = mapped_column(String(255))
    monthly_savings_list: Mapped[float] = mapped_column(Float, default=0.0)
    monthly_savings_effective: Mapped[float] = mapped_column(Float, default=0.0)
    risk: Mapped[int] = mapped_column(Integer, default=0)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    current: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    proposed: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    alternatives: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    dismissed_reason: Mapped[str] = mapped_column(Text, default="")
    realised_savings_monthly: Mapped[float | None] = mapped_column(Float)
    realised_detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)  # the last refresh that produced it
    accepted_at: Mapped[datetime | None]
    implemented_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    dismissed_at: Mapped[datetime | None]


class UserRow(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    name: Mapped[str] = mapped_column(String(255), default="")
    role: Mapped[str] = mapped_column(String(16), default="viewer")
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    tokens: Mapped[list[ApiTokenRow]] = relationship(back_populates="user", cascade="all, delete-orphan")


class ApiTokenRow(Base):
    """A bearer token: only its SHA-256 is stored; prefix is shown so people can tell tokens apart."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scope: Mapped[str] = mapped_column(String(16))  # viewer, editor, admin
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    user: Mapped[UserRow] = relationship(back_populates="tokens")


class IngestWatermarkRow(Base):
    """How far a source has been collected, per key (a series, a cost account...)."""

    __tablename__ = "ingest_watermarks"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(400), primary_key=True)
    watermark: Mapped[datetime]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class SourceStatusRow(Base):
    """Last outcome of collecting each source, for `headroom status` and /api/sources."""

    __tablename__ = "source_status"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_run_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    samples_written: Mapped[int] = mapped_column(BigInteger, default=0)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class IngestStreamRow(Base):
    """One stream of a source (inventory, metrics, costs): its own watermark, backfill cursor, retry state and the
    month's API spend, so a failing stream never blocks or repeats the others."""

    __tablename__ = "ingest_streams"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    stream: Mapped[str] = mapped_column(String(64), primary_key=True)
    watermark: Mapped[datetime | None]
    # a backfill in progress: [backfill_cursor, backfill_until) is still to fetch; chunks before it are committed
    backfill_cursor: Mapped[datetime | None]
    backfill_until: Mapped[datetime | None]
    last_run_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    next_due_at: Mapped[datetime | None]
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    spend_month: Mapped[str] = mapped_column(String(7), default="")  # YYYY-MM the spend below belongs to
    spend_calls: Mapped[int] = mapped_column(BigInteger, default=0)
    spend_usd: Mapped[Decimal] = mapped_column(Numeric(14, 6), default=Decimal(0))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


# --- forecasting (issue 3): registry, training runs, forecast scores, anomalies -------------------


class TrainingRunRow(Base):
    """One day's retraining: how many series were planned and how many are trained, skipped or failed."""

    __tablename__ = "training_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    as_of: Mapped[date] = mapped_column(Date, unique=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="running")  # running, finished
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrainingItemRow(Base):
    """The outcome of one (day, series): its primary key is what makes retraining exactly-once per day."""

    __tablename__ = "training_items"

    as_of: Mapped[date] = mapped_column(Date, primary_key=True)
    series_id: Mapped[str] = mapped_column(String(400), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # trained, skipped, failed
    detail: Mapped[str] = mapped_column(Text, default="")
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ForecastScoreRow(Base):
    """Live accuracy of one stored forecast against the actuals that have arrived so far."""

    __tablename__ = "forecast_scores"

    forecast_id: Mapped[int] = mapped_column(ForeignKey("forecasts.id", ondelete="CASCADE"), primary_key=True)
    series_id: Mapped[str] = mapped_column(String(400), index=True)
    stat: Mapped[str] = mapped_column(String(16))
    model_name: Mapped[str] = mapped_column(String(64), index=True)
    as_of: Mapped[date] = mapped_column(Date)
    points: Mapped[int] = mapped_column(Integer)  # forecast steps with an actual so far
    horizon: Mapped[int] = mapped_column(Integer)  # forecast steps in all
    mae: Mapped[float | None] = mapped_column(Float)
    scale: Mapped[float | None] = mapped_column(Float)  # in-sample seasonal-naive MAE of the training window
    mase: Mapped[float | None] = mapped_column(Float)
    coverage80: Mapped[float | None] = mapped_column(Float)
    coverage95: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnomalyRow(Base):
    """One incident: consecutive or nearby points of a series outside its forecast's 95% band."""

    __tablename__ = "anomalies"
    __table_args__ = (Index("ix_anomalies_series_started", "series_id", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[str] = mapped_column(String(400))
    stat: Mapped[str] = mapped_column(String(16), default="mean")
    kind: Mapped[str] = mapped_column(String(16))  # metric, cost
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime]
    peak_at: Mapped[datetime]
    actual: Mapped[float] = mapped_column(Float)  # at the peak
    expected: Mapped[float] = mapped_column(Float)
    lower: Mapped[float | None] = mapped_column(Float)
    upper: Mapped[float | None] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)  # |actual - expected| in standard deviations implied by the band
    points: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)  # open, closed
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)



# --- recommendations (issue 5): lifecycle, scenarios ---------------------------------------------


class RecommendationEventRow(Base):
    """One status change of a recommendation: who moved it from what to what, and why."""

    __tablename__ = "recommendation_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    recommendation_id: Mapped[int] = mapped_column(ForeignKey("recommendations.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(255), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(default=utcnow)


class RecommendationSkipRow(Base):
    """Why the last refresh made no recommendation of a kind for a resource (too little data, an HPA...)."""

    __tablename__ = "recommendation_skips"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_key: Mapped[str] = mapped_column(String(400), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(Text)
    refreshed_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScenarioRow(Base):
    """A saved what-if scenario: growth, launches and migrations over the fleet (or a filtered part of it)."""

    __tablename__ = "scenarios"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    spec: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# --- alerts (issue 8): rules, alerts, silences, outbox, deliveries -------------------------------


class AlertChannelRow(Base):
    """A notification channel; config holds its type's settings (secrets included: never returned by the API)."""

    __tablename__ = "alert_channels"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(16))
    config: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source: Mapped[str] = mapped_column(String(16), default="api")  # api, or config (re-applied from alerts.yml)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AlertRuleRow(Base):
    __tablename__ = "alert_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    severity: Mapped[str] = mapped_column(String(16), default="warning")
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    scope: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    for_seconds: Mapped[int] = mapped_column(Integer, default=0)
    repeat_seconds: Mapped[int] = mapped_column(Integer, default=4 * 3600)
    enabled: Mapped[bool] = mapped_column(default=True)
    source: Mapped[str] = mapped_column(String(16), default="api")
    last_evaluated_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AlertRow(Base):
    """One incident of a rule on one subject, identified by its fingerprint: pending, firing or resolved."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("rule_id", "fingerprint", name="uq_alerts_rule_fingerprint"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("alert_rules.id", ondelete="CASCADE"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(400))
    labels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), index=True)
    value: Mapped[float | None] = mapped_column(Float)
    summary: Mapped[str] = mapped_column(Text, default="")
    pending_since: Mapped[datetime]
    fired_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    last_notified_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime]


class AlertSilenceRow(Base):
    """Mutes notifications of matching alerts until expires_at (state changes are still recorded)."""

    __tablename__ = "alert_silences"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule: Mapped[str] = mapped_column(String(64), default="")  # empty = every rule
    matchers: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)  # label equalities
    comment: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(255), default="")
    starts_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AlertOutboxRow(Base):
    """A message to deliver, written in the transaction that changed the alerts; event_id is stable across retries."""

    __tablename__ = "alert_outbox"
    __table_args__ = (Index("ix_alert_outbox_channel_status", "channel_id", "status", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("alert_channels.id", ondelete="CASCADE"))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("alert_rules.id", ondelete="SET NULL"), index=True)
    kind: Mapped[str] = mapped_column(String(16), default="notify")  # notify, test
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending, sending, delivered, dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    lease_until: Mapped[datetime | None]
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]


class AlertDeliveryRow(Base):
    """One attempt to deliver an outbox message: the delivery log."""

    __tablename__ = "alert_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(ForeignKey("alert_outbox.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    ok: Mapped[bool] = mapped_column(default=False)
    status_code: Mapped[int | None] = mapped_column(Integer)
    latency_ms: Mapped[float] = mapped_column(Float, default=0.0)
    error: Mapped[str] = mapped_column(Text, default="")


# --- identity (issue 20): the audit log of admin actions, the token policy --------------------------


class AuditRow(Base):
    """One admin action: who (user and token), what (action and target, with details), when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(255))  # the e-mail, kept when the user row goes
    token_name: Mapped[str] = mapped_column(String(128), default="")
    action: Mapped[str] = mapped_column(String(64), index=True)  # token.create, user.update, channel.put...
    target: Mapped[str] = mapped_column(String(400), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # never a secret


class AuthPolicyRow(Base):
    """The admins' token policy; one row (id 1)."""

    __tablename__ = "auth_policy"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    max_token_ttl_days: Mapped[int | None] = mapped_column(Integer)  # none: only the configured default applies
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class AdhocJobRow(Base):
    """An ad-hoc forecast of an upload, run by a worker: the upload waits here, the answer lands here."""

    __tablename__ = "adhoc_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random: the job URL is not guessable
    token_id: Mapped[int] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)  # queued, running, done, failed
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # horizon_hours, model, levels, save, name
    upload: Mapped[str] = mapped_column(Text, default="")  # the CSV, dropped once the job ends
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
