"""Spend from cost_records for the executive view: month to date split by a dimension, daily totals, spend
against the configured monthly budgets with the month-end forecast, and commitment coverage over time."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from services.costs.cost_series import (
    COST_PROVIDER,
    COST_STAT,
    COST_TOTAL,
    ONE_OFF_CATEGORIES,
    PeriodTotal,
    cost_by_day,
    period_total,
)
from services.db.models import CostRow
from services.forecasting.training import latest_forecast

UNTAGGED_PART = "(untagged)"
CREDITS_PART = "(credits and adjustments)"
COLUMNS = {"provider": CostRow.provider, "service": CostRow.service_name, "account": CostRow.sub_account_id,
           "region": CostRow.region_id}


class SpendQueryError(ValueError):
    """The spend query names an unknown dimension; the message lists the known ones."""


@dataclass(frozen=True)
class SpendSplit:
    start: date
    through: date | None
    currency: str
    total: float
    parts: list[tuple[str, float]]
    daily: list[tuple[date, float, float]]  # (charge day, effective cost, of which credits and adjustments)


def spend_split(session: Session, *, by: str, today: date, days: int = 90) -> SpendSplit:
    """Effective cost of the month to date split by provider, service, account, region or tag:<key>, and the
    daily total (with its credits and adjustments apart) over the last `days` days (the newest charge day anchors
    "today" when the data is older)."""
    anchor, newest = spend_anchor(session, today)
    start = anchor.replace(day=1)
    month = select(CostRow).where(CostRow.charge_period_start >= start, CostRow.charge_period_start <= anchor)
    sums: dict[str, float] = defaultdict(float)
    if by.startswith("tag:"):
        key = by.removeprefix("tag:")
        rows = month.with_only_columns(CostRow.tags, CostRow.charge_category, CostRow.effective_cost)
        for tags, category, cost in session.execute(rows):
            # a credit or adjustment line rarely carries the resource's tags: shown apart, not netted into
            # "(untagged)", which would then go negative in a month with a large credit
            untagged = CREDITS_PART if category in ONE_OFF_CATEGORIES else UNTAGGED_PART
            sums[(tags or {}).get(key) or untagged] += float(cost)
    elif by in COLUMNS:
        column = COLUMNS[by]
        grouped = month.with_only_columns(column, func.sum(CostRow.effective_cost)).group_by(column)
        for name, cost in session.execute(grouped):
            sums[name or "(none)"] += float(cost or 0)
    else:
        raise SpendQueryError(f"cannot split spend by {by!r}: use {', '.join(COLUMNS)} or tag:<key> (e.g. tag:team)")
    first, end = anchor - timedelta(days=days - 1), anchor + timedelta(days=1)
    daily = cost_by_day(session, start=first, end=end)["effective"]
    recurring = cost_by_day(session, start=first, end=end, recurring_only=True)["effective"]
    recurring = recurring.reindex(daily.index, fill_value=0.0)
    parts = sorted(sums.items(), key=lambda kv: -kv[1])
    return SpendSplit(
        start=start,
        through=newest and anchor,
        currency=billing_currency(session),
        total=sum(v for _, v in parts),
        parts=parts,
        daily=[(day, total, total - recurring[day]) for day, total in daily.items()],
    )


def spend_anchor(session: Session, today: date) -> tuple[date, date | None]:
    """The day month-to-date figures run to (the newest charge day when the data is older than today) and it."""
    newest = session.scalar(select(func.max(CostRow.charge_period_start)))
    return (min(today, newest) if newest else today), newest


def billing_currency(session: Session) -> str:
    """The cost records' billing currency (USD when they mix currencies or there are none)."""
    currencies = list(session.scalars(select(CostRow.billing_currency).distinct().limit(2)))
    return currencies[0] if len(currencies) == 1 else "USD"


# --- spend against budget ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetStatus:
    scope: str  # "total" or a provider
    series_id: str
    budget: float
    month_to_date: float
    forecast: PeriodTotal | None  # the month's total: actual days before `forecast_from`, the forecast after
    forecast_from: date | None
    reason: str  # why there is no month-end forecast ("" when there is one)

    @property
    def status(self) -> str:
        """over (spent or forecast above budget), at_risk (80% upper bound above it), under, or unknown."""
        if self.month_to_date > self.budget or (self.forecast and self.forecast.mean > self.budget):
            return "over"
        if self.forecast is None:
            return "unknown"
        return "at_risk" if self.forecast.bounds.get(80, (0.0, 0.0))[1] > self.budget else "under"


def _spent(session: Session, provider: str | None, start: date, end: date) -> float:
    """Effective cost (credits included: what the month is billed) of charge days in [start, end)."""
    query = select(func.sum(CostRow.effective_cost)).where(
        CostRow.charge_period_start >= start, CostRow.charge_period_start < end
    )
    if provider is not None:
        query = query.where(CostRow.provider == provider)
    return float(session.scalar(query) or 0)


