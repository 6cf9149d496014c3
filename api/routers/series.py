"""GET /api/series and GET /api/metrics: stored series and their samples; GET /api/spend: cost split by a dimension,
GET /api/spend/budgets: spend against the monthly budgets, GET /api/spend/commitment-coverage: coverage over time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query

from api.deps import CurrentPrincipal, MetricStoreDep, SessionDep, SettingsDep
from api.schemas import Aggregation, MetricPoint, MetricsRead, SeriesPage, SeriesRead
from api.schemas_dashboard import (
    BudgetRead,
    BudgetsRead,
    CommitmentCoverageRead,
    CoveragePointRead,
    MonthForecast,
    SpendDay,
    SpendPart,
    SpendRead,
)
from services.costs.spend import (
    COLUMNS,
    COVERAGE_BASIS,
    BudgetStatus,
    SpendQueryError,
    billing_currency,
    budget_status,
    commitment_coverage,
    spend_anchor,
    spend_split,
)
from services.metrics import UnknownSeriesError

router = APIRouter(tags=["metrics"])
DEFAULT_RANGE = timedelta(days=7)
MAX_RAW_SPAN = timedelta(days=31)


@router.get("/series", response_model=SeriesPage)
def read_series(
    store: MetricStoreDep,
    _: CurrentPrincipal,
    resource_id: str | None = None,
    metric: str | None = None,
    provider: str | None = None,
) -> SeriesPage:
    filters = {k: v for k, v in {"resource_id": resource_id, "metric": metric, "provider": provider}.items() if v}
    return SeriesPage(
        items=[
            SeriesRead(series_id=s.series_id, resource_id=s.resource_id, metric=s.metric, unit=s.unit,
                       labels=s.labels)
            for s in store.series(filters)
        ]
    )


def _utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


@router.get("/metrics", response_model=MetricsRead)
def read_metrics(
    store: MetricStoreDep,
    settings: SettingsDep,
    _: CurrentPrincipal,
    series_id: Annotated[str, Query(min_length=1, max_length=400)],
    start: Annotated[datetime | None, Query(description="ISO 8601; default: 7 days before end")] = None,
    end: Annotated[datetime | None, Query(description="ISO 8601, exclusive; default: just after the newest sample")]
    = None,
    step: Annotated[int | None, Query(ge=1, le=31 * 86400, description="Bucket width in seconds")] = None,
    agg: Aggregation = "mean",
) -> MetricsRead:
    newest = store.watermark(series_id)
    if newest is None:
        raise UnknownSeriesError(series_id)
    end = _utc(end) if end else newest + timedelta(seconds=1)
    start = _utc(start) if start else end - DEFAULT_RANGE
    if start >= end:
        raise HTTPException(422, f"start ({start.isoformat()}) must be before end ({end.isoformat()})")
    span = (end - start).total_seconds()
    least = int(span // settings.max_points_per_request) + 1
    if step is None and span > MAX_RAW_SPAN.total_seconds():
        raise HTTPException(422, f"raw samples are served for at most {MAX_RAW_SPAN.days} days at once: "
                                 f"pass step={max(least, 60)} or more, or a shorter range")
    if step is not None and span / step > settings.max_points_per_request:
        raise HTTPException(
            422,
            f"this range would return up to {int(span / step):,} points (limit {settings.max_points_per_request:,}): "
            f"pass step={least} or more, or a shorter range",
        )
    values = store.read(series_id, start, end, step_seconds=step, agg=agg)
    if len(values) > settings.max_points_per_request:
        raise HTTPException(
            422,
            f"this range holds {len(values):,} samples (limit {settings.max_points_per_request:,}): "
            f"pass step={least} or more, or a shorter range",
        )
    return MetricsRead(
        series_id=series_id,
        start=start,
        end=end,
        step=step,
        agg=agg,
        points=[MetricPoint(t=t.to_pydatetime(), v=float(v)) for t, v in values.items()],
    )


@router.get("/spend", response_model=SpendRead, tags=["costs"])
def read_spend(
    session: SessionDep,
    _: CurrentPrincipal,
    by: Annotated[str, Query(max_length=100, pattern=f"^({'|'.join(COLUMNS)}|tag:.+)$",
                             description=f"{', '.join(COLUMNS)} or tag:<key>")]
    = "provider",
    days: Annotated[int, Query(ge=1, le=730, description="Days of daily totals")] = 90,
) -> SpendRead:
    try:
        split = spend_split(session, by=by, today=datetime.now(UTC).date(), days=days)
    except SpendQueryError as exc:
        raise HTTPException(422, str(exc)) from exc
    return SpendRead(
        by=by, currency=split.currency, period_start=split.start, through=split.through,
        month_to_date=split.total, parts=[SpendPart(name=n, effective=v) for n, v in split.parts],
        daily=[SpendDay(day=d, effective=v, one_off=round(o, 6)) for d, v, o in split.daily],
    )


def _budget(b: BudgetStatus) -> BudgetRead:
    month = None
    if b.forecast is not None and b.forecast_from is not None:
        bounds = {f"{side}{lvl}": value for lvl, pair in b.forecast.bounds.items()
                  for side, value in zip(("lo", "hi"), pair, strict=True)}
        month = MonthForecast(mean=b.forecast.mean, forecast_from=b.forecast_from, **bounds)
    return BudgetRead(scope=b.scope, series_id=b.series_id, budget=b.budget, month_to_date=b.month_to_date,
                      used=b.month_to_date / b.budget if b.budget > 0 else 0.0, month_end=month, status=b.status,
                      reason=b.reason)


@router.get("/spend/budgets", response_model=BudgetsRead, tags=["costs"])
def read_budgets(session: SessionDep, settings: SettingsDep, _: CurrentPrincipal) -> BudgetsRead:
    """This month's spend against each configured monthly budget (recommend.budgets: 'total' or a provider), with
    the month-end forecast and its 80% / 95% interval from the stored daily cost forecast."""
    today = datetime.now(UTC).date()
    items = [budget_status(session, scope, amount, today=today)
             for scope, amount in sorted(settings.recommend.budgets.items())]
    anchor, newest = spend_anchor(session, today)
    start = anchor.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    reason = "" if items else ("no budget configured: set recommend.budgets in config/recommend.yml (e.g. "
                               "budgets: {total: 5000, aws: 3000}) or HEADROOM_RECOMMEND__BUDGETS__TOTAL=5000")
    return BudgetsRead(currency=billing_currency(session), period_start=start, period_end=end,
                       through=newest and anchor, items=[_budget(b) for b in items], reason=reason)


@router.get("/spend/commitment-coverage", response_model=CommitmentCoverageRead, tags=["costs"])
def read_commitment_coverage(
    session: SessionDep,
    _: CurrentPrincipal,
    days: Annotated[int, Query(ge=1, le=730, description="Charge days to cover, ending at the newest")] = 90,
    period: Annotated[Literal["day", "week"], Query(description="One point per day or per ISO week")] = "week",
) -> CommitmentCoverageRead:
    """Share of eligible usage (list cost) billed below list price per day or week, or why the records cannot tell."""
    coverage = commitment_coverage(session, today=datetime.now(UTC).date(), days=days, period=period)
    return CommitmentCoverageRead(
        available=coverage.available, reason=coverage.reason, basis=COVERAGE_BASIS, period=period,
        currency=billing_currency(session),
        items=[CoveragePointRead(start=p.start, eligible_list=p.eligible_list, covered_list=p.covered_list,
                                 effective=p.effective, coverage=p.coverage if coverage.available else None)
               for p in coverage.points],
    )
