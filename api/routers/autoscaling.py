"""GET /api/autoscaling/groups and GET /api/autoscaling/groups/{id}/plan: scalable groups and their plans."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from api.deps import CurrentPrincipal, MetricStoreDep, SessionDep
from api.schemas_autoscaling import (
    AutoscalingGroupPage,
    AutoscalingGroupRead,
    AutoscalingPlanRead,
    PlanBlockRead,
    ReplayRowRead,
    ReplaySeriesRead,
)
from services.autoscaling.inventory import GroupError, group_plan, list_groups, size_tag
from services.autoscaling.settings import ScalingSettings
from services.db.models import ResourceRow

router = APIRouter(tags=["autoscaling"])


def _group(row: ResourceRow) -> AutoscalingGroupRead:
    sizes = {k: size_tag(row.tags, k) for k in ("min_size", "max_size")}
    return AutoscalingGroupRead(id=row.id, resource_id=row.resource_id, provider=row.provider, name=row.name,
                                kind=row.kind, region=row.region, instance_type=row.instance_type,
                                hourly_price=row.hourly_price, **sizes)


@router.get("/autoscaling/groups", response_model=AutoscalingGroupPage)
def read_groups(session: SessionDep, _: CurrentPrincipal) -> AutoscalingGroupPage:
    items = [_group(row) for row in list_groups(session)]
    return AutoscalingGroupPage(items=items, total=len(items))


@router.get("/autoscaling/groups/{group_pk}/plan", response_model=AutoscalingPlanRead)
def read_group_plan(
    group_pk: int,
    session: SessionDep,
    store: MetricStoreDep,
    _: CurrentPrincipal,
    risk: Annotated[float, Query(gt=0, lt=0.5, description="Risk of under-provisioning per hour")] = 0.05,
) -> AutoscalingPlanRead:
    try:
        view = group_plan(session, store, group_pk, settings=ScalingSettings(risk=risk), now=datetime.now(UTC))
    except GroupError as exc:
        raise HTTPException(404, str(exc)) from exc
    plan = view.planned.plan
    return AutoscalingPlanRead(
        group=_group(view.group), start=plan.start, hourly=list(plan.hourly),
        blocks=[PlanBlockRead(start=b.start, end=b.end, instances=b.instances) for b in plan.blocks()],
        risk=risk, target_utilisation=plan.target_utilisation, cooldown_seconds=plan.cooldown_seconds,
        warmup_seconds=plan.warmup_seconds, reaches_max=view.max_size_known and plan.reaches_max,
        plan=view.planned.choice.describe(),
        replay=[ReplayRowRead(policy=str(policy), cost=row["cost"], under_provisioned=row["under_provisioned"],
                              unserved=row["unserved"], utilisation=row["utilisation"], actions=int(row["actions"]))
                for policy, row in view.replay.iterrows()],
        replay_series=ReplaySeriesRead(
            timestamps=[t.to_pydatetime() for t in view.series.index],
            demand=[None if math.isnan(v) else round(v, 3) for v in view.series["demand"]],
            plan=view.series["plan"].tolist(), reactive=view.series["reactive"].tolist(),
        ),
    )
