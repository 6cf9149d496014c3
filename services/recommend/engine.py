"""The fleet run: every recommender over every resource, from stored usage, forecasts and costs, deduplicated."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import pandas as pd
from sqlalchemy.orm import Session

from collector.catalog import Catalog
from collector.records import Resource
from services.autoscaling.inventory import SCALABLE_KINDS
from services.costs.cost_series import cost_by_day
from services.metrics import MetricStore
from services.recommend.base import Recommendation, Skipped
from services.recommend.commitments import commitment_discounts, recommend_commitments, spot_candidates
from services.recommend.config import RecommendSettings
from services.recommend.containers import ContainerFacts, rightsize_container
from services.recommend.dedupe import adjusted_hourly_spend, deduplicate
from services.recommend.fleet_margins import PercentUsage, learn_margins
from services.recommend.fleet_usage import MACHINE_KINDS, Usage, read_fleet
from services.recommend.idle import idle_machine, unattached_resources
from services.recommend.inputs import (
    FleetResource,
    effective_ratios,
    forecast_peak,
    load_fleet,
    stored_forecast,
)
from services.recommend.registry import ResourceContext, plugin_outcomes
from services.recommend.rightsize import VMFacts, rightsize_instance
from services.recommend.risk_sizing import FleetMargins
from services.recommend.runway import budget_runway, capacity_runway, group_runway
from services.recommend.schedule import offhours_schedule

_Margins = dict[str, FleetMargins | None]  # "machine" and "container" -> their fleet's margins
Outcome = Recommendation | Skipped


@dataclass
class FleetRun:
    """What one refresh found: recommendations keyed by resource key, and the reasons for the ones not made."""

    recommendations: list[tuple[str, Recommendation]] = field(default_factory=list)  # (resource key, rec)
    skipped: list[tuple[str, Skipped]] = field(default_factory=list)
    resource_pks: dict[str, int] = field(default_factory=dict)
    now: datetime | None = None

    def add(self, key: str, outcome: Outcome) -> None:
        if isinstance(outcome, Skipped):
            self.skipped.append((key, outcome))
        else:
            self.recommendations.append((key, outcome))


def run_fleet(
    *,
    session: Session,
    store: MetricStore,
    catalog: Catalog,
    settings: RecommendSettings,
    now: datetime,
    locked: dict[str, tuple[str, str]] | None = None,
) -> FleetRun:
    """Every recommendation for the fleet as of `now`. `locked` maps resource keys already being acted on (an
    accepted or implemented recommendation) to its kind and why, so savings of other kinds on them are set aside,
    never counted twice."""
    fleet = load_fleet(session)
    run = FleetRun(resource_pks={f.key: f.pk for f in fleet}, now=now)
    keys = {f.resource.resource_id: f.key for f in fleet}
    ratios = effective_ratios(session, since=(now - timedelta(days=30)).date())
    outcomes: list[Outcome] = []
    usages = read_fleet(session, store, fleet, settings, now)
    margins = _margins(fleet, usages, catalog, settings)
    for item in fleet:
        usage = usages[item.key]
        outcomes.extend(_per_resource(item, usage, catalog, settings, ratios, now, margins))
        if item.resource.kind in (*MACHINE_KINDS, "container", *SCALABLE_KINDS):
            context = ResourceContext(item.resource, usage.cpu, usage.memory, usage.forecasts, catalog, now, None)
            outcomes.extend(plugin_outcomes(context, settings.plugins))
    resources = [f.resource for f in fleet]
    outcomes.extend(unattached_resources(resources=resources, settings=settings.unattached))
    outcomes.extend(spot_candidates(resources=resources, catalog=catalog, settings=settings.spot))
    savers: list[Recommendation] = []
    held = locked or {}
    for outcome in outcomes:
        key = keys.get(outcome.resource_id, outcome.resource_id)
        if isinstance(outcome, Skipped):
            run.skipped.append((key, outcome))
        elif key in held and held[key][0] != outcome.kind and outcome.monthly_savings_list > 0:
            run.skipped.append((key, Skipped(outcome.resource_id, outcome.kind, held[key][1])))
        elif outcome.kind == "rightsize" and outcome.finding == "optimized":
            run.skipped.append(
                (key, Skipped(outcome.resource_id, "rightsize", f"already the right size: {outcome.title}"))
            )
        elif outcome.kind == "container_rightsize" and outcome.finding == "optimized":
            run.skipped.append((key, Skipped(outcome.resource_id, outcome.kind, "requests already fit the usage")))
        else:
            savers.append(outcome)
    deduped = deduplicate(savers)
    for rec in deduped.kept:
        run.recommendations.append((keys.get(rec.resource_id, rec.resource_id), rec))
    for skip in deduped.superseded:
        run.skipped.append((keys.get(skip.resource_id, skip.resource_id), skip))
    _commitments(run, fleet, usages, deduped.kept, catalog, settings, ratios)
    _group_runways(run, fleet, usages, settings, now)
    _budget_runways(run, session, settings, now)
    return run


def _margins(fleet: list[FleetResource], usages: dict[str, Usage], catalog: Catalog, s: RecommendSettings) -> _Margins:
    """Each kind's margins for its stated risk, learnt on that kind's usage across the fleet."""

    def percent_usage(kinds: tuple[str, ...]) -> Iterable[PercentUsage]:
        for item in fleet:
            r, usage = item.resource, usages[item.key]
            entry = catalog.find(r.provider, r.instance_type, r.region) if r.kind != "container" else None
            vcpus, gib = (
                r.vcpus or (entry.vcpus if entry else None),
                r.memory_gib or (entry.memory_gib if entry else None),
            )
            if r.kind in kinds and usage.cpu is not None and usage.memory is not None and vcpus and gib:
                yield usage.cpu, usage.memory, float(vcpus), float(gib)

    container, vm = s.container, s.vm
    return {
        "container": learn_margins(
            percent_usage(("container",)),
            settings=container,
            lookback_days=max(s.vm.lookback_days, s.idle.lookback_days, s.schedule.lookback_days),
            horizon_hours=container.horizon_hours,
        ),
        "machine": learn_margins(
            percent_usage(MACHINE_KINDS), settings=vm, lookback_days=vm.lookback_days, horizon_hours=vm.lead_time_hours
        ),
    }


def _per_resource(
    item: FleetResource,
    usage: Usage,
    catalog: Catalog,
    s: RecommendSettings,
    ratios: dict[str, float],
    now: datetime,
    margins: _Margins | None = None,
) -> Iterable[Outcome]:
    r = item.resource
    margins = margins or {}
    if r.kind == "container":
        yield from _container(item, usage, s, now, margins.get("container"))
        return
    if r.kind not in MACHINE_KINDS:
        return
    if usage.cpu is None:
        yield Skipped(r.resource_id, "rightsize", "not enough data: no CPU usage is stored for this machine")
        return
    ratio = ratios.get(r.resource_id)
    effective = r.hourly_price * ratio if r.hourly_price is not None and ratio is not None else None
    yield idle_machine(
        resource=r, cpu=usage.cpu, network_bytes=usage.network, settings=s.idle, effective_hourly=effective, end=now
    )
    yield offhours_schedule(resource=r, cpu=usage.cpu, settings=s.schedule, effective_hourly=effective, end=now)
    yield _vm(r, usage, catalog, s, effective, now, margins.get("machine"))
    for metric in sorted(s.runway.thresholds):  # any metric with a threshold: utilisation, a quota...
        history = usage.hourly.get(metric)
        if history is None:
            continue
        yield capacity_runway(
            resource_id=r.resource_id,
            metric=metric,
            history=history,
            forecast=usage.forecasts.get((metric, "mean")),
            now=now,
            settings=s.runway,
        )


def _vm(
    r: Resource,
    usage: Usage,
    catalog: Catalog,
    s: RecommendSettings,
    effective: float | None,
    now: datetime,
    margins: FleetMargins | None,
) -> Outcome:
    entry = catalog.find(r.provider, r.instance_type, r.region)
    vcpus = r.vcpus or (entry.vcpus if entry else None)
    memory = r.memory_gib or (entry.memory_gib if entry else None)
    hourly = r.hourly_price if r.hourly_price is not None else (entry.hourly_price if entry else None)
    if not vcpus or not memory or hourly is None:
        return Skipped(
            r.resource_id,
            "rightsize",
            f"size or price of {r.instance_type or 'this machine'} unknown: add it to config/catalog/instances.csv",
        )
    if usage.memory is None:
        return Skipped(r.resource_id, "rightsize", "not enough data: no memory usage is stored for this machine")
    lead = s.vm.lead_time_hours
    return rightsize_instance(
        facts=VMFacts(r.resource_id, r.provider, r.region, r.instance_type, vcpus, memory, hourly, effective),
        cpu_percent=usage.cpu,
        memory_percent=usage.memory,
        catalog=catalog,
        settings=s.vm,
        cpu_forecast_peak_percent=forecast_peak(usage.forecasts.get(("cpu_utilization", "p95")), now=now, hours=lead),
        memory_forecast_peak_percent=forecast_peak(
            usage.forecasts.get(("memory_utilization", "p95")), now=now, hours=lead
        ),
        margins=margins,
    )


def _container(
    item: FleetResource, usage: Usage, s: RecommendSettings, now: datetime, margins: FleetMargins | None
) -> Iterable[Outcome]:
    """Container usage is percent of its request; HPA facts come from the tags hpa and hpa_metrics."""
    r = item.resource
    if usage.cpu is None or usage.memory is None or not r.vcpus or not r.memory_gib:
        yield Skipped(
            r.resource_id,
            "container_rightsize",
            "not enough data: CPU and memory usage and requests are needed for a container",
        )
        return
    tags = r.tags
    facts = ContainerFacts(
        resource_id=r.resource_id,
        cpu_request=r.vcpus,
        memory_request=r.memory_gib,
        cpu_limit=_number(tags.get("cpu_limit")),
        memory_limit=_number(tags.get("memory_limit_gib")),
        hpa_name=tags.get("hpa", ""),
        hpa_metrics=tuple(m.strip() for m in tags.get("hpa_metrics", "").split(",") if m.strip()),
    )
    hours = s.container.horizon_hours
    cpu_peak = forecast_peak(usage.forecasts.get(("cpu_utilization", "p95")), now=now, hours=hours)
    mem_peak = forecast_peak(usage.forecasts.get(("memory_utilization", "p95")), now=now, hours=hours)
    yield rightsize_container(
        facts=facts,
        cpu_cores=usage.cpu * r.vcpus / 100.0,
        mem_gib=usage.memory * r.memory_gib / 100.0,
        settings=s.container,
        cpu_forecast_peak=None if cpu_peak is None else cpu_peak * r.vcpus / 100.0,
        mem_forecast_peak=None if mem_peak is None else mem_peak * r.memory_gib / 100.0,
        margins=margins,
    )


def _commitments(
    run: FleetRun,
    fleet: list[FleetResource],
    usages: dict[str, Usage],
    kept: list[Recommendation],
    catalog: Catalog,
    s: RecommendSettings,
    ratios: dict[str, float],
) -> None:
    """One simulation per provider over the hourly on-demand spend left after the kept recommendations."""
    by_provider: dict[str, list[FleetResource]] = {}
    for item in fleet:
        r = item.resource
        hourly = usages[item.key].hourly.get("cpu_utilization")
        # already-discounted machines (effective below list) are covered by a commitment today
        if r.kind in MACHINE_KINDS and r.hourly_price and hourly is not None and ratios.get(r.resource_id, 1.0) > 0.99:
            by_provider.setdefault(r.provider, []).append(item)
    for provider, items in sorted(by_provider.items()):
        scope = f"commitment:{provider}"
        discounts = commitment_discounts(resources=[i.resource for i in items], catalog=catalog)
        spend = {
            i.resource.resource_id: usages[i.key].hourly["cpu_utilization"] * 0.0 + float(i.resource.hourly_price or 0)
            for i in items
        }
        adjusted = adjusted_hourly_spend(spend=spend, kept=kept)
        options = recommend_commitments(scope=scope, spend=adjusted, discounts=discounts, settings=s.commitments)
        best = deduplicate([o for o in options if isinstance(o, Recommendation)])
        run.recommendations.extend((scope, r) for r in best.kept)
        run.skipped.extend((scope, o) for o in options if isinstance(o, Skipped))
        run.skipped.extend((scope, o) for o in best.superseded)


def _group_runways(
    run: FleetRun, fleet: list[FleetResource], usages: dict[str, Usage], s: RecommendSettings, now: datetime
) -> None:
    """CPU runway of each group (capacity-weighted by vCPUs) for every dimension of `group_by`, over the members
    with at least runway.min_history_hours of hourly history."""
    for dimension in s.group_by:
        groups: dict[str, list[FleetResource]] = {}
        for item in fleet:
            value = _group_value(item, dimension)
            hourly = usages[item.key].hourly.get("cpu_utilization")
            # a member with little history would cut the group's common history down to its own
            if value and hourly is not None and len(hourly) >= s.runway.min_history_hours:
                groups.setdefault(value, []).append(item)
        for value, members in sorted(groups.items()):
            key = f"group:{dimension}={value}"
            forecasts = {
                m.key: usages[m.key].forecasts[("cpu_utilization", "mean")]
                for m in members
                if ("cpu_utilization", "mean") in usages[m.key].forecasts
            }
            outcome = group_runway(
                group_id=key,
                metric="cpu_utilization",
                histories={m.key: usages[m.key].hourly["cpu_utilization"] for m in members},
                capacities={m.key: m.resource.vcpus or 1.0 for m in members},
                forecasts=forecasts,
                now=now,
                settings=s.runway,
            )
            run.add(key, outcome)


def _budget_runways(run: FleetRun, session: Session, s: RecommendSettings, now: datetime) -> None:
    """Days until this month's billed spend reaches each budget ('total' or a provider)."""
    first = date(now.year, now.month, 1)
    for scope, budget in sorted(s.budgets.items()):
        provider = None if scope == "total" else scope
        costs = cost_by_day(
            session, columns=("billed",), start=first, end=now.date() + timedelta(days=1), provider=provider
        )
        key = f"budget:{scope}"
        series_id = "cost:total" if provider is None else f"cost:provider:{provider}"
        if costs.empty:
            run.skipped.append((key, Skipped(key, "runway", f"no cost records since {first} for {scope}")))
            continue
        daily = pd.Series(costs["billed"].to_numpy(), index=pd.DatetimeIndex(pd.to_datetime(costs.index), tz="UTC"))
        outcome = budget_runway(
            scope=key,
            daily_spend=daily,
            budget=budget,
            period_start=first,
            forecast=stored_forecast(session, series_id, "daily_cost"),
            now=now,
            settings=s.runway,
        )
        run.add(key, outcome)


def _group_value(item: FleetResource, dimension: str) -> str:
    if dimension.startswith("tag:"):
        return item.resource.tags.get(dimension[4:], "")
    return str(getattr(item.resource, dimension, "") or "")


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None
