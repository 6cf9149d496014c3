"""One saving per resource: overlapping recommendations deduplicated, and the spend left for commitments.

On one resource, idle beats unattached beats right-sizing beats scheduling beats spot (deleting a machine saves
everything a resize or a schedule would); the losers are kept as Skipped with the reason, so their savings are
never added twice. Commitment options for one scope (1-year, 3-year) are alternatives: only the best counts.
Commitments are then sized on the hourly spend left after the kept recommendations (adjusted_hourly_spend).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from services.recommend.base import HOURS_PER_MONTH, Recommendation, Skipped
from services.recommend.schedule import is_on
from services.recommend.window import as_utc_series

PRIORITY: tuple[str, ...] = ("idle", "unattached", "rightsize", "container_rightsize", "schedule", "spot")
REMOVES_SPEND = ("idle", "unattached", "spot")  # spot capacity is never covered by a commitment either


@dataclass(frozen=True)
class Deduplicated:
    """The recommendations to count, and the ones set aside with why."""

    kept: list[Recommendation]
    superseded: list[Skipped]

    @property
    def monthly_savings_list(self) -> float:
        return sum(r.monthly_savings_list for r in self.kept)

    @property
    def monthly_savings_effective(self) -> float:
        return sum(r.monthly_savings_effective for r in self.kept)


def deduplicate(recommendations: Iterable[Recommendation], *, priority: Sequence[str] = PRIORITY) -> Deduplicated:
    """Keep one saving recommendation per resource (by `priority`) and the best commitment per scope.

    Recommendations that save nothing (optimized, under-provisioned, runway) pass through untouched and
    never suppress a saving one.
    """
    kept: list[Recommendation] = []
    superseded: list[Skipped] = []
    groups: dict[tuple[str, str], list[Recommendation]] = {}
    for rec in recommendations:
        if rec.monthly_savings_list <= 0 and rec.monthly_savings_effective <= 0:
            kept.append(rec)
        elif rec.kind == "commitment":
            groups.setdefault(("commitment", rec.resource_id), []).append(rec)
        elif rec.kind in priority:
            groups.setdefault(("resource", rec.resource_id), []).append(rec)
        else:
            kept.append(rec)
    for (group, _), recs in groups.items():
        if group == "commitment":
            ranked = sorted(recs, key=lambda r: -r.monthly_savings_list)
        else:
            ranked = sorted(recs, key=lambda r: (priority.index(r.kind), -r.monthly_savings_list))
        winner = ranked[0]
        kept.append(winner)
        for loser in ranked[1:]:
            superseded.append(Skipped(loser.resource_id, loser.kind, _why(loser, winner)))
    return Deduplicated(kept, superseded)


def adjusted_hourly_spend(*, spend: Mapping[str, pd.Series], kept: Iterable[Recommendation]) -> pd.Series:
    """Hourly on-demand spend of all resources after the kept recommendations are carried out.

    Idle, unattached and spot resources leave nothing to commit to; a schedule zeroes the off hours; a resize
    scales spend by new/old hourly price when both are known, else subtracts its savings evenly (floored at 0).
    """
    by_resource = {r.resource_id: r for r in kept if r.kind in PRIORITY and r.monthly_savings_list > 0}
    parts = {}
    for rid, series in spend.items():
        s = as_utc_series(series)
        rec = by_resource.get(rid)
        if rec is None:
            parts[rid] = s
        elif rec.kind in REMOVES_SPEND:
            parts[rid] = s * 0.0
        elif rec.kind == "schedule":
            parts[rid] = s.where(is_on(rec.proposed, pd.DatetimeIndex(s.index)), 0.0)
        else:
            parts[rid] = _resized(s, rec)
    if not parts:
        return pd.Series(dtype="float64", index=pd.DatetimeIndex([], tz="UTC"))
    return pd.concat(parts, axis=1).fillna(0.0).sum(axis=1)


def _resized(spend: pd.Series, rec: Recommendation) -> pd.Series:
    old, new = rec.current.get("hourly"), rec.proposed.get("hourly")
    if isinstance(old, int | float) and isinstance(new, int | float) and old > 0:
        return spend * (new / old)
    return (spend - rec.monthly_savings_list / HOURS_PER_MONTH).clip(lower=0.0)


def _why(loser: Recommendation, winner: Recommendation) -> str:
    if winner.kind == "commitment":
        return (
            f"an alternative to the {winner.proposed.get('term', '')} commitment saving "
            f"${winner.monthly_savings_list:.2f} a month on the same spend; only one can be bought"
        )
    return (
        f"superseded by the {winner.kind} recommendation on the same resource (${winner.monthly_savings_list:.2f} "
        f"a month); its ${loser.monthly_savings_list:.2f} would count the same spend twice"
    )
