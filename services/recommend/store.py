"""Stored recommendations: idempotent refresh, listing, and the lifecycle open → accepted → implemented → verified."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, NamedTuple

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from services.db.models import RecommendationEventRow, RecommendationRow, RecommendationSkipRow, ResourceRow
from services.recommend.base import Recommendation
from services.recommend.engine import FleetRun
from services.recommend.runway_severity import with_severity

Status = Literal["open", "accepted", "implemented", "verified", "dismissed"]
STATUSES: tuple[Status, ...] = ("open", "accepted", "implemented", "verified", "dismissed")
TRANSITIONS: dict[str, tuple[Status, ...]] = {
    "open": ("accepted", "dismissed"),
    "accepted": ("implemented", "dismissed"),
    "implemented": ("verified",),
    "verified": (),
    "dismissed": (),
}
IN_PROGRESS = ("accepted", "implemented")  # their resource is locked: new savings on it are not counted
SORTS = {
    "savings": RecommendationRow.monthly_savings_effective,
    "savings_list": RecommendationRow.monthly_savings_list,
    "risk": RecommendationRow.risk,
    "created": RecommendationRow.created_at,
    "updated": RecommendationRow.updated_at,
    "kind": RecommendationRow.kind,
    "id": RecommendationRow.id,
}


class LifecycleError(ValueError):
    """A status change that the lifecycle does not allow; the message says which ones are."""


class NotFoundError(LookupError):
    """No recommendation with that id."""


@dataclass(frozen=True)
class RefreshResult:
    created: int
    updated: int
    kept: int  # accepted/implemented/verified/dismissed rows seen again, left as they are
    removed: int  # open rows the refresh no longer produced
    skipped: int

    def as_dict(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "kept": self.kept,
            "removed": self.removed,
            "skipped": self.skipped,
        }


def dedupe_key(kind: str, resource_key: str, rec: Recommendation) -> str:
    """One row per kind and resource (per metric for runway): re-running updates it instead of adding one."""
    variant = str(rec.current.get("metric", "")) if kind == "runway" else ""
    return hashlib.sha256(f"{kind}|{resource_key}|{variant}".encode()).hexdigest()


def locked_resources(session: Session) -> dict[str, tuple[str, str]]:
    """Resource keys with an accepted or implemented saving: its kind, and why other savings on them are set aside."""
    rows = session.scalars(
        select(RecommendationRow).where(
            RecommendationRow.status.in_(IN_PROGRESS), RecommendationRow.monthly_savings_list > 0
        )
    )
    return {
        r.resource_key: (
            r.kind,
            f"the {r.status} {r.kind} recommendation #{r.id} already covers this resource; "
            "a new saving on it would count the same spend twice",
        )
        for r in rows
    }


def save_run(session: Session, run: FleetRun) -> RefreshResult:
    """Upsert a fleet run: open rows are updated in place, others keep their status; stale open rows go."""
    now = run.now
    assert now is not None
    existing = {r.dedupe_key: r for r in session.scalars(select(RecommendationRow))}
    seen: set[str] = set()
    created = updated = kept = 0
    for resource_key, rec in run.recommendations:
        key = dedupe_key(rec.kind, resource_key, rec)
        if key in seen:
            continue
        seen.add(key)
        row = existing.get(key)
        if row is None:
            row = RecommendationRow(
                dedupe_key=key, resource_key=resource_key, kind=rec.kind, status="open", created_at=now
            )
            session.add(row)
            created += 1
        elif row.status == "open":
            updated += 1
        else:
            row.last_seen_at = now
            kept += 1
            continue
        _fill(row, rec, run.resource_pks.get(resource_key), now)
    stale = [r.id for k, r in existing.items() if r.status == "open" and k not in seen]
    if stale:
        session.execute(delete(RecommendationRow).where(RecommendationRow.id.in_(stale)))
    session.execute(delete(RecommendationSkipRow))
    session.add_all(
        RecommendationSkipRow(resource_key=key, kind=skip.kind, reason=skip.reason, refreshed_at=now)
        for key, skip in run.skipped
    )
    session.flush()
    return RefreshResult(created, updated, kept, len(stale), len(run.skipped))


def _fill(row: RecommendationRow, rec: Recommendation, resource_pk: int | None, now: datetime) -> None:
    evidence = rec.evidence.as_dict()
    row.resource_pk = resource_pk
    row.finding = rec.finding
    row.title = rec.title[:255]
    row.monthly_savings_list = round(rec.monthly_savings_list, 2)
    row.monthly_savings_effective = round(rec.monthly_savings_effective, 2)
    row.risk = rec.evidence.risk
    row.evidence = evidence
    row.reasons = list(rec.evidence.reasons)
    row.current = _plain(rec.current)
    row.proposed = _plain(rec.proposed)
    row.alternatives = [_plain(a) for a in rec.alternatives]
    row.last_seen_at = now
    row.updated_at = now


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe copy: numpy scalars to Python numbers."""
    out: dict[str, Any] = {}
    for k, v in data.items():
        if hasattr(v, "item") and not isinstance(v, list | dict | str):
            v = v.item()
        out[k] = v
    return out


