"""Idle machines and unattached disks and addresses: resources paid for in full and used by nobody."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from collector.records import Resource
from services.recommend.base import HOURS_PER_MONTH, Evidence, Recommendation, Skipped
from services.recommend.window import lookback

# AWS us-east-1 EBS list prices, USD per GiB-month (aws.amazon.com/ebs/pricing); override per region in config
EBS_GIB_MONTH = {"gp2": 0.10, "gp3": 0.08, "io1": 0.125, "io2": 0.125, "st1": 0.045, "sc1": 0.015, "standard": 0.05}


class IdleSettings(BaseModel):
    """When a machine counts as idle. Defaults follow Azure Advisor's shutdown rule (P95 CPU and network low
    over seven days)."""

    lookback_days: int = Field(7, ge=1, le=90, description="Days of usage examined (Azure Advisor: 7, up to 90).")
    cpu_percentile: float = Field(95.0, ge=50.0, le=100.0, description="Percentile of CPU compared to the limit.")
    cpu_threshold_percent: float = Field(
        5.0, gt=0.0, le=50.0, description="Idle when the CPU percentile is below this (Advisor: 5% P95)."
    )
    network_percentile: float = Field(95.0, ge=50.0, le=100.0, description="Percentile of network throughput.")
    network_threshold_bytes_per_second: float = Field(
        2_500_000.0,
        ge=0.0,
        description="Idle when network throughput (in + out) stays below this; 2.5 MB/s is 2% of a 1 Gbit/s link, "
        "after Advisor's 'P95 network below 2% of the VM's bandwidth' rule.",
    )
    min_coverage_ratio: float = Field(
        0.8, ge=0.1, le=1.0, description="Share of the lookback that must have CPU data before judging."
    )
    kinds: list[str] = Field(
        default_factory=lambda: ["vm", "database"], description="Resource kinds that can be idle machines."
    )


class UnattachedSettings(BaseModel):
    """Prices and discovery facts for unattached volumes and addresses."""

    volume_gib_month: dict[str, float] = Field(
        default_factory=lambda: dict(EBS_GIB_MONTH),
        description="USD per GiB-month by volume type, used when discovery gave the volume no hourly price.",
    )
    default_gib_month: float = Field(0.10, ge=0.0, description="USD per GiB-month of a volume of unknown type.")
    address_hourly: float = Field(
        0.005, ge=0.0, description="USD per hour of an unassociated public address (AWS public IPv4, 2024)."
    )
    unattached_states: list[str] = Field(
        default_factory=lambda: ["available", "unattached", "reserved"],
        description="Values of the headroom:state tag meaning nobody uses the disk or address.",
    )


def idle_machine(
    *,
    resource: Resource,
    cpu: pd.Series,
    network_bytes: pd.Series | None,
    settings: IdleSettings | None = None,
    effective_hourly: float | None = None,
    end: datetime | None = None,
) -> Recommendation | Skipped:
    """Recommend stopping a machine whose CPU and network stayed below the idle limits over the lookback.

    `cpu` is utilisation in percent; `network_bytes` is bytes per sample (in + out), as collected. Savings are the
    machine's whole monthly cost, at list price and at `effective_hourly` (amortised) when given.
    """
    s = settings or IdleSettings()
    rid = resource.resource_id
    if resource.kind not in s.kinds:
        return Skipped(rid, "idle", f"a {resource.kind} is not a machine; idle checks cover {', '.join(s.kinds)}")
    window = lookback(cpu, days=s.lookback_days, end=end)
    if window.coverage_ratio < s.min_coverage_ratio:
        return Skipped(
            rid,
            "idle",
            f"not enough data: {window.coverage_hours:.0f} hours of CPU in the last {s.lookback_days} days "
            f"({window.coverage_ratio:.0%}, need {s.min_coverage_ratio:.0%})",
        )
    cpu_p = float(np.percentile(window.values.to_numpy(), s.cpu_percentile))
    observed = {f"cpu_p{s.cpu_percentile:g}": round(cpu_p, 3)}
    pct = f"cpu p{s.cpu_percentile:g}"
    limit = f"the {s.cpu_threshold_percent:g}% limit"
    if cpu_p >= s.cpu_threshold_percent:
        return Skipped(rid, "idle", f"{pct} is {cpu_p:.1f}% over {s.lookback_days} days, at or above {limit}")
    reasons = [f"{pct} was {cpu_p:.2f}% over the last {s.lookback_days} days, below {limit}."]
    if network_bytes is None:
        reasons.append("No network data was available, so the decision rests on CPU alone.")
    else:
        net = lookback(network_bytes, days=s.lookback_days, end=window.end)
        if len(net.values) == 0:
            reasons.append("No network data fell in the lookback, so the decision rests on CPU alone.")
        else:
            rate = float(np.percentile(net.values.to_numpy() / net.step_seconds, s.network_percentile))
            observed[f"network_p{s.network_percentile:g}_bytes_per_second"] = round(rate, 1)
            pct += f", network p{s.network_percentile:g}"
            if rate >= s.network_threshold_bytes_per_second:
                return Skipped(
                    rid,
                    "idle",
                    f"CPU is low ({cpu_p:.1f}%) but network p{s.network_percentile:g} is {rate / 1000:.0f} kB/s, "
                    f"at or above {s.network_threshold_bytes_per_second / 1000:.0f} kB/s: it still serves traffic",
                )
            reasons.append(
                f"Network p{s.network_percentile:g} was {rate / 1000:.1f} kB/s, below "
                f"{s.network_threshold_bytes_per_second / 1000:.0f} kB/s."
            )
    list_monthly, effective_monthly = _monthly(resource.hourly_price, effective_hourly, reasons)
    reasons.append("Stop or delete it (snapshot first if its disk matters); savings are its whole monthly cost.")
    return Recommendation(
        kind="idle",
        resource_id=rid,
        finding="idle",
        title=f"Stop idle {resource.name or rid}",
        evidence=Evidence(
            coverage_hours=round(window.coverage_hours, 2),
            coverage_ratio=round(window.coverage_ratio, 4),
            percentile=pct,
            observed=observed,
            projected_utilisation={"cpu": 0.0},
            risk=1,
            reasons=reasons,
        ),
        current={"instance_type": resource.instance_type, "hourly": resource.hourly_price},
        proposed={"action": "stop"},
        monthly_savings_list=list_monthly,
        monthly_savings_effective=effective_monthly,
    )


def unattached_resources(
    *, resources: Iterable[Resource], settings: UnattachedSettings | None = None
) -> list[Recommendation]:
    """Volumes and addresses that discovery found attached to nothing; savings are their whole monthly cost.

    A volume is unattached when its `headroom:state` tag is one of `unattached_states` (EBS "available") or its
    `headroom:attached_to` tag is present and empty. An address (kind "address") is unattached when its
    `headroom:associated_to` tag is empty or missing, or its state says so.
    """
    s = settings or UnattachedSettings()
    out = []
    for r in resources:
        if r.kind == "volume" and _unattached_volume(r, s):
            out.append(_volume(r, s))
        elif r.kind == "address" and _unassociated_address(r, s):
            out.append(_address(r, s))
    return out


def _unattached_volume(r: Resource, s: UnattachedSettings) -> bool:
    state = r.tags.get("headroom:state", "").lower()
    return state in s.unattached_states or ("headroom:attached_to" in r.tags and not r.tags["headroom:attached_to"])


def _unassociated_address(r: Resource, s: UnattachedSettings) -> bool:
    state = r.tags.get("headroom:state", "").lower()
    return state in s.unattached_states or not r.tags.get("headroom:associated_to", "")


def _volume(r: Resource, s: UnattachedSettings) -> Recommendation:
    state = r.tags.get("headroom:state", "")
    reasons = [f"Discovery found the volume attached to no machine (state {state or 'unknown'!r})."]
    if r.hourly_price is not None:
        monthly = r.hourly_price * HOURS_PER_MONTH
        reasons.append(f"It costs ${r.hourly_price:.4f} an hour, ${monthly:.2f} a month.")
    else:
        size = _float(r.tags.get("headroom:size_gib"))
        rate = s.volume_gib_month.get(r.instance_type, s.default_gib_month)
        monthly = size * rate
        kind = r.instance_type or "unknown type"
        reasons.append(f"{size:g} GiB of {kind} at ${rate:g} per GiB-month is ${monthly:.2f} a month.")
    reasons.append("Snapshot it if the data may be needed, then delete it.")
    return _waste(r, "Delete unattached volume", monthly, reasons)


def _address(r: Resource, s: UnattachedSettings) -> Recommendation:
    hourly = r.hourly_price if r.hourly_price is not None else s.address_hourly
    monthly = hourly * HOURS_PER_MONTH
    reasons = [
        "Discovery found the address associated with nothing.",
        f"An idle address costs ${hourly:g} an hour, ${monthly:.2f} a month; release it.",
    ]
    return _waste(r, "Release unassociated address", monthly, reasons)


def _waste(r: Resource, title: str, monthly: float, reasons: list[str]) -> Recommendation:
    return Recommendation(
        kind="unattached",
        resource_id=r.resource_id,
        finding="waste",
        title=f"{title} {r.name or r.resource_id}",
        evidence=Evidence(coverage_hours=0.0, coverage_ratio=1.0, percentile="discovery facts", reasons=reasons),
        current={"kind": r.kind, "type": r.instance_type, "state": r.tags.get("headroom:state", "")},
        proposed={"action": "delete" if r.kind == "volume" else "release"},
        monthly_savings_list=round(monthly, 2),
        monthly_savings_effective=round(monthly, 2),
    )


def _monthly(hourly: float | None, effective_hourly: float | None, reasons: list[str]) -> tuple[float, float]:
    if hourly is None:
        reasons.append("Its price is unknown, so no savings are counted.")
        return 0.0, 0.0
    effective = hourly if effective_hourly is None else effective_hourly
    listed, paid = hourly * HOURS_PER_MONTH, effective * HOURS_PER_MONTH
    reasons.append(f"It costs ${listed:.2f} a month at list price (${paid:.2f} effective).")
    return round(listed, 2), round(paid, 2)


def _float(text: str | None) -> float:
    try:
        return float(text or 0.0)
    except ValueError:
        return 0.0
