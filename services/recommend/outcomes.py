"""What recommendations achieved: realised savings measured from later data, and the executive summary."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from collector.catalog import Catalog
from services.costs.cost_series import (
    COST_PROVIDER,
    cost_by_day,
    next_calendar_quarter,
    period_total,
    recurring_credits,
)
from services.costs.run_rate import monthly_run_rate
from services.db.models import CostRow, RecommendationRow, ResourceRow
from services.recommend.base import HOURS_PER_MONTH
from services.recommend.inputs import billed_days, stored_forecast
from services.recommend.store import get_recommendation, transition

DAYS_PER_MONTH = HOURS_PER_MONTH / 24.0
BEFORE_DAYS = 30  # billing days before the implementation compared with the days after
COUNTED = ("open", "accepted", "implemented")  # identified savings; verified ones count as realised instead
COST_SERIES = "cost:total"
COST_STAT = "daily_cost"


class VerificationError(ValueError):
    """Realised savings cannot be measured yet; the message says what data is missing."""


def verify(
    session: Session, rec_id: int, *, actor: str, now: datetime, min_days: int, catalog: Catalog | None = None
) -> RecommendationRow:
    """Measure realised savings of an implemented recommendation and mark it verified.

    From billing first: the mean daily cost (effective, and list) of its resources in the `min_days`+ billed days
    after implementation against the 30 days before, times 730/24. Without enough billing data, from the
    inventory: the resource now runs the proposed instance type (or container requests), priced from the catalog.
    """
    row = get_recommendation(session, rec_id)
    if row.status != "implemented":
        transition(session, rec_id, "verified", actor=actor, now=now)  # raises the lifecycle's message
    assert row.implemented_at is not None
    detail = _from_billing(session, row, now=now, min_days=min_days) or _from_inventory(session, row, catalog)
    if detail is None:
        raise VerificationError(
            f"cannot measure realised savings of recommendation {rec_id} yet: billing needs {min_days}+ days of cost "
            f"records after {row.implemented_at.date()} for {row.resource_key}, and the inventory does not show the "
            "proposed change; collect more data and verify again"
        )
    row.realised_savings_monthly = round(float(detail["monthly_savings_effective"]), 2)
    row.realised_detail = detail
    transition(
        session,
        rec_id,
        "verified",
        actor=actor,
        now=now,
        note=f"realised {row.realised_savings_monthly:.2f} USD/month ({detail['method']})",
    )
    return row


def _scope(row: RecommendationRow) -> tuple[str | None, list[str] | None]:
    """(provider, resource ids) whose cost lines measure this recommendation."""
    key = row.resource_key
    if key.startswith("commitment:"):
        return key.split(":", 1)[1], None
    if ":" in key and not key.startswith("group:"):
        provider, rid = key.split(":", 1)
        return provider, [rid]
    return None, None


def _from_billing(session: Session, row: RecommendationRow, *, now: datetime, min_days: int) -> dict[str, Any] | None:
    provider, ids = _scope(row)
    if provider is None or row.implemented_at is None:
        return None
    start = row.implemented_at.date() + timedelta(days=1)  # the day of the change is mixed
    end = now.date()
    covered = billed_days(session, start=start, end=end, provider=provider)
    if covered < min_days:
        return None
    before = cost_by_day(
        session,
        columns=("effective", "list"),
        start=row.implemented_at.date() - timedelta(days=BEFORE_DAYS),
        end=row.implemented_at.date(),
        resource_ids=ids,
        provider=provider,
    )
    after = cost_by_day(session, columns=("effective", "list"), start=start, end=end, resource_ids=ids,
                        provider=provider)
    if before.empty:
        return None
    before_days = len(before)
    out: dict[str, Any] = {"method": "billing", "days_before": before_days, "days_after": covered}
    for column in ("effective", "list"):
        # days without a line of the resource after the change (stopped, deleted) cost nothing
        mean_before = float(before[column].sum()) / before_days
        mean_after = float(after[column].sum()) / covered
        if row.kind == "commitment":  # what is measured is the discount gained: list minus effective
            mean_before = float((before["list"] - before["effective"]).sum()) / before_days
            mean_after = float((after["list"] - after["effective"]).sum()) / covered
            saving = (mean_after - mean_before) * DAYS_PER_MONTH
        else:
            saving = (mean_before - mean_after) * DAYS_PER_MONTH
        out[f"daily_{column}_before"] = round(mean_before, 4)
        out[f"daily_{column}_after"] = round(mean_after, 4)
        out[f"monthly_savings_{column}"] = round(saving, 2)
    return out


def _from_inventory(session: Session, row: RecommendationRow, catalog: Catalog | None) -> dict[str, Any] | None:
    if row.resource_pk is None:
        return None
    resource = session.get(ResourceRow, row.resource_pk)
    if resource is None:
        return None
    if row.kind == "rightsize" and resource.instance_type == row.proposed.get("instance_type"):
        entry = (catalog or Catalog.load()).find(resource.provider, resource.instance_type, resource.region)
        new = resource.hourly_price if resource.hourly_price is not None else (entry.hourly_price if entry else None)
        old = row.current.get("hourly")
        if new is None or not isinstance(old, int | float):
            return None
        saving = (float(old) - float(new)) * HOURS_PER_MONTH
        ratio = row.monthly_savings_effective / row.monthly_savings_list if row.monthly_savings_list else 1.0
        return {
            "method": "inventory",
            "instance_type": resource.instance_type,
            "hourly_before": old,
            "hourly_after": new,
            "monthly_savings_list": round(saving, 2),
            "monthly_savings_effective": round(saving * ratio, 2),
        }
    if row.kind == "container_rightsize":
        cpu, mem = row.proposed.get("cpu_request"), row.proposed.get("memory_request")
        if (
            resource.vcpus is not None
            and resource.memory_gib is not None
            and _close(resource.vcpus, cpu)
            and _close(resource.memory_gib, mem)
        ):
            return {
                "method": "inventory",
                "cpu_request": resource.vcpus,
                "memory_request": resource.memory_gib,
                "monthly_savings_list": row.monthly_savings_list,
                "monthly_savings_effective": row.monthly_savings_effective,
            }
    return None


def _close(a: float, b: object) -> bool:
    return isinstance(b, int | float) and abs(a - float(b)) <= 0.01 * max(abs(float(b)), 1e-9)


def summary(session: Session, *, now: datetime | None = None) -> dict[str, Any]:
    """Identified (open, accepted, implemented) vs realised (verified) savings by kind, with no spend counted
    twice; next quarter's forecast spend from the stored cost forecast; spend month to date from billing."""
    when = now or datetime.now(UTC)
    rows = list(session.scalars(select(RecommendationRow).where(RecommendationRow.kind != "runway")))
    counted, duplicates = _one_per_resource([r for r in rows if r.status in COUNTED])
    kinds: dict[str, dict[str, Any]] = {}
    for r in counted:
        k = kinds.setdefault(r.kind, _empty(r.kind))
        k["count"] += 1
        k["identified_monthly_list"] += r.monthly_savings_list
        k["identified_monthly_effective"] += r.monthly_savings_effective
    for r in rows:
        if r.status == "verified":
            k = kinds.setdefault(r.kind, _empty(r.kind))
            k["verified"] += 1
            k["realised_monthly"] += r.realised_savings_monthly or 0.0
    by_kind = [
        {key: round(v, 2) if isinstance(v, float) else v for key, v in k.items()} for _, k in sorted(kinds.items())
    ]
    statuses = session.execute(select(RecommendationRow.status, func.count()).group_by(RecommendationRow.status)).all()
    last = session.scalar(select(func.max(RecommendationRow.last_seen_at)))
    return {
        "as_of": when.isoformat(),
        "last_refresh": last.isoformat() if last else None,
        "identified_monthly_savings_list": round(sum(k["identified_monthly_list"] for k in kinds.values()), 2),
        "identified_monthly_savings_effective": round(
            sum(k["identified_monthly_effective"] for k in kinds.values()), 2
        ),
        "realised_monthly_savings": round(sum(k["realised_monthly"] for k in kinds.values()), 2),
        "by_kind": by_kind,
        "status_counts": {s: int(n) for s, n in statuses},
        "not_counted_twice": duplicates,
        "forecast_next_quarter": forecast_spend(session, now=when),
        "forecast_next_quarter_by_provider": [
            {"provider": p, **forecast_spend(session, now=when, series_id=f"cost:provider:{p}")}
            for p in session.scalars(select(CostRow.provider).distinct().order_by(CostRow.provider))
        ],
        "spend_month_to_date": month_to_date(session, now=when),
        "monthly_run_rate": run_rate_view(session, now=when),
    }


