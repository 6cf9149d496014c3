"""VM right-sizing: the cheapest catalog instance that fits the usage percentile or forecast peak plus headroom."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from pydantic import Field

from collector.catalog import Catalog, CatalogEntry
from services.recommend.base import HOURS_PER_MONTH, Evidence, Finding, Recommendation, Skipped
from services.recommend.containers import not_enough_data
from services.recommend.risk_sizing import FleetMargins, RiskSizing, size_usage_for_risk
from services.recommend.risk_target import RiskSettings
from services.recommend.usage import Requirement, percentile_of, required_capacity
from services.recommend.window import lookback

RISK_BANDS = (60.0, 75.0, 85.0, 95.0)  # projected utilisation (%) at which risk rises to 1, 2, 3, 4
BURSTY_CV = 0.5  # CPU usage whose standard deviation exceeds half its mean adds one step of risk


class VMRightsizeSettings(RiskSettings):
    """How a machine is sized: percentiles, headroom, data needed and the lead time a change takes."""

    cpu_percentile: str = Field("p95", pattern="^p(95|99)$", description="CPU percentile sized for: p95 or p99.")
    memory_stat: str = Field("max", description="Memory statistic sized for: 'max' (default) or a percentile 'pNN'.")
    headroom: float = Field(0.2, ge=0.0, le=1.0, description="Fraction added on top of the basis (0.15-0.2 usual).")
    lookback_days: float = Field(14.0, ge=1.0, le=90.0, description="Days of usage examined.")
    min_coverage_hours: float = Field(30.0, ge=1.0, le=24.0 * 90, description="Least usage history to recommend on.")
    lead_time_hours: float = Field(
        14 * 24.0,
        gt=0.0,
        le=24.0 * 365,
        description="How long until the change is made and reviewed again: the horizon whose forecast peak must fit.",
    )
    half_life_hours: float | None = Field(
        None, gt=0.0, description="Decay sample weights with this half-life; none = every sample weighs the same."
    )

    def model_post_init(self, __context: object) -> None:
        percentile_of(self.memory_stat)


@dataclass(frozen=True)
class VMFacts:
    """The machine as it runs today."""

    resource_id: str
    provider: str
    region: str
    instance_type: str
    vcpus: float
    memory_gib: float
    hourly_price: float  # on-demand list price
    effective_hourly: float | None = None  # amortised price actually paid (commitments, discounts)


def rightsize_instance(
    *,
    facts: VMFacts,
    cpu_percent: pd.Series,
    memory_percent: pd.Series,
    catalog: Catalog,
    settings: VMRightsizeSettings | None = None,
    cpu_forecast_peak_percent: float | None = None,
    memory_forecast_peak_percent: float | None = None,
    margins: FleetMargins | None = None,
) -> Recommendation | Skipped:
    """The cheapest instance in the same provider and region that fits, same family first, with the reasons.

    Usage is utilisation in percent of the current size. Required cores = max(CPU percentile, forecast peak)
    x vCPUs x (1 + headroom); memory likewise from its maximum. Without a forecast peak the trend of the daily
    values is projected over the lead time (services.recommend.usage.trend_peak). With `margins` learnt on the
    fleet that back the stated risk, the required cores and GiB are the smallest meeting that risk over the lead
    time instead (still at least a stored forecast's peak), and the reasons give the risk expected at the chosen
    type and at the next smaller one of its family.
    """
    s = settings or VMRightsizeSettings()
    rid = facts.resource_id
    cpu_window = lookback(cpu_percent, days=s.lookback_days)
    mem_window = lookback(memory_percent, days=s.lookback_days)
    hours = min(cpu_window.coverage_hours, mem_window.coverage_hours)
    reason = not_enough_data(hours, s.min_coverage_hours)
    if reason:
        return Skipped(rid, "rightsize", f"{reason} (over the last {s.lookback_days:g} days)")
    cpu_cores = cpu_window.values * facts.vcpus / 100.0
    mem_gib = mem_window.values * facts.memory_gib / 100.0

    def scaled(peak: float | None, size: float) -> float | None:
        return None if peak is None else peak * size / 100.0

    cpu = required_capacity(
        usage=cpu_cores,
        stat=s.cpu_percentile,
        headroom=s.headroom,
        half_life_hours=s.half_life_hours,
        horizon_hours=s.lead_time_hours,
        forecast_peak=scaled(cpu_forecast_peak_percent, facts.vcpus),
    )
    mem = required_capacity(
        usage=mem_gib,
        stat=s.memory_stat,
        headroom=s.headroom,
        half_life_hours=s.half_life_hours,
        horizon_hours=s.lead_time_hours,
        forecast_peak=scaled(memory_forecast_peak_percent, facts.memory_gib),
    )
    risk = size_usage_for_risk(
        cpu_cores,
        mem_gib,
        provisioned=(facts.vcpus, facts.memory_gib),
        margins=margins,
        horizon_days=s.lead_time_hours / 24.0,
    )
    if risk is not None:
        cpu, mem = _for_risk(cpu, risk.cpu_cores), _for_risk(mem, risk.mem_gib)
    fits = [
        e
        for e in catalog.select(facts.provider, facts.region)
        if e.vcpus >= cpu.required - 1e-9 and e.memory_gib >= mem.required - 1e-9
    ]
    current = catalog.find(facts.provider, facts.instance_type, facts.region)
    if not fits:
        return Skipped(
            rid,
            "rightsize",
            f"no {facts.provider} instance in {facts.region} has {cpu.required:.2f} "
            f"vCPU and {mem.required:.2f} GiB: the workload needs to scale out",
        )
    family = current.family if current else facts.instance_type.split(".")[0]
    same = [e for e in fits if e.family == family]
    other = [e for e in fits if e.family != family]
    best_same, best_other = _cheapest(same), _cheapest(other)
    fits_now = facts.vcpus >= cpu.required - 1e-9 and facts.memory_gib >= mem.required - 1e-9
    chosen = best_same or best_other
    assert chosen is not None
    finding: Finding
    if not fits_now:
        finding = "under_provisioned"
    elif chosen.hourly_price < facts.hourly_price - 1e-9 and chosen.instance_type != facts.instance_type:
        finding = "over_provisioned"
    else:
        finding, chosen = "optimized", current or chosen
    alternative = best_other if best_other is not None and best_other is not chosen else None
    rec = _recommendation(facts, s, hours, cpu, mem, cpu_cores, chosen, finding, alternative)
    if risk is None:
        return rec
    smaller = _cheapest_below(catalog, facts, chosen)
    return replace(rec, evidence=replace(rec.evidence, reasons=_risk_reasons(risk, chosen, smaller)))


def _for_risk(req: Requirement, size: float) -> Requirement:
    """The requirement sized for the stated risk; a stored forecast's peak still has to fit."""
    required = max(size, req.forecast_peak or 0.0) if req.forecast_source == "stored" else size
    return replace(req, required=required, headroom=required / req.basis - 1.0 if req.basis > 0 else 0.0)


def _cheapest_below(catalog: Catalog, facts: VMFacts, chosen: CatalogEntry) -> CatalogEntry | None:
    """The next smaller type: the dearest of the chosen type's family that costs less than it."""
    cheaper = [
        e
        for e in catalog.select(facts.provider, facts.region)
        if e.family == chosen.family and e.hourly_price < chosen.hourly_price - 1e-12
    ]
    return max(cheaper, key=lambda e: (e.hourly_price, e.vcpus, e.memory_gib), default=None)


def _risk_reasons(risk: RiskSizing, chosen: CatalogEntry, smaller: CatalogEntry | None) -> list[str]:
    m = risk.margins
    reasons = [
        f"sized for the stated risk ({m.target.describe()}): {risk.cpu_cores:.2f} vCPU and {risk.mem_gib:.2f} GiB "
        f"are needed; {m.describe()}",
        f"expected at {chosen.instance_type}, {risk.risk_at(chosen.vcpus, chosen.memory_gib).words()}",
    ]
    if smaller is not None:
        at = risk.risk_at(smaller.vcpus, smaller.memory_gib)
        reasons.append(f"expected at the next smaller type {smaller.instance_type}, {at.words()}")
    if risk.one_offs:
        reasons.append(f"{risk.one_offs} past memory peak(s) did not recur and do not set the size")
    return reasons


def _cheapest(entries: list[CatalogEntry]) -> CatalogEntry | None:
    return min(entries, key=lambda e: (e.hourly_price, e.vcpus, e.memory_gib, e.instance_type), default=None)


def performance_risk(projected_percent: float, cpu_cores: pd.Series) -> int:
    """0-4: one step per band of RISK_BANDS the projected utilisation reaches, +1 for bursty CPU, at most 4."""
    risk = sum(projected_percent >= band for band in RISK_BANDS)
    values = np.asarray(cpu_cores, dtype=np.float64)
    mean = float(values.mean()) if values.size else 0.0
    if mean > 0 and float(values.std()) / mean > BURSTY_CV:
        risk += 1
    return min(risk, 4)


def _recommendation(
    facts: VMFacts,
    s: VMRightsizeSettings,
    hours: float,
    cpu: Requirement,
    mem: Requirement,
    cpu_cores: pd.Series,
    chosen: CatalogEntry,
    finding: Finding,
    alternative: CatalogEntry | None,
) -> Recommendation:
    cpu_projected = 100.0 * cpu.basis / chosen.vcpus
    mem_projected = 100.0 * mem.basis / chosen.memory_gib
    risk = performance_risk(max(cpu_projected, mem_projected), cpu_cores)
    discount = (facts.effective_hourly / facts.hourly_price) if facts.effective_hourly and facts.hourly_price else 1.0
    change_list = (chosen.hourly_price - facts.hourly_price) * HOURS_PER_MONTH
    change_effective = change_list * discount  # the new type is assumed to get the same discount as the old one
    days = s.lookback_days
    reasons = [
        f"CPU {s.cpu_percentile} was {100 * cpu.observed / facts.vcpus:.1f}% of {facts.vcpus:g} vCPU over "
        f"{days:g} days" + _forecast_words(cpu, "vCPU", s) + f"; with {s.headroom:.0%} headroom "
        f"{cpu.required:.1f} vCPU are needed",
        f"memory {s.memory_stat} was {100 * mem.observed / facts.memory_gib:.1f}% of {facts.memory_gib:g} GiB"
        + _forecast_words(mem, "GiB", s)
        + f"; with {s.headroom:.0%} headroom {mem.required:.1f} GiB are needed",
        f"{chosen.instance_type} ({chosen.vcpus:g} vCPU, {chosen.memory_gib:g} GiB) fits at {cpu_projected:.0f}% "
        f"projected CPU and {mem_projected:.0f}% projected memory"
        + (
            f", {-change_list:,.2f} USD a month less at list price"
            if change_list < 0
            else f", {change_list:,.2f} USD a month more at list price"
            if change_list > 0
            else ""
        ),
        f"performance risk {risk} of 4 (projected utilisation bands {', '.join(f'{b:g}%' for b in RISK_BANDS)}; "
        f"+1 when CPU varies more than {BURSTY_CV:.0%} of its mean)",
    ]
    if finding == "under_provisioned":
        reasons.append(f"{facts.instance_type} ({facts.vcpus:g} vCPU, {facts.memory_gib:g} GiB) is too small")
    alternatives = []
    if alternative is not None:
        alternatives.append(
            {
                "instance_type": alternative.instance_type,
                "family": alternative.family,
                "vcpus": alternative.vcpus,
                "memory_gib": alternative.memory_gib,
                "hourly": alternative.hourly_price,
                "monthly_savings_list": max(0.0, (facts.hourly_price - alternative.hourly_price) * HOURS_PER_MONTH),
            }
        )
    evidence = Evidence(
        coverage_hours=hours,
        coverage_ratio=min(1.0, hours / (s.lookback_days * 24.0)),
        percentile=f"cpu {s.cpu_percentile}, memory {s.memory_stat}",
        headroom=s.headroom,
        observed={
            f"cpu_{s.cpu_percentile}": 100 * cpu.observed / facts.vcpus,
            f"mem_{s.memory_stat}": 100 * mem.observed / facts.memory_gib,
        },
        forecast_peak={
            k: 100 * v / size
            for k, v, size in (("cpu", cpu.forecast_peak, facts.vcpus), ("memory", mem.forecast_peak, facts.memory_gib))
            if v is not None
        },
        projected_utilisation={"cpu": cpu_projected, "memory": mem_projected},
        risk=risk,
        reasons=reasons,
    )
    return Recommendation(
        kind="rightsize",
        resource_id=facts.resource_id,
        finding=finding,
        title=f"{facts.instance_type} -> {chosen.instance_type}"
        if chosen.instance_type != facts.instance_type
        else f"{facts.instance_type} is the right size",
        evidence=evidence,
        current={
            "instance_type": facts.instance_type,
            "vcpus": facts.vcpus,
            "memory_gib": facts.memory_gib,
            "hourly": facts.hourly_price,
            "effective_hourly": facts.effective_hourly or facts.hourly_price,
        },
        proposed={
            "instance_type": chosen.instance_type,
            "family": chosen.family,
            "vcpus": chosen.vcpus,
            "memory_gib": chosen.memory_gib,
            "hourly": chosen.hourly_price,
            "required_vcpus": cpu.required,
            "required_memory_gib": mem.required,
            "monthly_cost_change_list": change_list,
            "monthly_cost_change_effective": change_effective,
        },
        monthly_savings_list=max(0.0, -change_list),
        monthly_savings_effective=max(0.0, -change_effective),
        alternatives=alternatives,
    )


def _forecast_words(req: Requirement, unit: str, s: VMRightsizeSettings) -> str:
    if req.forecast_peak is None or req.forecast_peak <= req.observed:
        return ""
    source = "the forecast" if req.forecast_source == "stored" else "the trend of daily values"
    return f"; {source} peaks at {req.forecast_peak:.1f} {unit} within {s.lead_time_hours / 24:g} days"
