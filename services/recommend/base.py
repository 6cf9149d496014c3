"""What every recommendation carries: its finding, savings, risk and the evidence behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

Kind = str  # a kind registered in services.recommend.registry: rightsize, idle, runway, ... or a plug-in's
Finding = Literal["over_provisioned", "under_provisioned", "optimized", "idle", "waste", "at_risk", "not_enough_data"]
HOURS_PER_MONTH = 730.0


@dataclass(frozen=True)
class Evidence:
    """Why: how much data, which percentile and headroom, what utilisation follows, how risky."""

    coverage_hours: float  # hours of usage data the decision saw
    coverage_ratio: float  # share of the lookback window that had data, 0..1
    percentile: str = ""  # e.g. "cpu p95, memory max"
    headroom: float = 0.0  # fraction added on top of the observed/forecast peak, e.g. 0.2
    observed: dict[str, float] = field(default_factory=dict)  # e.g. {"cpu_p95": 12.3, "mem_max": 40.1}
    forecast_peak: dict[str, float] = field(default_factory=dict)  # peaks over the lead time, where forecasts exist
    projected_utilisation: dict[str, float] = field(default_factory=dict)  # on the recommended size, percent
    risk: int = 0  # performance risk 0 (none) .. 4 (high)
    reasons: list[str] = field(default_factory=list)  # plain-language sentences

    def as_dict(self) -> dict[str, Any]:
        return {
            "coverage_hours": self.coverage_hours,
            "coverage_ratio": self.coverage_ratio,
            "percentile": self.percentile,
            "headroom": self.headroom,
            "observed": dict(self.observed),
            "forecast_peak": dict(self.forecast_peak),
            "projected_utilisation": dict(self.projected_utilisation),
            "risk": self.risk,
            "reasons": list(self.reasons),
        }


@dataclass(frozen=True)
class Recommendation:
    """One recommendation about one resource (or group). Savings are per month, never negative for a saving."""

    kind: Kind
    resource_id: str
    finding: Finding
    title: str
    evidence: Evidence
    current: dict[str, Any] = field(default_factory=dict)  # e.g. {"instance_type": "m5.2xlarge", "hourly": 0.384}
    proposed: dict[str, Any] = field(default_factory=dict)
    monthly_savings_list: float = 0.0  # at list (on-demand) price
    monthly_savings_effective: float = 0.0  # at the effective (amortised) price actually paid
    alternatives: list[dict[str, Any]] = field(default_factory=list)  # e.g. the best cross-family option


@dataclass(frozen=True)
class Skipped:
    """No recommendation, and why (too little data, an HPA owns the resource, ...)."""

    resource_id: str
    kind: Kind
    reason: str