def list_recommendations(
    session: Session,
    *,
    kinds: Sequence[str] = (),
    statuses: Sequence[str] = (),
    resource: str | None = None,
    min_savings: float | None = None,
    sort: str = "-savings",
    page: int = 1,
    size: int = 50,
) -> tuple[list[RecommendationRow], int]:
    """One page of recommendations matching every filter and the total; sort by a SORTS name, '-' descending."""
    name = sort.lstrip("-")
    if name not in SORTS:
        raise ValueError(f"unknown sort {sort!r}: use one of {', '.join(SORTS)}, with '-' for descending")
    query = select(RecommendationRow)
    if kinds:
        query = query.where(RecommendationRow.kind.in_(list(kinds)))
    if statuses:
        unknown = set(statuses) - set(STATUSES)
        if unknown:
            raise ValueError(f"unknown status {sorted(unknown)[0]!r}: use one of {', '.join(STATUSES)}")
        query = query.where(RecommendationRow.status.in_(list(statuses)))
    if resource:
        query = query.where(RecommendationRow.resource_key.contains(resource, autoescape=True))
    if min_savings is not None:
        query = query.where(RecommendationRow.monthly_savings_effective >= min_savings)
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    column = SORTS[name]
    order = column.desc() if sort.startswith("-") else column.asc()
    rows = session.scalars(query.order_by(order, RecommendationRow.id).offset((page - 1) * size).limit(size))
    return list(rows), total


def get_recommendation(session: Session, rec_id: int) -> RecommendationRow:
    row = session.get(RecommendationRow, rec_id)
    if row is None:
        raise NotFoundError(f"no recommendation with id {rec_id}: list them with GET /api/recommendations")
    return row


def history(session: Session, rec_id: int) -> list[RecommendationEventRow]:
    query = select(RecommendationEventRow).where(RecommendationEventRow.recommendation_id == rec_id)
    return list(session.scalars(query.order_by(RecommendationEventRow.at, RecommendationEventRow.id)))


def transition(
    session: Session, rec_id: int, to: Status, *, actor: str, now: datetime, note: str = ""
) -> RecommendationRow:
    """Move a recommendation to `to` if the lifecycle allows it, recording who and when; LifecycleError otherwise."""
    row = get_recommendation(session, rec_id)
    allowed = TRANSITIONS[row.status]
    if to not in allowed:
        nexts = ", ".join(allowed) if allowed else "nothing (it is final)"
        raise LifecycleError(
            f"recommendation {rec_id} is {row.status}; it cannot become {to}. From {row.status} it can become {nexts}"
        )
    if to == "dismissed" and not note.strip():
        raise LifecycleError("dismissing needs a reason: say why the recommendation does not apply")
    session.add(
        RecommendationEventRow(
            recommendation_id=row.id, from_status=row.status, to_status=to, actor=actor, note=note, at=now
        )
    )
    row.status = to
    setattr(row, f"{to}_at", now)
    if to == "dismissed":
        row.dismissed_reason = note.strip()
    row.updated_at = now
    session.flush()
    return row