def budget_status(session: Session, scope: str, budget: float, *, today: date) -> BudgetStatus:
    """This month's spend against a monthly budget ('total' or a provider) and the month-end forecast: spend of
    the days before the stored daily cost forecast starts, plus the forecast total of the month's remaining days
    (its interval from services.costs.cost_series.period_total)."""
    anchor, _ = spend_anchor(session, today)
    first = anchor.replace(day=1)
    month_end = (first + timedelta(days=32)).replace(day=1)
    provider = None if scope == "total" else scope
    series_id = COST_TOTAL if provider is None else f"{COST_PROVIDER}{provider}"
    mtd = _spent(session, provider, first, anchor + timedelta(days=1))
    row = latest_forecast(session, series_id, COST_STAT)
    points = [p for p in row.points] if row is not None else []
    if not points:
        return BudgetStatus(scope, series_id, budget, mtd, None, None,
                            f"no stored forecast of {series_id} yet (the daily training writes it once "
                            "28+ days of cost records exist)")
    index = pd.DatetimeIndex([pd.Timestamp(p.ts).tz_localize(None) for p in points])
    cut = max(first, anchor, index[0].date())  # the newest charge day is still filling: the forecast covers it
    if cut >= month_end or index[-1].date() < month_end - timedelta(days=1):
        return BudgetStatus(scope, series_id, budget, mtd, None, None,
                            f"the stored forecast of {series_id} (as of {row.as_of if row else '?'}) does not cover "
                            f"the month's remaining days to {month_end - timedelta(days=1)}")

    def band(attr: str) -> pd.Series:
        return pd.Series([getattr(p, attr) if getattr(p, attr) is not None else p.mean for p in points], index=index)

    rest = period_total(band("mean"), {80: band("lo80"), 95: band("lo95")}, {80: band("hi80"), 95: band("hi95")},
                        start=cut, end=month_end)
    actual = _spent(session, provider, first, cut)
    month = PeriodTotal(days=(month_end - first).days, mean=actual + rest.mean,
                        bounds={lvl: (actual + lo, actual + hi) for lvl, (lo, hi) in rest.bounds.items()})
    return BudgetStatus(scope, series_id, budget, mtd, month, cut, "")


# --- commitment coverage ------------------------------------------------------------------------------------

DISCOUNT_TOLERANCE = 0.005  # a usage line billed more than 0.5% below its list cost counts as covered
COVERAGE_BASIS = (
    "Share of the list (on-demand equivalent) cost of resource usage lines (charge category Usage, with a resource "
    "id and a list cost) billed below list price, i.e. covered by a commitment (reservation, savings plan, committed "
    "use discount) or another discount. The stored cost records keep FOCUS ListCost and EffectiveCost but not "
    "PricingCategory or CommitmentDiscountId, so commitment discounts cannot be told from negotiated or spot ones."
)


@dataclass(frozen=True)
class CoveragePoint:
    start: date
    eligible_list: float
    covered_list: float
    effective: float

    @property
    def coverage(self) -> float | None:
        return self.covered_list / self.eligible_list if self.eligible_list > 0 else None


@dataclass(frozen=True)
class Coverage:
    available: bool
    reason: str
    points: list[CoveragePoint]


def commitment_coverage(session: Session, *, today: date, days: int = 90, period: str = "week") -> Coverage:
    """Per day or ISO week (Monday) of the last `days` charge days: eligible list cost, the part billed below list
    (covered) and the effective cost; not available, with the reason, when the records cannot tell."""
    if period not in ("day", "week"):
        raise SpendQueryError(f"unknown period {period!r}: use day or week")
    anchor, _ = spend_anchor(session, today)
    listed = CostRow.list_cost
    covered = case((CostRow.effective_cost < listed * (1 - DISCOUNT_TOLERANCE), listed), else_=0)
    query = (
        select(CostRow.charge_period_start, func.sum(listed), func.sum(covered), func.sum(CostRow.effective_cost))
        .where(CostRow.charge_period_start > anchor - timedelta(days=days), CostRow.charge_period_start <= anchor,
               CostRow.charge_category == "Usage", CostRow.resource_id != "", listed > 0)
        .group_by(CostRow.charge_period_start)
    )
    buckets: dict[date, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
    for day, eligible, cov, effective in session.execute(query):
        key = day - timedelta(days=day.weekday()) if period == "week" else day
        for i, value in enumerate((eligible, cov, effective)):
            buckets[key][i] += float(value or 0)
    points = [CoveragePoint(k, *v) for k, v in sorted(buckets.items())]
    if not points:
        return Coverage(False, f"no usage line with a resource id and a list cost in the {days} days to {anchor}: "
                        "collect a billing export that carries list prices (AWS CUR, Azure or GCP exports, FOCUS)",
                        [])
    if not any(p.covered_list > 0 for p in points):
        return Coverage(False, "no usage line is billed below its list price, so covered usage cannot be told from "
                        "on-demand: either nothing is committed, or the billing source reports list = billed cost "
                        "(AWS Cost Explorer and Azure cost queries do; the CUR, Azure and GCP exports and FOCUS carry "
                        "list prices)", points)
    return Coverage(True, "", points)
