"""Queries over the resource inventory: filtered, paginated listing and lookup."""

from __future__ import annotations

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from services.db.models import ResourceRow


def list_resources(
    session: Session,
    *,
    provider: str | None = None,
    environment: str | None = None,
    account: str | None = None,
    region: str | None = None,
    q: str | None = None,
    page: int = 1,
    size: int = 50,
) -> tuple[list[ResourceRow], int]:
    """One page of resources matching every filter, ordered by provider and name, and the total."""
    stmt = filtered_resources(provider=provider, environment=environment, account=account, region=region, q=q)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(
        stmt.order_by(ResourceRow.provider, ResourceRow.name, ResourceRow.id).offset((page - 1) * size).limit(size)
    )
    return list(rows), int(total)


def filtered_resources(
    *,
    provider: str | None = None,
    environment: str | None = None,
    account: str | None = None,
    region: str | None = None,
    q: str | None = None,
) -> Select[ResourceRow]:
    """The SELECT of resources matching every given filter (exact values; q is a substring of name, id or type)."""
    stmt = select(ResourceRow)
    for column, value in (
        (ResourceRow.provider, provider),
        (ResourceRow.environment, environment),
        (ResourceRow.account, account),
        (ResourceRow.region, region),
    ):
        if value:
            stmt = stmt.where(column == value)
    if q:
        like = f"%{q.lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(ResourceRow.name).like(like),
                func.lower(ResourceRow.resource_id).like(like),
                func.lower(ResourceRow.instance_type).like(like),
            )
        )
    return stmt


def get_resource(session: Session, resource_pk: int) -> ResourceRow | None:
    return session.get(ResourceRow, resource_pk)
