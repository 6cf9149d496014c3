"""Cost per charge day from cost_records (the one query every daily cost view uses); the daily cost series the
forecasts use (the fleet total and one per provider); the total of a daily cost forecast over a period (a month's
rest, a calendar quarter) with its interval, and the recurring credits that forecast leaves out."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.db.models import CostRow

COST_PREFIX = "cost:"
COST_TOTAL = "cost:total"
COST_PROVIDER = "cost:provider:"
COST_STAT = "daily_cost"
DAY_SECONDS = 86400
# One-off lines (monthly credits, refunds, rounding and billing adjustments) are left out of the daily series the
# forecasts learn from: a -$400 credit on the 1st would read as a weekly pattern and widen every interval.
ONE_OFF_CATEGORIES = ("Credit", "Adjustment")
COST_COLUMNS = {"billed": CostRow.billed_cost, "effective": CostRow.effective_cost, "list": CostRow.list_cost}


def cost_by_day(
    session: Session,
    *,
    start: date,
    end: date,
    columns: Sequence[str] = ("effective",),
    provider: str | None = None,
    resource_ids: Sequence[str] | None = None,
    recurring_only: bool = False,
) -> pd.DataFrame:
    """Sums of the cost columns (billed, effective, list) per charge day (charge_period_start) in [start, end), of
    the provider and resources when given, without credits and adjustments when recurring_only. Indexed by day
    (datetime.date), ascending; only days with records appear."""
    unknown = [c for c in columns if c not in COST_COLUMNS]
    if unknown:
        raise ValueError(f"unknown cost column(s) {', '.join(unknown)}: use {', '.join(COST_COLUMNS)}")
    query = select(CostRow.charge_period_start, *(func.sum(COST_COLUMNS[c]) for c in columns)).where(
        CostRow.charge_period_start >= start, CostRow.charge_period_start < end
    )
    if provider is not None:
        query = query.where(CostRow.provider == provider)
    if resource_ids is not None:
        query = query.where(CostRow.resource_id.in_(list(resource_ids)))
    if recurring_only:
        query = query.where(CostRow.charge_category.not_in(ONE_OFF_CATEGORIES))
    rows = session.execute(query.group_by(CostRow.charge_period_start).order_by(CostRow.charge_period_start)).all()
    frame = pd.DataFrame([(day, *(float(v or 0) for v in sums)) for day, *sums in rows], columns=["day", *columns])
    return frame.set_index("day")


def is_cost_series(series_id: str) -> bool:
    return series_id.startswith(COST_PREFIX)


def cost_series_ids(session: Session) -> list[str]:
    """cost:total and cost:provider:<name> for every provider with cost records; nothing when there are none."""
    providers = sorted(session.scalars(select(CostRow.provider).distinct()))
    return [COST_TOTAL, *(f"{COST_PROVIDER}{p}" for p in providers)] if providers else []


def daily_costs(session: Session, series_id: str, *, start: date, end: date, settled: bool = True) -> pd.Series:
    """Sum of effective_cost per charge day (charge_period_start) in [start, end], on a complete daily UTC index
    from the first to the last day with records (days without records in between are 0). Credits and adjustments
    (ONE_OFF_CATEGORIES) are not counted: the series is the recurring spend the forecasts learn from.

    settled leaves out the series' newest charge day: billing exports fill the current day over the next one or
    two, so its sum is still partial (and would look like a drop)."""
    provider: str | None = None
    if series_id.startswith(COST_PROVIDER):
        provider = series_id.removeprefix(COST_PROVIDER)
    elif series_id != COST_TOTAL:
        raise ValueError(f"unknown cost series {series_id!r}: use {COST_TOTAL} or {COST_PROVIDER}<provider>")
    if settled:
        query = select(func.max(CostRow.charge_period_start)).where(CostRow.charge_category.not_in(ONE_OFF_CATEGORIES))
        newest = session.scalar(query if provider is None else query.where(CostRow.provider == provider))
        if newest is not None:
            end = min(end, newest - timedelta(days=1))
    days = cost_by_day(session, start=start, end=end + timedelta(days=1), provider=provider, recurring_only=True)
    if days.empty:
        return pd.Series(dtype="float64", index=pd.DatetimeIndex([], tz="UTC"))
    values = pd.Series(days["effective"].to_numpy(), index=pd.DatetimeIndex(pd.to_datetime(days.index), tz="UTC"))
    full = pd.date_range(values.index[0], values.index[-1], freq="D", tz="UTC")
    return values.reindex(full, fill_value=0.0).astype("float64")


@dataclass(frozen=True)
class PeriodTotal:
    """The forecast total of the days in [start, end): mean and, per level, (lower, upper) bounds."""

    days: int
    mean: float
    bounds: dict[int, tuple[float, float]]


def period_total(mean: pd.Series, lower: dict[int, pd.Series], upper: dict[int, pd.Series], *, start: date,
                 end: date) -> PeriodTotal:
    """Total of a daily forecast over [start, end) with its interval per level.

    The interval of a sum is not the sum of the daily bounds: that assumes every day misses by its full bound in
    the same direction, and grows with the number of days instead of its square root. Taking the daily errors as
    independent, each side's half-width adds in quadrature (sqrt of the sum of squared daily half-widths), which
    keeps an asymmetric band asymmetric. A lower bound never goes below zero when no daily lower bound does."""
    inside = (mean.index.date >= start) & (mean.index.date < end)
    days_mean = mean[inside]
    total = float(days_mean.sum())
    bounds: dict[int, tuple[float, float]] = {}
    for level in sorted(set(lower) & set(upper)):
        lo, hi = lower[level][inside], upper[level][inside]
        below = math.sqrt(float(((days_mean - lo).clip(lower=0.0) ** 2).sum()))
        above = math.sqrt(float(((hi - days_mean).clip(lower=0.0) ** 2).sum()))
        low = total - below
        if len(lo) and float(lo.min()) >= 0.0:
            low = max(low, 0.0)
        bounds[level] = (low, total + above)
    return PeriodTotal(days=int(inside.sum()), mean=total, bounds=bounds)


def add_months(first: date, months: int) -> date:
    """The 1st of the month `months` after the month of `first`."""
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def next_calendar_quarter(today: date) -> tuple[date, date]:
    """[first day, first day after) of the calendar quarter after the one `today` is in (Jan-Mar, Apr-Jun, ...)."""
    this_quarter = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    start = add_months(this_quarter, 3)
    return start, add_months(start, 3)


RECUR_MONTHS = 2  # credits count as recurring when each of the last this many complete months had some


def recurring_credits(session: Session, *, start: date, end: date, today: date, provider: str | None = None) -> float:
    """The credits and adjustments expected in [start, end): when each of the RECUR_MONTHS complete months before
    `today`'s month had such lines, their mean monthly total times the months whose 1st lies in [start, end);
    else 0. The daily forecasts leave these one-off lines out (ONE_OFF_CATEGORIES), so a period's total adds them
    back here. Negative for credits."""
    this_month = today.replace(day=1)
    totals = []
    for back in range(RECUR_MONTHS, 0, -1):
        month = add_months(this_month, -back)
        query = select(func.sum(CostRow.effective_cost)).where(
            CostRow.charge_period_start >= month,
            CostRow.charge_period_start < add_months(month, 1),
            CostRow.charge_category.in_(ONE_OFF_CATEGORIES),
        )
        if provider is not None:
            query = query.where(CostRow.provider == provider)
        totals.append(float(session.scalar(query) or 0.0))
    if not all(totals):
        return 0.0
    firsts = sum(1 for n in range(0, 13) if start <= add_months(start.replace(day=1), n) < end)
    return sum(totals) / len(totals) * firsts
