"""Recommendations with their evidence and lifecycle, capacity runway, what-if scenarios, the executive summary."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, status
from sqlalchemy.orm import object_session

from api.deps import CurrentPrincipal, EditorPrincipal, MetricStoreDep, RowId, SessionDep, SettingsDep
from api.schemas_recommend import (
    DismissBody,
    RecommendationDetail,
    RecommendationEventRead,
    RecommendationPage,
    RecommendationRead,
    RecommenderKindRead,
    RefreshRead,
    RunwayPage,
    RunwayRead,
    ScenarioCompare,
    ScenarioCreate,
    ScenarioPage,
    ScenarioRead,
    ScenarioSpec,
    SkipPage,
    SkipRead,
    SummaryRead,
    TransitionBody,
)
from collector.catalog import Catalog
from services.auth import Principal
from services.db.models import RecommendationRow, ScenarioRow
from services.plugins import PluginError
from services.recommend import scenario_store, store
from services.recommend.config import GROUP_FIELDS
from services.recommend.engine import run_fleet
from services.recommend.money import monthly_cost_change, resource_names, risk_change
from services.recommend.outcomes import VerificationError, summary, verify
from services.recommend.registry import RECOMMENDERS, check_kinds
from services.recommend.store import LifecycleError, NotFoundError

MAX_RUNWAY_KEYS = 200
GROUP_PATTERN = f"^({'|'.join(GROUP_FIELDS)}|tag:.+)$"
router = APIRouter(tags=["recommendations"])


def _read(row: RecommendationRow, names: dict[int, str] | None = None) -> RecommendationRead:
    """A stored recommendation with its money both ways and its resource's name (looked up when not given)."""
    if names is None:
        session = object_session(row)
        names = resource_names(session, [row.resource_pk]) if session is not None else {}
    return RecommendationRead.model_validate(row).model_copy(
        update={
            "resource_name": names.get(row.resource_pk) if row.resource_pk is not None else None,
            "monthly_cost_change": monthly_cost_change(row),
            "risk_change": risk_change(row),
        }
    )


def _actor(principal: Principal) -> str:
    return f"{principal.email} ({principal.token_name})"


@router.get("/recommendations/kinds", response_model=list[RecommenderKindRead])
def read_recommendation_kinds(_: CurrentPrincipal) -> list[RecommenderKindRead]:
    """Every kind of recommendation this deployment makes, built-in or from a plug-in package (its filter)."""
    return [
        RecommenderKindRead(kind=kind, label=p.label, description=p.description, plugin=p.recommend is not None)
        for kind, p in RECOMMENDERS
    ]


@router.get("/recommendations", response_model=RecommendationPage)
def read_recommendations(
    session: SessionDep,
    _: CurrentPrincipal,
    kind: Annotated[
        list[str] | None, Query(description="Repeat for several; GET /api/recommendations/kinds lists them")
    ] = None,
    status_: Annotated[
        list[str] | None,
        Query(alias="status", description="open, accepted, implemented, verified, dismissed; repeat for several"),
    ] = None,
    resource: Annotated[str | None, Query(max_length=400, description="Text in the resource key")] = None,
    min_savings: Annotated[float | None, Query(ge=0, description="Least effective monthly savings, USD")] = None,
    sort: Annotated[
        str, Query(description="savings, savings_list, risk, created, updated, kind, id; '-' first for descending")
    ] = "-savings",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    size: Annotated[int, Query(ge=1, le=500)] = 50,
) -> RecommendationPage:
    try:
        check_kinds(kind or ())
    except PluginError as exc:
        raise HTTPException(422, f"query parameter 'kind': {exc}") from None
    try:
        rows, total = store.list_recommendations(
            session,
            kinds=kind or (),
            statuses=status_ or (),
            resource=resource,
            min_savings=min_savings,
            sort=sort,
            page=page,
            size=size,
        )
    except ValueError as exc:
        raise HTTPException(422, str(exc)) from exc
    names = resource_names(session, [r.resource_pk for r in rows])
    return RecommendationPage(items=[_read(r, names) for r in rows], total=total, page=page, size=size)


