"""Money both ways for a stored recommendation: its signed monthly cost change, what it does to risk in words, and
the names of the resources recommendations point at (so every item names and links its resource)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.db.models import RecommendationRow, ResourceRow

RISK_WORDS = ("none", "low", "medium", "elevated", "high")


def monthly_cost_change(row: RecommendationRow) -> float:
    """USD a month the change adds (positive: an upsize or scale-out) or removes (negative: a saving), effective."""
    proposed: Mapping[str, Any] = row.proposed or {}
    change = proposed.get("monthly_cost_change_effective")
    if isinstance(change, int | float):
        return round(float(change), 2)
    return -round(float(row.monthly_savings_effective or 0.0), 2)


def _percent_of(values: Mapping[str, Any], prefix: str) -> float | None:
    for key, value in values.items():
        if key.startswith(prefix) and isinstance(value, int | float):
            return float(value)
    return None


def risk_change(row: RecommendationRow) -> str:
    """What the change does to performance risk: what an upsize prevents, or the risk a saving takes on."""
    evidence: Mapping[str, Any] = row.evidence or {}
    observed: Mapping[str, Any] = evidence.get("observed") or {}
    projected: Mapping[str, Any] = evidence.get("projected_utilisation") or {}
    peak: Mapping[str, Any] = evidence.get("forecast_peak") or {}
    if row.kind == "runway":
        if row.finding == "at_risk":
            return "acting on it prevents running out of capacity inside the lead time"
        return "nothing to prevent: it stays below its threshold inside the lead time"
    if monthly_cost_change(row) > 0 or row.finding == "under_provisioned":
        parts = []
        for label, prefix in (("CPU", "cpu"), ("memory", "mem")):
            before = _percent_of(peak, prefix) or _percent_of(observed, prefix)
            after = _percent_of(projected, prefix)
            if before is not None and after is not None and before > after:
                parts.append(f"{label} {before:.0f}% now or forecast, {after:.0f}% after")
        return "prevents saturation: " + ("; ".join(parts) if parts else "more capacity than the usage needs")
    level = RISK_WORDS[row.risk] if 0 <= row.risk < len(RISK_WORDS) else str(row.risk)
    shares = [f"{k} {float(v):.0f}%" for k, v in projected.items() if isinstance(v, int | float)]
    return f"performance risk {level} after the change" + (f" (projected {', '.join(shares)})" if shares else "")


def resource_names(session: Session, pks: Iterable[int | None]) -> dict[int, str]:
    """Names of the resources with these primary keys (the others are groups, commitments or budgets)."""
    wanted = {pk for pk in pks if pk is not None}
    if not wanted:
        return {}
    rows = session.execute(select(ResourceRow.id, ResourceRow.name).where(ResourceRow.id.in_(wanted)))
    return {int(pk): str(name) for pk, name in rows}
