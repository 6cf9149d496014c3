"""Container right-sizing: CPU and memory requests and limits from decaying usage histograms and forecasts."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from pydantic import BaseModel, Field

from services.recommend.base import HOURS_PER_MONTH, Evidence, Finding, Recommendation, Skipped
from services.recommend.risk_sizing import FleetMargins, size_usage_for_risk
from services.recommend.risk_target import RiskSettings
from services.recommend.usage import Requirement, percentile_of, required_capacity
from services.recommend.window import as_utc_series, step_seconds_of

# Unit prices fitted to config/catalog/instances.csv (services/benchmarks/rightsize_eval.py unit_prices): to price
# container requests when the caller has no node prices.
DEFAULT_VCPU_HOUR = 0.0232
DEFAULT_GIB_HOUR = 0.0062


class CapacitySettings(BaseModel):
    """How much CPU and memory a workload needs: statistic, headroom, decay and forecast horizon per resource.

    The defaults are the VPA recommender's (CPU p90 of a histogram decaying with a 24 h half-life, 15% margin)
    with memory sized from its maximum instead of p90 because memory is not compressible (running out is an OOM
    kill, not throttling), and both raised to the forecast peak over the horizon when it is higher.
    """

    cpu_stat: str = Field("p90", description="Statistic of CPU usage sized for: 'max' or a percentile 'pNN'.")
    memory_stat: str = Field("max", description="Statistic of memory usage sized for: 'max' or 'pNN'.")
    cpu_headroom: float = Field(
        0.15, ge=0.0, le=1.0, description="Fraction added to the CPU basis when it is not calibrated (VPA: 0.15)."
    )
    memory_headroom: float = Field(
        0.15, ge=0.0, le=1.0, description="Fraction added to the memory basis when it is not calibrated."
    )
    calibrate_headroom: bool = Field(
        True,
        description="Learn each headroom from the lookback (usage.calibrated_headroom) given 2+ whole days; "
        "the fixed headrooms above apply otherwise.",
    )
    headroom_floor: float = Field(0.05, ge=0.0, le=1.0, description="Least calibrated headroom.")
    headroom_cap: float = Field(1.0, ge=0.0, le=5.0, description="Most calibrated headroom.")
    half_life_hours: float | None = Field(
        None,
        gt=0.0,
        le=24.0 * 365,
        description="Half-life of sample weights in the histograms; none = the horizon "
        "(VPA uses 24 h, for recommendations it re-evaluates continuously).",
    )
    horizon_hours: float = Field(
        14 * 24.0, gt=0.0, le=24.0 * 365, description="How long the recommendation must hold: the forecast horizon."
    )
    min_coverage_hours: float = Field(30.0, ge=1.0, le=24.0 * 90, description="Least usage history to recommend on.")

    def model_post_init(self, __context: object) -> None:
        percentile_of(self.cpu_stat)
        percentile_of(self.memory_stat)


@dataclass(frozen=True)
class CapacitySizing:
    """Required CPU cores and memory GiB for one workload, with how each was found."""

    cpu: Requirement
    memory: Requirement
    coverage_hours: float

    @property
    def cpu_cores(self) -> float:
        return self.cpu.required

    @property
    def mem_gib(self) -> float:
        return self.memory.required


def coverage_hours(series: pd.Series) -> float:
    """Hours of data in a usage series: samples times the sampling step."""
    clean = as_utc_series(series)
    return len(clean) * step_seconds_of(clean) / 3600.0


def not_enough_data(hours: float, needed: float) -> str | None:
    """The reason to skip when `hours` of history is less than `needed`, else None."""
    if hours >= needed:
        return None
    return f"not enough data: {hours:.1f} hours of usage, at least {needed:.0f} hours are needed"


def size_capacity(
    *,
    cpu_cores: pd.Series,
    mem_gib: pd.Series,
    settings: CapacitySettings,
    cpu_forecast_peak: float | None = None,
    mem_forecast_peak: float | None = None,
) -> CapacitySizing | str:
    """Required cores and GiB from usage in cores and GiB (and stored forecast peaks), or why not."""
    hours = min(coverage_hours(cpu_cores), coverage_hours(mem_gib))
    reason = not_enough_data(hours, settings.min_coverage_hours)
    if reason:
        return reason
    s = settings
    half_life = s.half_life_hours or s.horizon_hours
    calibrate = (s.headroom_floor, s.headroom_cap) if s.calibrate_headroom else None
    cpu = required_capacity(
        usage=cpu_cores,
        stat=s.cpu_stat,
        headroom=s.cpu_headroom,
        half_life_hours=half_life,
        horizon_hours=s.horizon_hours,
        forecast_peak=cpu_forecast_peak,
        calibrate=calibrate,
    )
    memory = required_capacity(
        usage=mem_gib,
        stat=s.memory_stat,
        headroom=s.memory_headroom,
        half_life_hours=half_life,
        horizon_hours=s.horizon_hours,
        forecast_peak=mem_forecast_peak,
        calibrate=calibrate,
    )
    return CapacitySizing(cpu=cpu, memory=memory, coverage_hours=hours)


class ContainerSettings(CapacitySettings, RiskSettings):
    """Container requests from CapacitySettings; limits from a ratio to the request or from the observed peak."""

    limit_mode: str = Field("ratio", pattern="^(ratio|peak)$", description="'ratio': request x ratio; 'peak'.")
    cpu_limit_ratio: float | None = Field(
        None, ge=1.0, le=20.0, description="CPU limit = request x this; none = no CPU limit (throttling avoided)."
    )
    memory_limit_ratio: float = Field(1.0, ge=1.0, le=20.0, description="Memory limit = request x this.")
    vcpu_hour: float = Field(DEFAULT_VCPU_HOUR, ge=0.0, description="Price of one requested core for one hour.")
    gib_hour: float = Field(DEFAULT_GIB_HOUR, ge=0.0, description="Price of one requested GiB for one hour.")
    tolerance: float = Field(0.1, ge=0.0, le=1.0, description="Changes under this fraction of the request: optimized.")


@dataclass(frozen=True)
class ContainerFacts:
    """What is known of a workload: its current requests/limits and which resources an HPA scales on."""

    resource_id: str
    cpu_request: float  # cores
    memory_request: float  # GiB
    cpu_limit: float | None = None
    memory_limit: float | None = None
    hpa_name: str = ""
    hpa_metrics: tuple[str, ...] = field(default_factory=tuple)  # e.g. ("cpu",) or ("cpu", "memory")


def rightsize_container(
    *,
    facts: ContainerFacts,
    cpu_cores: pd.Series,
    mem_gib: pd.Series,
    settings: ContainerSettings | None = None,
    cpu_forecast_peak: float | None = None,
    mem_forecast_peak: float | None = None,
    margins: FleetMargins | None = None,
) -> Recommendation | Skipped:
    """Requests and limits for CPU and memory, leaving alone any resource an HPA scales on (VPA's rule).

    With `margins` learnt on the fleet (risk_sizing.calibrate) and enough of them to back the stated risk, the
    requests are the smallest meeting that risk over the horizon, and the reasons say the risk expected at
    them and at the next smaller size; otherwise the decaying-histogram sizing below applies.
    """
    s = settings or ContainerSettings()
    rid = facts.resource_id
    scaled = {m.lower() for m in facts.hpa_metrics} & {"cpu", "memory"}
    hpa = f"HPA {facts.hpa_name}" if facts.hpa_name else "an HPA"
    if scaled == {"cpu", "memory"}:
        return Skipped(
            rid,
            "container_rightsize",
            f"{hpa} scales this workload on CPU and memory; changing its "
            "requests would fight the autoscaler, so neither is right-sized",
        )
    sizing = size_capacity(
        cpu_cores=cpu_cores,
        mem_gib=mem_gib,
        settings=s,
        cpu_forecast_peak=cpu_forecast_peak,
        mem_forecast_peak=mem_forecast_peak,
    )
    if isinstance(sizing, str):
        return Skipped(rid, "container_rightsize", sizing)
    risk = size_usage_for_risk(
        cpu_cores,
        mem_gib,
        provisioned=(facts.cpu_request, facts.memory_request),
        margins=margins,
        horizon_days=s.horizon_hours / 24.0,
    )
    cpu_req = facts.cpu_request if "cpu" in scaled else round(risk.cpu_cores if risk else sizing.cpu_cores, 3)
    mem_req = facts.memory_request if "memory" in scaled else round(risk.mem_gib if risk else sizing.mem_gib, 3)
    peak_cpu = float(as_utc_series(cpu_cores).max()) * (1.0 + s.cpu_headroom)
    peak_mem = float(as_utc_series(mem_gib).max()) * (1.0 + s.memory_headroom)
    if s.limit_mode == "peak":
        cpu_lim: float | None = round(max(cpu_req, peak_cpu), 3)
        mem_lim = round(max(mem_req, peak_mem), 3)
    else:
        cpu_lim = round(cpu_req * s.cpu_limit_ratio, 3) if s.cpu_limit_ratio else None
        mem_lim = round(mem_req * s.memory_limit_ratio, 3)
    reasons = [
        _sentence("CPU", sizing.cpu, "cores", s.cpu_stat, s),
        _sentence("memory", sizing.memory, "GiB", s.memory_stat, s),
    ]
    if risk is not None and margins is not None:
        reasons = [
            f"sized for the stated risk ({margins.target.describe()}); {margins.describe()}",
            f"expected at the proposed {risk.proposed.words()}",
            f"expected at the next smaller size, {risk.smaller.words()}",
        ]
        if risk.one_offs:
            reasons.append(f"{risk.one_offs} past memory peak(s) did not recur and do not set the size")
    for resource in sorted(scaled):
        reasons.append(f"{resource} request kept at its current value: {hpa} scales this workload on {resource}")
    current_cost = facts.cpu_request * s.vcpu_hour + facts.memory_request * s.gib_hour
    new_cost = cpu_req * s.vcpu_hour + mem_req * s.gib_hour
    saving = (current_cost - new_cost) * HOURS_PER_MONTH
    evidence = Evidence(
        coverage_hours=sizing.coverage_hours,
        coverage_ratio=min(1.0, sizing.coverage_hours / s.horizon_hours),
        percentile=f"cpu {s.cpu_stat}, memory {s.memory_stat} (half-life {s.half_life_hours or 'none'} h)",
        headroom=max(s.cpu_headroom, s.memory_headroom),
        observed={"cpu_cores": sizing.cpu.observed, "mem_gib": sizing.memory.observed},
        forecast_peak={
            k: v
            for k, v in (("cpu_cores", sizing.cpu.forecast_peak), ("mem_gib", sizing.memory.forecast_peak))
            if v is not None
        },
        projected_utilisation={
            "cpu": 100.0 * sizing.cpu.basis / cpu_req if cpu_req else 0.0,
            "memory": 100.0 * sizing.memory.basis / mem_req if mem_req else 0.0,
        },
        risk=0,
        reasons=reasons,
    )
    return Recommendation(
        kind="container_rightsize",
        resource_id=rid,
        finding=_finding(facts, cpu_req, mem_req, s.tolerance),
        title=f"requests {cpu_req:g} cores / {mem_req:g} GiB (now {facts.cpu_request:g} / {facts.memory_request:g})",
        evidence=evidence,
        current={
            "cpu_request": facts.cpu_request,
            "memory_request": facts.memory_request,
            "cpu_limit": facts.cpu_limit,
            "memory_limit": facts.memory_limit,
        },
        proposed={"cpu_request": cpu_req, "memory_request": mem_req, "cpu_limit": cpu_lim, "memory_limit": mem_lim},
        monthly_savings_list=max(saving, 0.0),
        monthly_savings_effective=max(saving, 0.0),
    )


def _finding(facts: ContainerFacts, cpu_req: float, mem_req: float, tolerance: float) -> Finding:
    ratios = [new / old for new, old in ((cpu_req, facts.cpu_request), (mem_req, facts.memory_request)) if old > 0]
    if any(r > 1.0 + tolerance for r in ratios) or len(ratios) < 2:
        return "under_provisioned"
    if any(r < 1.0 - tolerance for r in ratios):
        return "over_provisioned"
    return "optimized"


def _sentence(name: str, req: Requirement, unit: str, stat: str, s: CapacitySettings) -> str:
    decay = f" (samples halving in weight every {s.half_life_hours:g} h)" if s.half_life_hours else ""
    text = f"{name} {stat}{decay} was {req.observed:.3g} {unit}"
    if req.forecast_peak is not None:
        source = "stored forecast" if req.forecast_source == "stored" else "trend of daily values"
        text += f"; the {source} peaks at {req.forecast_peak:.3g} {unit} over the next {s.horizon_hours / 24:g} days"
    return text + f"; with {req.headroom:.0%} headroom {req.required:.3g} {unit} are needed"
