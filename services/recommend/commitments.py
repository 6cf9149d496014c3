"""Reserved-instance / savings-plan sizing by simulation over hourly on-demand spend, and spot candidates.

A commitment level c is in on-demand-equivalent dollars per hour: each hour it covers up to c of on-demand spend
at the discount d, and it is paid whether used or not. Over hourly spend s_t:

    covered_t = min(s_t, c)
    net savings = sum_t covered_t * d  -  sum_t (c - covered_t) * (1 - d)      (= sum covered - c(1-d) * hours)

The net is concave and piecewise linear in c with its kinks at the observed spend values, so the best level is
one of them (the d-quantile of spend, in fact); we evaluate every one. Over-commitment guard: the level is never
above the lowest of the last `guard_days` days' p`guard_percentile` of hourly spend, so a fleet that shrank in
the last few days (or was just right-sized: pass the adjusted series) is not committed at its old size.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from collector.catalog import Catalog
from collector.records import Resource
from services.recommend.base import HOURS_PER_MONTH, Evidence, Recommendation, Skipped
from services.recommend.window import Lookback, lookback

Term = Literal["1y", "3y"]
TERM_MONTHS: dict[Term, int] = {"1y": 12, "3y": 36}


class CommitmentSettings(BaseModel):
    """Lookbacks, terms and the over-commitment guard of the commitment simulation."""

    lookback_days: list[int] = Field(
        default_factory=lambda: [7, 30, 60], description="Lookbacks simulated (AWS Cost Explorer offers 7/30/60)."
    )
    primary_lookback_days: int = Field(30, ge=1, le=365, description="The lookback whose result is recommended.")
    terms: list[Term] = Field(default_factory=lambda: list(TERM_MONTHS), description="Commitment terms simulated.")
    guard_days: int = Field(3, ge=1, le=14, description="Recent days whose low spend caps the commitment.")
    guard_percentile: float = Field(
        10.0,
        ge=0.0,
        le=100.0,
        description="Cap = the lowest of the recent days' percentile of hourly spend (10: commit to the floor that "
        "ran nearly every hour; raise it to trade utilisation for coverage).",
    )
    payment: Literal["all_upfront", "no_upfront"] = Field(
        "all_upfront", description="Payment option assumed for the break-even month."
    )
    min_coverage_ratio: float = Field(0.8, ge=0.1, le=1.0, description="Share of the lookback that must have spend.")
    min_monthly_savings: float = Field(1.0, ge=0.0, description="Recommend nothing that saves less a month (USD).")


class SpotSettings(BaseModel):
    """Which workloads may run on spot capacity: stateless, interruptible ones, marked by tag or listed."""

    tags: dict[str, str] = Field(
        default_factory=lambda: {"interruptible": "true", "workload": "stateless"},
        description="Any of these tag values (case-insensitive) marks a workload as spot-safe.",
    )
    resource_ids: list[str] = Field(default_factory=list, description="Resources declared spot-safe in config.")
    risk: int = Field(2, ge=0, le=4, description="Performance risk reported for spot (interruptions).")


@dataclass(frozen=True)
class Simulation:
    """One commitment level simulated over an hourly on-demand spend series."""

    commitment: float  # on-demand-equivalent USD per hour covered
    discount: float
    hours: int
    spend: float  # total on-demand spend simulated
    covered: float  # total spend the commitment covered
    net_savings: float  # total over the hours simulated

    @property
    def committed_hourly(self) -> float:
        """What is paid per hour for the commitment (the savings-plan $/hour figure)."""
        return self.commitment * (1.0 - self.discount)

    @property
    def utilisation(self) -> float:
        return self.covered / (self.commitment * self.hours) if self.commitment > 0 and self.hours else 0.0

    @property
    def coverage(self) -> float:
        return self.covered / self.spend if self.spend > 0 else 0.0

    @property
    def monthly_net_savings(self) -> float:
        return self.net_savings / self.hours * HOURS_PER_MONTH if self.hours else 0.0

    def break_even_month(self, term: Term, payment: str) -> int | None:
        """First month whose cumulative avoided on-demand spend pays for the commitment (None: never)."""
        if self.commitment <= 0 or self.covered <= 0:
            return None
        monthly_covered = self.covered / self.hours * HOURS_PER_MONTH
        monthly_paid = self.committed_hourly * HOURS_PER_MONTH
        if payment == "no_upfront":
            return 1 if monthly_covered >= monthly_paid else None
        month = math.ceil(round(monthly_paid * TERM_MONTHS[term] / monthly_covered, 9))
        return month if month <= TERM_MONTHS[term] else None


def simulate_commitment(spend: np.ndarray, *, commitment: float, discount: float) -> Simulation:
    """Net savings of covering up to `commitment` dollars of on-demand spend an hour at `discount`."""
    s = np.asarray(spend, dtype=np.float64)
    covered = float(np.minimum(s, commitment).sum())
    net = covered * discount - (commitment * len(s) - covered) * (1.0 - discount)
    return Simulation(commitment, discount, len(s), float(s.sum()), covered, net)


def optimal_commitment(spend: np.ndarray, *, discount: float) -> Simulation:
    """The level (0 or an observed hourly spend) that maximises net savings; the smallest one on ties."""
    s = np.sort(np.asarray(spend, dtype=np.float64))
    n = len(s)
    if n == 0 or discount <= 0:
        return simulate_commitment(s, commitment=0.0, discount=max(discount, 0.0))
    below = np.concatenate(([0.0], np.cumsum(s)[:-1]))  # spend of the hours below each candidate
    covered = below + (n - np.arange(n)) * s
    net = covered - n * s * (1.0 - discount)
    best = int(np.argmax(net))
    if net[best] <= 0:
        return simulate_commitment(s, commitment=0.0, discount=discount)
    return simulate_commitment(s, commitment=float(s[best]), discount=discount)


def guard_cap(spend: pd.Series, *, days: int, percentile: float) -> float:
    """The lowest, over the last `days` days, of each day's percentile of hourly spend."""
    recent = lookback(spend, days=days).values
    daily = recent.groupby(recent.index.floor("D")).quantile(percentile / 100.0)
    return float(daily.min()) if len(daily) else 0.0