def run_rate_view(session: Session, *, now: datetime) -> dict[str, Any] | None:
    """The fleet's monthly run rate (services.costs.run_rate), the baseline cost the scenarios start from."""
    rate = monthly_run_rate(session, today=now.date())
    if rate is None:
        return None
    return {"monthly": round(rate.total, 2), "start": rate.start, "end": rate.end, "resources": len(rate.per_resource)}


def _empty(kind: str) -> dict[str, Any]:
    return {
        "kind": kind,
        "count": 0,
        "identified_monthly_list": 0.0,
        "identified_monthly_effective": 0.0,
        "verified": 0,
        "realised_monthly": 0.0,
    }


def _one_per_resource(rows: list[RecommendationRow]) -> tuple[list[RecommendationRow], int]:
    """At most one saving per resource (and per commitment scope): the furthest along, then the largest.
    Recommendations that save nothing (an under-provisioned machine) are all kept."""
    order = {"implemented": 0, "accepted": 1, "open": 2}
    savers = [r for r in rows if r.monthly_savings_list > 0 or r.monthly_savings_effective > 0]
    best: dict[str, RecommendationRow] = {}
    for r in sorted(savers, key=lambda r: (order[r.status], -r.monthly_savings_effective, r.id)):
        best.setdefault(r.resource_key, r)
    others = [r for r in rows if r not in savers]
    return sorted([*best.values(), *others], key=lambda r: r.id), len(savers) - len(best)


