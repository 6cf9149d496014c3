"""SQLAlchemy 2 ORM models of the relational store. Change them only together with an Alembic migration."""

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
    __tablename__ = "recommendations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_pk: Mapped[int | None] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # rightsize, idle, commitment, schedule, runway
    status: Mapped[str] = mapped_column(String(16), default="open")
    title: Mapped[str] = mapped_column(String(255))
    monthly_savings: Mapped[float | None] = mapped_column(Float)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


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