def commitment_discounts(*, resources: Iterable[Resource], catalog: Catalog) -> dict[Term, float]:
    """Each term's discount, weighted by on-demand price over the resources the catalog prices for that term."""
    totals: dict[Term, list[float]] = {"1y": [0.0, 0.0], "3y": [0.0, 0.0]}
    for r in resources:
        entry = catalog.find(r.provider, r.instance_type, r.region)
        if entry is None or entry.hourly_price <= 0:
            continue
        prices: dict[Term, float | None] = {"1y": entry.price_1y, "3y": entry.price_3y}
        for term, price in prices.items():
            if price is not None:
                totals[term][0] += entry.hourly_price
                totals[term][1] += price
    discounts: dict[Term, float] = {}
    for term, (listed, paid) in totals.items():
        if listed > 0:
            discounts[term] = 1.0 - paid / listed
    return discounts


def recommend_commitments(
    *,
    scope: str,
    spend: pd.Series,
    discounts: Mapping[Term, float],
    settings: CommitmentSettings | None = None,
) -> list[Recommendation | Skipped]:
    """One commitment recommendation (or a reason for none) per term, from hourly on-demand spend of `scope`.

    `spend` is hourly on-demand spend in USD on a UTC DatetimeIndex, after right-sizing, idle and schedule
    savings where those are planned (see services.recommend.dedupe.adjusted_hourly_spend).
    """
    s = settings or CommitmentSettings()
    out: list[Recommendation | Skipped] = []
    cap = guard_cap(spend, days=s.guard_days, percentile=s.guard_percentile)
    lookbacks = sorted({*s.lookback_days, s.primary_lookback_days})
    for term in s.terms:
        if term not in discounts:
            out.append(Skipped(scope, "commitment", f"no {term} price in the catalog for these resources"))
            continue
        discount = discounts[term]
        options = {days: _option(spend, days, term, discount, cap, s) for days in lookbacks}
        primary = options[s.primary_lookback_days]
        if isinstance(primary, str):
            out.append(Skipped(scope, "commitment", primary))
            continue
        window, optimum, chosen = primary
        if chosen.monthly_net_savings < s.min_monthly_savings:
            out.append(
                Skipped(
                    scope,
                    "commitment",
                    f"a {term} commitment would save ${chosen.monthly_net_savings:.2f} a month at most "
                    f"(threshold ${s.min_monthly_savings:g}): spend is too low or too variable",
                )
            )
            continue
        alternatives = [_summary(d, term, o[2], s.payment) for d, o in options.items() if not isinstance(o, str)]
        out.append(_recommendation(scope, term, window, optimum, chosen, cap, s, alternatives))
    return out


def _option(
    spend: pd.Series, days: int, term: Term, discount: float, cap: float, s: CommitmentSettings
) -> tuple[Lookback, Simulation, Simulation] | str:
    window = lookback(spend, days=days)
    if window.coverage_ratio < s.min_coverage_ratio:
        return (
            f"not enough spend data for a {days}-day lookback: {window.coverage_hours:.0f} hours "
            f"({window.coverage_ratio:.0%}, need {s.min_coverage_ratio:.0%})"
        )
    values = window.values.to_numpy()
    optimum = optimal_commitment(values, discount=discount)
    chosen = optimum
    if optimum.commitment > cap:
        chosen = simulate_commitment(values, commitment=cap, discount=discount)
    return window, optimum, chosen


def _summary(days: int, term: Term, sim: Simulation, payment: str) -> dict[str, object]:
    return {
        "lookback_days": days,
        "term": term,
        "commitment_hourly_on_demand": round(sim.commitment, 6),
        "commitment_hourly": round(sim.committed_hourly, 6),
        "monthly_net_savings": round(sim.monthly_net_savings, 2),
        "utilisation": round(sim.utilisation, 4),
        "coverage": round(sim.coverage, 4),
        "break_even_month": sim.break_even_month(term, payment),
    }