def forecast_spend(session: Session, *, now: datetime, series_id: str = COST_SERIES) -> dict[str, Any]:
    """Forecast spend of the next calendar quarter from the stored daily cost forecast, with the credits that recur
    every month (services.costs.cost_series.recurring_credits), or why it is missing. period_end is exclusive."""
    forecast = stored_forecast(session, series_id, COST_STAT)
    if forecast is None:
        return {
            "available": False,
            "reason": f"not available yet: no stored forecast of {series_id!r} "
            "(the daily training writes it once 28+ days of cost records exist)",
        }
    start, end = next_calendar_quarter(now.date())
    length = (end - start).days
    index = forecast.mean.index
    inside = (index.date >= start) & (index.date < end)
    days = int(inside.sum())
    if days == 0:
        return {
            "available": False,
            "reason": f"not available yet: the stored cost forecast (as of "
            f"{forecast.params.get('as_of')}) has no days between {start} and {end}",
        }
    provider = series_id.removeprefix(COST_PROVIDER) if series_id.startswith(COST_PROVIDER) else None
    credits = recurring_credits(session, start=start, end=end, today=now.date(), provider=provider)
    total = period_total(forecast.mean, forecast.lower, forecast.upper, start=start, end=end)
    out: dict[str, Any] = {
        "available": True,
        "series_id": series_id,
        "model": forecast.model,
        "as_of": forecast.params.get("as_of"),
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "days_covered": days,
        "credits": round(credits, 2),
        "mean": round(total.mean + credits, 2),
        "reason": "" if days >= length else f"the forecast covers {days} of the {length} days; the total is over those",
    }
    for level, (lo, hi) in total.bounds.items():  # the interval of the sum, not the sum of daily bounds
        out[f"lo{level}"] = round(lo + credits, 2)
        out[f"hi{level}"] = round(hi + credits, 2)
    return out


def month_to_date(session: Session, *, now: datetime) -> dict[str, Any]:
    """Billed and effective spend from the first of this month (UTC) to now, in total and by provider."""
    first = date(now.year, now.month, 1)
    query = (
        select(CostRow.provider, func.sum(CostRow.billed_cost), func.sum(CostRow.effective_cost))
        .where(CostRow.charge_period_start >= first, CostRow.charge_period_start <= now.date())
        .group_by(CostRow.provider)
        .order_by(CostRow.provider)
    )
    totals = [(str(p), _money(b), _money(e)) for p, b, e in session.execute(query)]
    providers = [{"provider": p, "billed": b, "effective": e} for p, b, e in totals]
    return {
        "period_start": first.isoformat(),
        "through": now.date().isoformat(),
        "billed": round(sum(t[1] for t in totals), 2),
        "effective": round(sum(t[2] for t in totals), 2),
        "by_provider": providers,
    }


def _money(value: Decimal | None) -> float:
    return round(float(value or 0), 2)
