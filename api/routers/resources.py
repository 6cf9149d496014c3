"""GET /api/resources: the inventory, filtered and paginated on the server."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from api.deps import CurrentPrincipal, SessionDep
from api.schemas import ResourcePage, ResourceRead
from services.resources import get_resource, list_resources

router = APIRouter(prefix="/resources", tags=["resources"])


@router.get("", response_model=ResourcePage)
def read_resources(
    session: SessionDep,
    _: CurrentPrincipal,
    provider: str | None = None,
    environment: str | None = None,
    account: str | None = None,
    region: str | None = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in name, id or instance type")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> ResourcePage:
    rows, total = list_resources(
        session, provider=provider, environment=environment, account=account, region=region, q=q, page=page, size=size
    )
    return ResourcePage(items=[ResourceRead.model_validate(r) for r in rows], total=total, page=page, size=size)


@router.get("/{resource_pk}", response_model=ResourceRead)
def read_resource(resource_pk: int, session: SessionDep, _: CurrentPrincipal) -> ResourceRead:
    row = get_resource(session, resource_pk)
    if row is None:
        raise HTTPException(404, f"no resource with id {resource_pk}: list them with GET /api/resources")
    return ResourceRead.model_validate(row)