def _recommendation(
    scope: str,
    term: Term,
    window: Lookback,
    optimum: Simulation,
    chosen: Simulation,
    cap: float,
    s: CommitmentSettings,
    alternatives: list[dict[str, object]],
) -> Recommendation:
    days = s.primary_lookback_days
    mean = chosen.spend / chosen.hours
    even = chosen.break_even_month(term, s.payment)
    reasons = [
        f"Over the last {days} days on-demand spend averaged ${mean:.2f} an hour.",
        f"Simulating every level against each hour, covering ${optimum.commitment:.2f}/h of on-demand spend "
        f"at the {term} discount of {chosen.discount:.0%} saves the most (${optimum.monthly_net_savings:.2f} a month).",
    ]
    if chosen.commitment < optimum.commitment:
        reasons.append(
            f"Capped at ${cap:.2f}/h, the lowest p{s.guard_percentile:g} hourly spend of the last {s.guard_days} days, "
            "so a recent drop in usage is not committed to."
        )
    reasons.append(
        f"Buy ${chosen.committed_hourly:.2f}/h ({term}); expected utilisation {chosen.utilisation:.0%}, "
        f"coverage {chosen.coverage:.0%}, net ${chosen.monthly_net_savings:.2f} a month."
    )
    reasons.append(
        f"Paid {s.payment.replace('_', ' ')}, it breaks even in month {even}."
        if even
        else "It never breaks even within the term."
    )
    return Recommendation(
        kind="commitment",
        resource_id=scope,
        finding="waste",
        title=f"Commit ${chosen.committed_hourly:.2f}/h for {term}",
        evidence=Evidence(
            coverage_hours=round(window.coverage_hours, 2),
            coverage_ratio=round(window.coverage_ratio, 4),
            percentile=f"hourly on-demand spend; guard p{s.guard_percentile:g} of the last {s.guard_days} days",
            observed={"mean_hourly_spend": round(mean, 6), "optimum_hourly": optimum.commitment, "guard_cap": cap},
            projected_utilisation={
                "commitment": round(100 * chosen.utilisation, 2),
                "coverage": round(100 * chosen.coverage, 2),
            },
            risk=0 if chosen.utilisation >= 0.99 else 1,
            reasons=reasons,
        ),
        current={"on_demand_hourly_mean": round(mean, 6)},
        proposed={
            **_summary(days, term, chosen, s.payment),
            "discount": round(chosen.discount, 4),
            "payment": s.payment,
        },
        monthly_savings_list=round(chosen.monthly_net_savings, 2),
        monthly_savings_effective=round(chosen.monthly_net_savings, 2),
        alternatives=alternatives,
    )


def spot_candidates(
    *, resources: Iterable[Resource], catalog: Catalog, settings: SpotSettings | None = None
) -> list[Recommendation | Skipped]:
    """Stateless, interruptible workloads (by tag or config) that could run on spot, with savings at price_spot."""
    s = settings or SpotSettings()
    out: list[Recommendation | Skipped] = []
    for r in resources:
        marks = [f"{k}={r.tags[k]}" for k, v in s.tags.items() if r.tags.get(k, "").lower() == v.lower()]
        if r.resource_id in s.resource_ids:
            marks.append("listed as spot-safe in config")
        if not marks:
            continue
        entry = catalog.find(r.provider, r.instance_type, r.region)
        if entry is None or entry.price_spot is None:
            out.append(Skipped(r.resource_id, "spot", f"no spot price for {r.instance_type} in {r.region}"))
            continue
        hourly = r.hourly_price if r.hourly_price is not None else entry.hourly_price
        monthly = (hourly - entry.price_spot) * HOURS_PER_MONTH
        if monthly <= 0:
            why = f"spot (${entry.price_spot:g}/h) is not cheaper than ${hourly:g}/h"
            out.append(Skipped(r.resource_id, "spot", why))
            continue
        reasons = [
            f"Marked interruptible and stateless ({', '.join(marks)}).",
            f"Spot costs ${entry.price_spot:g}/h against ${hourly:g}/h on demand: ${monthly:.2f} a month less.",
            "Spot capacity can be reclaimed at short notice; keep it behind a group that replaces lost machines.",
        ]
        out.append(
            Recommendation(
                kind="spot",
                resource_id=r.resource_id,
                finding="waste",
                title=f"Run {r.name or r.resource_id} on spot",
                evidence=Evidence(
                    coverage_hours=0.0, coverage_ratio=1.0, percentile="tags", risk=s.risk, reasons=reasons
                ),
                current={"instance_type": r.instance_type, "hourly": hourly},
                proposed={"purchase": "spot", "instance_type": r.instance_type, "hourly": entry.price_spot},
                monthly_savings_list=round(monthly, 2),
                monthly_savings_effective=round(monthly, 2),
            )
        )
    return out