@router.get("/recommendations/skipped", response_model=SkipPage)
def read_skipped(
    session: SessionDep,
    _: CurrentPrincipal,
    resource: Annotated[str | None, Query(max_length=400)] = None,
    kind: str | None = None,
) -> SkipPage:
    """Why the last refresh made no recommendation: too little data, an HPA, production, superseded..."""
    return SkipPage(items=[SkipRead.model_validate(r) for r in store.skipped(session, resource=resource, kind=kind)])


@router.post("/recommendations/refresh", response_model=RefreshRead)
def refresh(session: SessionDep, metrics: MetricStoreDep, settings: SettingsDep, _: EditorPrincipal) -> RefreshRead:
    """Re-run every recommender over the fleet now; open ones are updated, others keep their status."""
    run = run_fleet(
        session=session,
        store=metrics,
        catalog=Catalog.load(settings.recommend.catalog_path),
        settings=settings.recommend,
        now=datetime.now(UTC),
        locked=store.locked_resources(session),
    )
    return RefreshRead(**store.save_run(session, run).as_dict())


@router.get("/recommendations/{rec_id:int}", response_model=RecommendationDetail)
def read_recommendation(rec_id: RowId, session: SessionDep, _: CurrentPrincipal) -> RecommendationDetail:
    try:
        row = store.get_recommendation(session, rec_id)
    except NotFoundError as exc:
        raise HTTPException(404, str(exc)) from exc
    events = [RecommendationEventRead.model_validate(e) for e in store.history(session, rec_id)]
    return RecommendationDetail(**_read(row).model_dump(), history=events)


def _move(session: SessionDep, rec_id: int, to: store.Status, principal: Principal, note: str) -> RecommendationRead:
    try:
        return _read(store.transition(session, rec_id, to, actor=_actor(principal), now=datetime.now(UTC), note=note))
    except NotFoundError as exc:
        raise HTTPException(404, str(exc)) from exc
    except LifecycleError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc


@router.post("/recommendations/{rec_id:int}/accept", response_model=RecommendationRead)
def accept(
    rec_id: RowId, session: SessionDep, principal: EditorPrincipal, body: TransitionBody | None = None
) -> RecommendationRead:
    return _move(session, rec_id, "accepted", principal, body.note if body else "")


@router.post("/recommendations/{rec_id:int}/implement", response_model=RecommendationRead)
def implement(
    rec_id: RowId, session: SessionDep, principal: EditorPrincipal, body: TransitionBody | None = None
) -> RecommendationRead:
    return _move(session, rec_id, "implemented", principal, body.note if body else "")


@router.post("/recommendations/{rec_id:int}/dismiss", response_model=RecommendationRead)
def dismiss(rec_id: RowId, body: DismissBody, session: SessionDep, principal: EditorPrincipal) -> RecommendationRead:
    if not body.reason.strip():
        raise HTTPException(422, "body field 'reason': say why the recommendation does not apply")
    return _move(session, rec_id, "dismissed", principal, body.reason)


@router.post("/recommendations/{rec_id:int}/verify", response_model=RecommendationRead)
def verify_savings(
    rec_id: RowId, session: SessionDep, settings: SettingsDep, principal: EditorPrincipal
) -> RecommendationRead:
    """Measure realised savings from billing after the implementation (or the changed inventory) and verify."""
    try:
        row = verify(
            session,
            rec_id,
            actor=_actor(principal),
            now=datetime.now(UTC),
            min_days=settings.recommend.verify_min_days,
            catalog=Catalog.load(settings.recommend.catalog_path),
        )
    except NotFoundError as exc:
        raise HTTPException(404, str(exc)) from exc
    except LifecycleError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    except VerificationError as exc:
        raise HTTPException(422, str(exc)) from exc
    return _read(row)