def skipped(session: Session, *, resource: str | None = None, kind: str | None = None) -> list[RecommendationSkipRow]:
    """Why the last refresh made no recommendation (of `kind`) for resources matching `resource`."""
    query = select(RecommendationSkipRow)
    if resource:
        query = query.where(RecommendationSkipRow.resource_key.contains(resource, autoescape=True))
    if kind:
        query = query.where(RecommendationSkipRow.kind == kind)
    return list(session.scalars(query.order_by(RecommendationSkipRow.resource_key, RecommendationSkipRow.kind)))


def runway_view(row: RecommendationRow) -> dict[str, Any]:
    """A stored runway recommendation as the flat record the API and CLI show."""
    p, c = row.proposed, row.current
    return {
        "id": row.id,
        "resource_key": row.resource_key,
        "metric": str(c.get("metric", "")),
        "current": c.get("value"),
        "threshold": float(c.get("threshold", 0.0)),
        "p50_days": p.get("p50_days"),
        "p90_days": p.get("p90_days"),
        "horizon_days": float(p.get("horizon_days", 0.0)),
        "lead_time_days": float(p.get("lead_time_days", 0.0)),
        "flagged": bool(p.get("flagged")),
        "method": str(p.get("method", "")),
        "routine_hours": [int(h) for h in p.get("routine_hours", [])],
        "title": row.title,
    }


class Runways(NamedTuple):
    """The runways of the last refresh, each list most severe first; `resource_total` counts resources' runways
    before `limit` cut them."""

    resources: list[dict[str, Any]]
    groups: list[dict[str, Any]]
    budgets: list[dict[str, Any]]
    resource_total: int


def runways(
    session: Session,
    *,
    group_by: str | None = None,
    metric: str | None = None,
    flagged: bool = False,
    resource: str | None = None,
    resource_keys: Sequence[str] = (),
    limit: int | None = None,
) -> Runways:
    """(per resource, per group, per budget) runways of the last refresh with their severity, most severe first
    (services.recommend.runway_severity); groups of `group_by` only; of the resources whose key contains `resource`
    or is one of `resource_keys`; at most `limit` of each kind. Two queries whatever the fleet's size."""
    query = (
        select(RecommendationRow, ResourceRow.name)
        .outerjoin(ResourceRow, ResourceRow.id == RecommendationRow.resource_pk)
        .where(RecommendationRow.kind == "runway")
    )
    if resource:
        query = query.where(RecommendationRow.resource_key.contains(resource, autoescape=True))
    if resource_keys:
        query = query.where(RecommendationRow.resource_key.in_(sorted(set(resource_keys))))
    found = session.execute(query.order_by(RecommendationRow.resource_key, RecommendationRow.id))
    items = [{**runway_view(row), "resource_name": name or None} for row, name in found]
    items = [i for i in items if (not metric or i["metric"] == metric) and (not flagged or i["flagged"])]
    items = with_severity(session, items)
    groups = [i for i in items if i["resource_key"].startswith("group:")]
    if group_by:
        groups = [g for g in groups if g["resource_key"].startswith(f"group:{group_by}=")]
    budgets = [i for i in items if i["resource_key"].startswith("budget:")]
    resources = [i for i in items if not i["resource_key"].startswith(("group:", "budget:"))]
    return Runways(resources[:limit], groups[:limit], budgets[:limit], len(resources))


VIEW_FIELDS = (
    "id", "kind", "resource_key", "resource_pk", "finding", "status", "title", "monthly_savings_list",
    "monthly_savings_effective", "risk", "evidence", "reasons", "current", "proposed", "alternatives",
    "dismissed_reason", "realised_savings_monthly", "realised_detail", "created_at", "updated_at", "last_seen_at",
    "accepted_at", "implemented_at", "verified_at", "dismissed_at",
)  # fmt: skip


def recommendation_view(row: RecommendationRow) -> dict[str, Any]:
    """A stored recommendation as plain data (the fields of the API's RecommendationRead)."""
    return {name: getattr(row, name) for name in VIEW_FIELDS}
