"""API schemas (XRead / XCreate / XPage), apart from the ORM models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Aggregation = Literal["mean", "max", "min", "sum", "count", "last", "p50", "p90", "p95", "p99"]
RoleName = Literal["viewer", "editor", "admin"]
# Names end up in terminals, logs and spreadsheets: no control characters (ANSI escapes, newlines)
PlainName = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]
PlainText = Annotated[str, StringConstraints(max_length=2000, pattern=r"^[^\x00-\x08\x0b-\x1f\x7f]*$")]
Email = Annotated[str, StringConstraints(max_length=255, pattern=r"^[^@\s<>\"'(),;:\\]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")]


class ErrorRead(BaseModel):
    """Every error the API sends: one sentence that says what is wrong and what to do."""

    detail: str = Field(..., description="What went wrong and how to fix it, e.g. which parameter or CSV line.")


class HealthRead(BaseModel):
    status: Literal["ok"]
    version: str


class ResourceRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    resource_id: str
    provider: str
    name: str
    kind: str
    account: str
    region: str
    instance_type: str
    vcpus: float | None
    memory_gib: float | None
    hourly_price: float | None
    environment: str
    tags: dict[str, str]


class ResourcePage(BaseModel):
    items: list[ResourceRead]
    total: int
    page: int
    size: int


class SeriesRead(BaseModel):
    series_id: str
    resource_id: str
    metric: str
    unit: str
    labels: dict[str, str]


class SeriesPage(BaseModel):
    items: list[SeriesRead]


class MetricPoint(BaseModel):
    t: datetime
    v: float


class MetricsRead(BaseModel):
    series_id: str
    start: datetime
    end: datetime
    step: int | None
    agg: str
    points: list[MetricPoint]


class ForecastPointRead(BaseModel):
    t: datetime
    mean: float
    lo80: float | None
    hi80: float | None
    lo95: float | None
    hi95: float | None


class ForecastRead(BaseModel):
    series_id: str
    stat: str
    model: str
    as_of: date
    created_at: datetime
    step: int
    points: list[ForecastPointRead]


class UserRead(BaseModel):
    email: str
    name: str


class MeRead(BaseModel):
    user: UserRead
    role: RoleName
    token_name: str


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: PlainName = Field(..., description="What the token is for.")
    role: RoleName = Field("viewer", description="viewer reads, editor changes recommendations, admin manages.")
    email: Email | None = Field(None, description="Owner (an e-mail address); default: the caller.")
    expires_in_days: int | None = Field(None, ge=1, le=3650, description="Default: the configured token TTL.")


class TokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    scope: RoleName
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(BaseModel):
    id: int
    name: str
    role: RoleName
    expires_at: datetime | None
    token: str = Field(..., description="Shown once; only its SHA-256 is stored.")


class TokenPage(BaseModel):
    items: list[TokenRead]


class StreamRead(BaseModel):
    """One stream of a source: its watermark, retry state and this month's API spend at list price."""

    name: str
    watermark: datetime | None
    last_success_at: datetime | None
    next_due_at: datetime | None
    failures: int
    last_error: str
    spend_month_usd: float


class SourceRead(BaseModel):
    name: str
    configured: bool
    last_run_at: datetime | None
    last_success_at: datetime | None
    lag_seconds: float | None
    last_error: str
    samples_written: int
    spend_month_usd: float = 0.0  # paid API calls this calendar month, at list price
    monthly_budget_usd: float | None = None
    streams: list[StreamRead] = []


class SourcePage(BaseModel):
    items: list[SourceRead]
