"""GET /api/resources (the inventory) and GET /api/fleet (the SRE table with usage), filtered and paginated."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from api.deps import CurrentPrincipal, MetricStoreDep, RowId, SessionDep
from api.schemas import ResourcePage, ResourceRead
from api.schemas_dashboard import FleetPage, FleetRow
from services.fleet import SORTS, FleetQueryError, list_fleet
from services.resources import get_resource, list_resources

router = APIRouter(tags=["resources"])


@router.get("/resources", response_model=ResourcePage)
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


@router.get("/resources/{resource_pk}", response_model=ResourceRead)
def read_resource(resource_pk: RowId, session: SessionDep, _: CurrentPrincipal) -> ResourceRead:
    row = get_resource(session, resource_pk)
    if row is None:
        raise HTTPException(404, f"no resource with id {resource_pk}: list them with GET /api/resources")
    return ResourceRead.model_validate(row)


@router.get("/fleet", response_model=FleetPage)
def read_fleet(
    session: SessionDep,
    store: MetricStoreDep,
    _: CurrentPrincipal,
    provider: str | None = None,
    environment: str | None = None,
    account: str | None = None,
    region: str | None = None,
    tag: Annotated[str | None, Query(max_length=200, pattern=r"^[^=]+(=.*)?$",
                                    description="key or key=value; the key must be on some resource")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Text in name, id or instance type")] = None,
    sort: Annotated[str, Query(pattern=f"^-?({'|'.join(SORTS)})$",
                               description=f"One of {', '.join(SORTS)}; prefix - for descending")] = "name",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> FleetPage:
    try:
        entries, total = list_fleet(
            session, store, provider=provider, environment=environment, account=account, region=region, tag=tag,
            q=q, sort=sort.removeprefix("-"), descending=sort.startswith("-"), page=page, size=size,
        )
    except FleetQueryError as exc:
        raise HTTPException(422, str(exc)) from exc
    items = [
        FleetRow.model_validate(
            {
                **ResourceRead.model_validate(e.resource).model_dump(),
                "cpu_p95_7d": e.cpu_p95_7d,
                "memory_p95_7d": e.memory_p95_7d,
                "forecast_peak_14d": e.forecast_peak_14d,
                "forecast_metric": e.forecast_metric,
                "last_data_at": e.last_data_at,
                "open_recommendations": e.open_recommendations,
            }
        )
        for e in entries
    ]
    return FleetPage(items=items, total=total, page=page, size=size, sort=sort)
