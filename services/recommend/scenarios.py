"""What-if scenarios: growth, launches and migrations projected month by month into capacity and cost.

Load is counted in busy vCPUs (utilisation x vCPUs x instances). Month m after the start carries
`(1 + g)^m` of the baseline load; a launch adds a step of `added_percent` of the baseline load from the month
holding its date, growing at g from then on; a migration reprices the items it moves from the month holding its
date, onto the smallest catalog type of the target family with at least as many vCPUs (cheapest on ties), with
load divided by its performance factor. With `scale="scale_out"`, instances are added whenever utilisation would
exceed the target; with `scale="fixed"`, utilisation just rises. Costs use 730 hours a month.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from collector.catalog import Catalog, CatalogEntry
from collector.records import Resource
from services.recommend.base import HOURS_PER_MONTH


class ScenarioSettings(BaseModel):
    """Horizon and capacity policy of a projection."""

    months: int = Field(12, ge=1, le=60, description="Months projected, the start month included.")
    target_utilisation_percent: float = Field(
        80.0, gt=0.0, le=100.0, description="Utilisation a scaled-out fleet is kept under."
    )
    scale: Literal["scale_out", "fixed"] = Field(
        "scale_out", description="Add instances to stay under the target, or keep the fleet fixed."
    )


@dataclass(frozen=True)
class BaselineItem:
    """One resource (or a group of identical ones) at the start: its type, price and how busy it is."""

    resource_id: str
    instance_type: str
    vcpus: float
    hourly_price: float
    utilisation: float  # percent of its capacity in use, e.g. CPU p95
    count: int = 1
    provider: str = ""
    region: str = ""
    family: str = ""

    @classmethod
    def from_resource(cls, resource: Resource, *, utilisation: float, catalog: Catalog | None = None) -> BaselineItem:
        """An item from a discovered resource (size and price from the catalog where the resource lacks them)."""
        entry = catalog.find(resource.provider, resource.instance_type, resource.region) if catalog else None
        vcpus = resource.vcpus or (entry.vcpus if entry else None)
        hourly = resource.hourly_price if resource.hourly_price is not None else (entry.hourly_price if entry else None)
        if not vcpus or hourly is None:
            raise ValueError(
                f"{resource.resource_id}: vCPUs or price unknown; add {resource.instance_type} to the catalog"
            )
        return cls(
            resource_id=resource.resource_id,
            instance_type=resource.instance_type,
            vcpus=vcpus,
            hourly_price=hourly,
            utilisation=utilisation,
            provider=resource.provider,
            region=resource.region,
            family=entry.family if entry else "",
        )


@dataclass(frozen=True)
class Growth:
    percent_per_month: float  # compounding


@dataclass(frozen=True)
class Launch:
    on: date
    added_percent: float  # a step of load, as a percentage of the affected items' baseline load
    resource_ids: tuple[str, ...] = ()  # empty: every item


@dataclass(frozen=True)
class Migration:
    on: date
    to_family: str
    from_family: str | None = None  # None: every item (or those in resource_ids)
    performance_factor: float = 1.0  # work per vCPU on the new family relative to the old
    resource_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scenario:
    name: str
    growth: Growth | None = None
    launches: tuple[Launch, ...] = ()
    migrations: tuple[Migration, ...] = ()


@dataclass(frozen=True)
class MonthProjection:
    month: date
    demand_vcpus: float
    capacity_vcpus: float
    instances: int
    monthly_cost: float
    over_target: tuple[str, ...] = ()  # items whose utilisation exceeds the target this month

    @property
    def utilisation_percent(self) -> float:
        return 100.0 * self.demand_vcpus / self.capacity_vcpus if self.capacity_vcpus else 0.0


@dataclass(frozen=True)
class Projection:
    scenario: str
    months: tuple[MonthProjection, ...]

    @property
    def total_cost(self) -> float:
        return sum(m.monthly_cost for m in self.months)


@dataclass(frozen=True)
class MonthDelta:
    month: date
    baseline_cost: float
    scenario_cost: float
    baseline_utilisation: float
    scenario_utilisation: float
    baseline_instances: int
    scenario_instances: int

    @property
    def cost_delta(self) -> float:
        return self.scenario_cost - self.baseline_cost

    @property
    def utilisation_delta(self) -> float:
        return self.scenario_utilisation - self.baseline_utilisation


@dataclass(frozen=True)
class Comparison:
    baseline: Projection
    scenario: Projection
    months: tuple[MonthDelta, ...] = field(default_factory=tuple)

    @property
    def total_cost_delta(self) -> float:
        return sum(m.cost_delta for m in self.months)


def month_index(start: date, when: date) -> int:
    """Months from the start month to the month holding `when` (0 for the start month)."""
    return (when.year - start.year) * 12 + when.month - start.month


def add_months(start: date, months: int) -> date:
    total = start.year * 12 + start.month - 1 + months
    return date(total // 12, total % 12 + 1, 1)


def project(
    *,
    items: list[BaselineItem],
    scenario: Scenario,
    start: date,
    catalog: Catalog | None = None,
    settings: ScenarioSettings | None = None,
) -> Projection:
    """Capacity and cost of `items` under `scenario`, one row per month from the month holding `start`."""
    s = settings or ScenarioSettings()
    growth = 1.0 + (scenario.growth.percent_per_month / 100.0 if scenario.growth else 0.0)
    events: list[Launch | Migration] = [*scenario.launches, *scenario.migrations]
    for event in events:
        if month_index(start, event.on) < 0:
            raise ValueError(f"{event} is before the projection start {start}: fold it into the baseline instead")
    targets = {id(m): _migration_targets(items, m, catalog) for m in scenario.migrations}
    rows = []
    for m in range(s.months):
        demand = capacity = cost = 0.0
        instances = 0
        over = []
        for item in items:
            load = _load(item, m, growth, scenario.launches, start)
            vcpus, hourly = item.vcpus, item.hourly_price
            for migration in scenario.migrations:
                entry = targets[id(migration)].get(item.resource_id)
                if entry is not None and m >= month_index(start, migration.on):
                    vcpus, hourly = entry.vcpus, entry.hourly_price
                    load /= migration.performance_factor
            count = item.count
            if s.scale == "scale_out":
                count = max(count, math.ceil(round(load / (vcpus * s.target_utilisation_percent / 100.0), 9)))
            if 100.0 * load / (count * vcpus) > s.target_utilisation_percent:
                over.append(item.resource_id)
            demand += load
            capacity += count * vcpus
            instances += count
            cost += count * hourly * HOURS_PER_MONTH
        rows.append(MonthProjection(add_months(start, m), demand, capacity, instances, cost, tuple(over)))
    return Projection(scenario.name, tuple(rows))


def compare(*, baseline: Projection, scenario: Projection) -> Comparison:
    """Month-by-month deltas of a scenario against a baseline over the same months."""
    if [m.month for m in baseline.months] != [m.month for m in scenario.months]:
        raise ValueError("projections cover different months: project both from the same start and horizon")
    deltas = tuple(
        MonthDelta(
            month=b.month,
            baseline_cost=b.monthly_cost,
            scenario_cost=x.monthly_cost,
            baseline_utilisation=b.utilisation_percent,
            scenario_utilisation=x.utilisation_percent,
            baseline_instances=b.instances,
            scenario_instances=x.instances,
        )
        for b, x in zip(baseline.months, scenario.months, strict=True)
    )
    return Comparison(baseline, scenario, deltas)


def run_scenario(
    *,
    items: list[BaselineItem],
    scenario: Scenario,
    start: date,
    baseline: Scenario | None = None,
    catalog: Catalog | None = None,
    settings: ScenarioSettings | None = None,
) -> Comparison:
    """Project `scenario` and a baseline (default: nothing changes) over the same months and compare them."""
    base = baseline or Scenario(name="baseline")
    return compare(
        baseline=project(items=items, scenario=base, start=start, catalog=catalog, settings=settings),
        scenario=project(items=items, scenario=scenario, start=start, catalog=catalog, settings=settings),
    )


def _load(item: BaselineItem, m: int, growth: float, launches: tuple[Launch, ...], start: date) -> float:
    base = item.utilisation / 100.0 * item.vcpus * item.count
    load = base * growth**m
    for launch in launches:
        at = month_index(start, launch.on)
        if m >= at and (not launch.resource_ids or item.resource_id in launch.resource_ids):
            load += base * launch.added_percent / 100.0 * growth ** (m - at)
    return load


def _migration_targets(items: list[BaselineItem], m: Migration, catalog: Catalog | None) -> dict[str, CatalogEntry]:
    """The catalog type each affected item moves to; ValueError when the family has none big enough."""
    if catalog is None:
        raise ValueError("a migration needs the catalog to reprice instances")
    out = {}
    for item in items:
        if (m.resource_ids and item.resource_id not in m.resource_ids) or (
            m.from_family is not None and item.family != m.from_family
        ):
            continue
        fits = [
            e
            for e in catalog.select(item.provider or None, item.region or None)
            if e.family == m.to_family and e.vcpus >= item.vcpus
        ]
        if not fits:
            raise ValueError(
                f"no {m.to_family} type with {item.vcpus:g}+ vCPUs in {item.provider} {item.region} "
                f"for {item.resource_id}"
            )
        out[item.resource_id] = min(fits, key=lambda e: (e.vcpus, e.hourly_price))
    return out
