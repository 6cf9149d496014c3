"""Saved what-if scenarios: create, list, delete, and compare one with the baseline over the current fleet."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from collector.catalog import Catalog
from services.costs.run_rate import monthly_run_rate
from services.db.models import ScenarioRow
from services.metrics import MetricStore
from services.recommend.base import HOURS_PER_MONTH
from services.recommend.fleet_usage import MACHINE_KINDS
from services.recommend.inputs import load_fleet, read_usage
from services.recommend.scenarios import (
    BaselineItem,
    Comparison,
    Growth,
    Launch,
    Migration,
    Scenario,
    ScenarioSettings,
    run_scenario,
)

UTILISATION_DAYS = 14  # the baseline's utilisation is the CPU p95 of the last two weeks


class ScenarioError(ValueError):
    """A scenario that cannot be saved or projected; the message says what to change."""


class ScenarioNotFound(LookupError):
    """No scenario with that id."""


def create_scenario(
    session: Session, *, name: str, description: str, spec: dict[str, Any], actor: str, now: datetime
) -> ScenarioRow:
    if session.scalar(select(ScenarioRow.id).where(ScenarioRow.name == name)) is not None:
        raise ScenarioError(f"a scenario named {name!r} exists: choose another name or delete it first")
    row = ScenarioRow(name=name, description=description, spec=spec, created_by=actor, created_at=now)
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise ScenarioError(f"a scenario named {name!r} exists: choose another name or delete it first") from None
    return row


def list_scenarios(session: Session) -> list[ScenarioRow]:
    return list(session.scalars(select(ScenarioRow).order_by(ScenarioRow.id)))


def get_scenario(session: Session, scenario_id: int) -> ScenarioRow:
    row = session.get(ScenarioRow, scenario_id)
    if row is None:
        raise ScenarioNotFound(f"no scenario with id {scenario_id}: list them with GET /api/scenarios")
    return row


def delete_scenario(session: Session, scenario_id: int) -> None:
    session.delete(get_scenario(session, scenario_id))
    session.flush()


@dataclass(frozen=True)
class Baseline:
    items: list[BaselineItem]
    skipped: list[str]


def baseline_items(
    session: Session, store: MetricStore, catalog: Catalog, *, spec: dict[str, Any], now: datetime
) -> Baseline:
    """Machines matching the spec's provider/environment/account filters, at their CPU p95 of the last 14 days,
    priced at their billed run rate (services.costs.run_rate) where billing has them, else at the catalog price."""
    items, skipped = [], []
    run_rate = monthly_run_rate(session, today=now.date())
    for f in load_fleet(session):
        r = f.resource
        if r.kind not in MACHINE_KINDS or any(
            spec.get(k) and getattr(r, k) != spec[k] for k in ("provider", "environment", "account")
        ):
            continue
        cpu = read_usage(
            store,
            r.resource_id,
            "cpu_utilization",
            start=now - timedelta(days=UTILISATION_DAYS),
            end=now,
            step=3600,
            agg="p95",
        )
        if cpu is None:
            skipped.append(f"{f.key}: no CPU usage in the last {UTILISATION_DAYS} days")
            continue
        billed = run_rate.per_resource.get(r.resource_id) if run_rate else None
        if billed is not None:  # priced as billed, so the baseline is the executive view's run rate
            r = replace(r, hourly_price=billed / HOURS_PER_MONTH)
        try:
            items.append(BaselineItem.from_resource(r, utilisation=float(np.percentile(cpu, 95)), catalog=catalog))
        except ValueError as exc:
            skipped.append(str(exc))
    return Baseline(items, skipped)


def scenario_of(name: str, spec: dict[str, Any]) -> Scenario:
    growth = spec.get("growth")
    return Scenario(
        name=name,
        growth=Growth(float(growth["percent_per_month"])) if growth else None,
        launches=tuple(
            Launch(
                on=_day(x["on"]),
                added_percent=float(x["added_percent"]),
                resource_ids=tuple(x.get("resource_ids") or ()),
            )
            for x in spec.get("launches", [])
        ),
        migrations=tuple(
            Migration(
                on=_day(x["on"]),
                to_family=x["to_family"],
                from_family=x.get("from_family"),
                performance_factor=float(x.get("performance_factor", 1.0)),
                resource_ids=tuple(x.get("resource_ids") or ()),
            )
            for x in spec.get("migrations", [])
        ),
    )


def compare_scenario(
    session: Session, store: MetricStore, catalog: Catalog, *, row: ScenarioRow, now: datetime
) -> tuple[Comparison, Baseline, date]:
    """Project the saved scenario and the baseline (nothing changes) month by month from this month."""
    spec = row.spec
    base = baseline_items(session, store, catalog, spec=spec, now=now)
    if not base.items:
        raise ScenarioError(
            "no machine with CPU usage, size and price matches the scenario's filters: "
            "collect data or widen provider/environment/account"
        )
    start = date(now.year, now.month, 1)
    settings = ScenarioSettings(
        months=spec.get("months", 12),
        scale=spec.get("scale", "scale_out"),
        target_utilisation_percent=spec.get("target_utilisation_percent", 80.0),
    )
    try:
        comparison = run_scenario(
            items=base.items, scenario=scenario_of(row.name, spec), start=start, catalog=catalog, settings=settings
        )
    except ValueError as exc:
        raise ScenarioError(str(exc)) from None
    return comparison, base, start


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def comparison_view(comparison: Comparison, base: Baseline, start: date) -> dict[str, Any]:
    """A scenario against its baseline as plain data: totals and one record per month."""
    months = [
        {
            "month": d.month,
            "baseline_cost": round(d.baseline_cost, 2),
            "scenario_cost": round(d.scenario_cost, 2),
            "cost_delta": round(d.cost_delta, 2),
            "baseline_capacity_vcpus": b.capacity_vcpus,
            "scenario_capacity_vcpus": x.capacity_vcpus,
            "baseline_demand_vcpus": round(b.demand_vcpus, 3),
            "scenario_demand_vcpus": round(x.demand_vcpus, 3),
            "baseline_utilisation": round(d.baseline_utilisation, 2),
            "scenario_utilisation": round(d.scenario_utilisation, 2),
            "baseline_instances": d.baseline_instances,
            "scenario_instances": d.scenario_instances,
            "over_target": list(x.over_target),
        }
        for d, b, x in zip(comparison.months, comparison.baseline.months, comparison.scenario.months, strict=True)
    ]
    return {
        "start": start,
        "resources": len(base.items),
        "skipped": base.skipped,
        # the fleet as it runs today, before any scale-out the projection adds: the executive view's run rate
        "fleet_monthly_cost": round(sum(i.hourly_price * i.count for i in base.items) * HOURS_PER_MONTH, 2),
        "baseline_total_cost": round(comparison.baseline.total_cost, 2),
        "scenario_total_cost": round(comparison.scenario.total_cost, 2),
        "total_cost_delta": round(comparison.total_cost_delta, 2),
        "months": months,
    }
