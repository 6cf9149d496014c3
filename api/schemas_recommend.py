"""API schemas of recommendations, runway, scenarios and the executive summary (issue 5)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import PlainName, PlainText

StatusName = Literal["open", "accepted", "implemented", "verified", "dismissed"]


class EvidenceRead(BaseModel):
    """Why a recommendation was made: how much data, which percentile and headroom, what follows, how risky."""

    coverage_hours: float
    coverage_ratio: float
    percentile: str
    headroom: float
    observed: dict[str, float]
    forecast_peak: dict[str, float]
    projected_utilisation: dict[str, float]
    risk: int
    reasons: list[str]


class RecommendationEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: str
    to_status: str
    actor: str
    note: str
    at: datetime


class RecommenderKindRead(BaseModel):
    kind: str = Field(description="The value of `kind` on its recommendations and in the ?kind= filter")
    label: str
    description: str
    plugin: bool = Field(description="True when an installed plug-in package provides it")


class RecommendationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    resource_key: str = Field(description="provider:resource_id, commitment:<provider> or group:<dimension>=<value>")
    resource_pk: int | None
    finding: str
    status: StatusName
    title: str
    monthly_savings_list: float = Field(description="USD a month at list (on-demand) price")
    monthly_savings_effective: float = Field(description="USD a month at the effective (amortised) price paid")
    risk: int = Field(description="performance risk 0 (none) .. 4 (high)")
    evidence: EvidenceRead
    reasons: list[str]
    current: dict[str, Any]
    proposed: dict[str, Any]
    alternatives: list[dict[str, Any]]
    dismissed_reason: str
    realised_savings_monthly: float | None
    realised_detail: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    last_seen_at: datetime
    accepted_at: datetime | None
    implemented_at: datetime | None
    verified_at: datetime | None
    dismissed_at: datetime | None
    resource_name: str | None = Field(None, description="The resource's name; null for groups and commitments")
    monthly_cost_change: float = Field(
        0.0, description="USD a month, effective: positive for an upsize or scale-out, negative for a saving"
    )
    risk_change: str = Field("", description="What the change prevents (upsizes) or the risk it takes on (savings)")


class RecommendationDetail(RecommendationRead):
    history: list[RecommendationEventRead]


class RecommendationPage(BaseModel):
    items: list[RecommendationRead]
    total: int
    page: int
    size: int


class SkipRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    resource_key: str
    kind: str
    reason: str
    refreshed_at: datetime


class SkipPage(BaseModel):
    items: list[SkipRead]


class TransitionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: PlainText = Field("", description="Optional comment kept in the history")


class DismissBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: PlainText = Field(min_length=1, description="Why the recommendation does not apply")


class RefreshRead(BaseModel):
    created: int
    updated: int
    kept: int
    removed: int
    skipped: int


class RunwayRead(BaseModel):
    id: int
    resource_key: str
    resource_name: str | None = Field(None, description="The resource's name; null for a group or a budget")
    metric: str
    current: float | None
    threshold: float
    p50_days: float | None = Field(description="days until the threshold on the mean path; null: beyond the horizon")
    p90_days: float | None = Field(description="days until the threshold with 10% chance of sooner")
    horizon_days: float
    lead_time_days: float
    flagged: bool = Field(description="P90 runway shorter than the procurement lead time")
    method: str
    title: str
    severity: Literal["over", "critical", "warning", "uncertain", "ok"] = Field(
        description="over: already past the threshold; critical: P50 inside the lead time; warning: only P90 inside "
        "it; uncertain: P90 inside it but the band is noise or the forecast's live accuracy is poor; ok: neither"
    )
    severity_reason: str = Field(description="Why, in words, with the forecast's reach when it falls short")


class RunwayPage(BaseModel):
    resources: list[RunwayRead]
    resource_total: int = Field(description="Resources' runways matching the filters, before `limit` cut the list")
    groups: list[RunwayRead]
    budgets: list[RunwayRead] = Field(description="Days until this month's spend reaches recommend.budgets")


class GrowthIn(BaseModel):
    percent_per_month: float = Field(ge=-90.0, le=500.0)


class LaunchIn(BaseModel):
    on: date
    added_percent: float = Field(ge=0.0, le=10_000.0, description="Step of load, % of the baseline load")
    resource_ids: list[str] = Field(default_factory=list, description="Empty: every resource")


class MigrationIn(BaseModel):
    on: date
    to_family: str = Field(min_length=1, max_length=64)
    from_family: str | None = None
    performance_factor: float = Field(1.0, gt=0.0, le=10.0)
    resource_ids: list[str] = Field(default_factory=list)


class ScenarioSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    growth: GrowthIn | None = None
    launches: list[LaunchIn] = Field(default_factory=list, max_length=50)
    migrations: list[MigrationIn] = Field(default_factory=list, max_length=50)
    months: int = Field(12, ge=1, le=60)
    scale: Literal["scale_out", "fixed"] = "scale_out"
    target_utilisation_percent: float = Field(80.0, gt=0.0, le=100.0)
    provider: str | None = Field(None, description="Only resources of this provider")
    environment: str | None = None
    account: str | None = None


class ScenarioCreate(ScenarioSpec):
    name: PlainName
    description: PlainText = ""


class ScenarioRead(BaseModel):
    id: int
    name: str
    description: str
    spec: ScenarioSpec
    created_by: str
    created_at: datetime


class ScenarioPage(BaseModel):
    items: list[ScenarioRead]


class MonthCompare(BaseModel):
    month: date
    baseline_cost: float
    scenario_cost: float
    cost_delta: float
    baseline_capacity_vcpus: float
    scenario_capacity_vcpus: float
    baseline_demand_vcpus: float
    scenario_demand_vcpus: float
    baseline_utilisation: float
    scenario_utilisation: float
    baseline_instances: int
    scenario_instances: int
    over_target: list[str]


class ScenarioCompare(BaseModel):
    scenario: ScenarioRead
    start: date
    resources: int
    skipped: list[str] = Field(description="Resources left out of the projection, with why")
    fleet_monthly_cost: float = Field(
        0.0, description="USD a month of the projected resources as they run today (billed run rate, else catalog)"
    )
    baseline_total_cost: float
    scenario_total_cost: float
    total_cost_delta: float
    months: list[MonthCompare]


class KindSummary(BaseModel):
    kind: str
    count: int
    identified_monthly_list: float
    identified_monthly_effective: float
    verified: int
    realised_monthly: float


class ForecastSpend(BaseModel):
    available: bool
    reason: str = ""
    series_id: str | None = None
    model: str | None = None
    as_of: str | None = None
    period_start: date | None = Field(None, description="First day of the next calendar quarter")
    period_end: date | None = Field(None, description="The day after the quarter's last (exclusive)")
    days_covered: int | None = None
    credits: float | None = Field(
        None, description="Recurring monthly credits expected in the period (negative), included in mean and bounds"
    )
    mean: float | None = None
    lo80: float | None = None
    hi80: float | None = None
    lo95: float | None = None
    hi95: float | None = None


class ProviderForecastSpend(ForecastSpend):
    provider: str


class ProviderSpend(BaseModel):
    provider: str
    billed: float
    effective: float


class MonthToDate(BaseModel):
    period_start: date
    through: date
    billed: float
    effective: float
    by_provider: list[ProviderSpend]


class RunRateRead(BaseModel):
    monthly: float
    start: date = Field(description="First charge day of the week it is measured on")
    end: date = Field(description="The day after its last (exclusive)")
    resources: int


class SummaryRead(BaseModel):
    as_of: datetime
    last_refresh: datetime | None
    identified_monthly_savings_list: float
    identified_monthly_savings_effective: float
    realised_monthly_savings: float
    by_kind: list[KindSummary]
    status_counts: dict[str, int]
    not_counted_twice: int = Field(description="Savings set aside because another one covers the same resource")
    forecast_next_quarter: ForecastSpend
    forecast_next_quarter_by_provider: list[ProviderForecastSpend]
    spend_month_to_date: MonthToDate
    monthly_run_rate: RunRateRead | None = Field(
        None, description="USD a month at the last settled week's spend, credits left out; the scenarios' baseline"
    )
