"""API schemas of the dashboard's own routes: the fleet table and forecasts of uploaded CSVs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from api.schemas import ForecastPointRead, MetricPoint, ResourceRead


class FleetRow(ResourceRead):
    cpu_p95_7d: float | None = Field(None, description="p95 of CPU utilisation over the 7 days to its newest sample.")
    memory_p95_7d: float | None = Field(None, description="p95 of memory utilisation over the same 7 days.")
    forecast_peak_14d: float | None = Field(
        None, description="Highest forecast mean of CPU utilisation over the next 14 days (newest forecast)."
    )
    forecast_metric: str | None = Field(None, description="Series the forecast peak belongs to.")
    last_data_at: datetime | None = Field(None, description="Newest sample of any of its series.")
    open_recommendations: int = Field(0, description="Recommendations about it with status open.")


class FleetPage(BaseModel):
    items: list[FleetRow]
    total: int
    page: int
    size: int
    sort: str


class AdhocForecastRead(BaseModel):
    model: str
    horizon_hours: int
    history: list[MetricPoint] = Field(..., description="The upload on an hourly grid (as forecast).")
    points: list[ForecastPointRead]
    backtest: dict[str, Any] = Field(..., description="holdout, model, mase, smape, coverage80, coverage95.")
    regularized: dict[str, Any] = Field(..., description="What was done to put the upload on an hourly grid.")
    stored_series_id: str | None = Field(None, description="Set when the upload was stored (store=true).")


class AdhocJobRead(BaseModel):
    id: str
    status: Literal["queued", "running", "done", "failed"]
    url: str = Field(..., description="Poll it: GET returns this object, with `result` once status is done.")
    error: str = Field("", description="Why the job failed.")
    created_at: datetime
    finished_at: datetime | None = None
    result: AdhocForecastRead | None = None


class SpendPart(BaseModel):
    name: str
    effective: float


class SpendDay(BaseModel):
    day: date
    effective: float = Field(..., description="Effective cost of the day, credits and adjustments included")
    one_off: float = Field(0.0, description="Of which credits and adjustments (negative for a credit)")


class SpendRead(BaseModel):
    by: str
    currency: str = Field(..., description="Billing currency of the cost records (USD when mixed or none).")
    period_start: date
    through: date | None = Field(None, description="Newest charge day counted; None when there are no costs.")
    month_to_date: float
    parts: list[SpendPart] = Field(..., description="Month-to-date effective cost per value, largest first.")
    daily: list[SpendDay] = Field(..., description="Effective cost per charge day over the last `days` days.")


class MonthForecast(BaseModel):
    mean: float = Field(..., description="Spend of the whole month: actual days, then the forecast of the rest.")
    lo80: float | None = None
    hi80: float | None = None
    lo95: float | None = None
    hi95: float | None = None
    forecast_from: date = Field(..., description="First day taken from the forecast (earlier days are actual).")


class BudgetRead(BaseModel):
    scope: str = Field(..., description="total, or a provider")
    series_id: str = Field(..., description="The daily cost forecast used")
    budget: float = Field(..., description="Monthly budget (recommend.budgets), in the billing currency")
    month_to_date: float = Field(..., description="Effective cost of this month's charge days, credits included")
    used: float = Field(..., description="month_to_date / budget")
    month_end: MonthForecast | None = Field(None, description="None when no stored forecast covers the month's end")
    status: str = Field(..., description="over, at_risk (80% upper bound above budget), under, or unknown")
    reason: str = Field("", description="Why there is no month-end forecast")


class BudgetsRead(BaseModel):
    currency: str
    period_start: date
    period_end: date = Field(..., description="Last day of the month")
    through: date | None = Field(None, description="Newest charge day counted; None when there are no costs.")
    items: list[BudgetRead]
    reason: str = Field("", description="Why there are no items (no budget configured)")


class CoveragePointRead(BaseModel):
    start: date = Field(..., description="The day, or the Monday of the ISO week")
    eligible_list: float = Field(..., description="List (on-demand equivalent) cost of eligible usage lines")
    covered_list: float = Field(..., description="The part of it billed below list price")
    effective: float = Field(..., description="Effective cost of the eligible lines")
    coverage: float | None = Field(None, description="covered_list / eligible_list; None when not available")


class CommitmentCoverageRead(BaseModel):
    available: bool
    reason: str = Field("", description="Why coverage cannot be told from the stored cost records")
    basis: str = Field(..., description="What counts as eligible and as covered")
    period: str = Field(..., description="day or week")
    currency: str
    items: list[CoveragePointRead]