@router.get("/runway", response_model=RunwayPage)
def read_runway(
    session: SessionDep,
    _: CurrentPrincipal,
    group_by: Annotated[
        str | None, Query(pattern=GROUP_PATTERN, max_length=200,
                          description=f"Only groups of this dimension: {', '.join(GROUP_FIELDS)} or tag:<name>")
    ] = None,
    metric: str | None = None,
    flagged: Annotated[bool, Query(description="Only runways shorter than the procurement lead time")] = False,
    resource: Annotated[str | None, Query(max_length=400, description="Resources whose key contains this")] = None,
    resource_key: Annotated[
        list[str] | None, Query(max_length=MAX_RUNWAY_KEYS, description="Only these resources (provider:resource_id); "
                                f"repeat for up to {MAX_RUNWAY_KEYS}, the rows of one fleet page")
    ] = None,
    limit: Annotated[int | None, Query(ge=1, le=1000, description="At most this many of each kind, most severe first")]
    = None,
) -> RunwayPage:
    """P50/P90 days until each threshold, per resource, per group and per budget, from the last refresh, most severe
    first."""
    found = store.runways(
        session, group_by=group_by, metric=metric, flagged=flagged, resource=resource, resource_keys=resource_key or (),
        limit=limit,
    )
    return RunwayPage(
        resources=[RunwayRead(**r) for r in found.resources],
        resource_total=found.resource_total,
        groups=[RunwayRead(**g) for g in found.groups],
        budgets=[RunwayRead(**b) for b in found.budgets],
    )


def _scenario(row: ScenarioRow) -> ScenarioRead:
    return ScenarioRead(
        id=row.id,
        name=row.name,
        description=row.description,
        spec=ScenarioSpec(**row.spec),
        created_by=row.created_by,
        created_at=row.created_at,
    )


@router.get("/scenarios", response_model=ScenarioPage)
def read_scenarios(session: SessionDep, _: CurrentPrincipal) -> ScenarioPage:
    return ScenarioPage(items=[_scenario(r) for r in scenario_store.list_scenarios(session)])


@router.post("/scenarios", response_model=ScenarioRead, status_code=status.HTTP_201_CREATED)
def create_scenario(body: ScenarioCreate, session: SessionDep, principal: EditorPrincipal) -> ScenarioRead:
    spec = ScenarioSpec(**body.model_dump(exclude={"name", "description"})).model_dump(mode="json")
    try:
        row = scenario_store.create_scenario(
            session,
            name=body.name,
            description=body.description,
            spec=spec,
            actor=_actor(principal),
            now=datetime.now(UTC),
        )
    except scenario_store.ScenarioError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return _scenario(row)


@router.get("/scenarios/{scenario_id}", response_model=ScenarioRead)
def read_scenario(scenario_id: RowId, session: SessionDep, _: CurrentPrincipal) -> ScenarioRead:
    try:
        return _scenario(scenario_store.get_scenario(session, scenario_id))
    except scenario_store.ScenarioNotFound as exc:
        raise HTTPException(404, str(exc)) from exc


@router.delete("/scenarios/{scenario_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_scenario(scenario_id: RowId, session: SessionDep, _: EditorPrincipal) -> None:
    try:
        scenario_store.delete_scenario(session, scenario_id)
    except scenario_store.ScenarioNotFound as exc:
        raise HTTPException(404, str(exc)) from exc


@router.get("/scenarios/{scenario_id}/compare", response_model=ScenarioCompare)
def compare(
    scenario_id: RowId, session: SessionDep, metrics: MetricStoreDep, settings: SettingsDep, _: CurrentPrincipal
) -> ScenarioCompare:
    """Capacity and cost per month of the scenario against the baseline (the fleet as it is, unchanged)."""
    try:
        row = scenario_store.get_scenario(session, scenario_id)
        comparison, base, start = scenario_store.compare_scenario(
            session, metrics, Catalog.load(settings.recommend.catalog_path), row=row, now=datetime.now(UTC)
        )
    except scenario_store.ScenarioNotFound as exc:
        raise HTTPException(404, str(exc)) from exc
    except scenario_store.ScenarioError as exc:
        raise HTTPException(422, str(exc)) from exc
    return ScenarioCompare(scenario=_scenario(row), **scenario_store.comparison_view(comparison, base, start))


@router.get("/summary", response_model=SummaryRead)
def read_summary(session: SessionDep, _: CurrentPrincipal) -> SummaryRead:
    """Identified vs realised savings by kind (never counted twice), next quarter's forecast spend, month to date."""
    return SummaryRead.model_validate(summary(session, now=datetime.now(UTC)))
