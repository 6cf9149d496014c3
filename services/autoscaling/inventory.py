"""The inventory's scalable groups, and one group's plan from its stored CPU: what the API and the recommender serve."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.autoscaling.baselines import reactive
from services.autoscaling.group import GroupPlan, plan_group
from services.autoscaling.settings import ScalingSettings
from services.autoscaling.trace import split_trace
from services.benchmarks.autoscale_eval import evaluate
from services.db.models import ResourceRow
from services.metrics.base import MetricStore
from services.recommend.inputs import read_usage

SCALABLE_KINDS = ("asg", "instance_group", "scale_set", "deployment")  # groups a platform scales
HISTORY_DAYS = 35  # the week replayed and the 28 days its plan is chosen on
UNBOUNDED = 100_000  # the maximum size of a group whose collector did not report one


class GroupError(LookupError):
    """No such group, or not enough of its data to plan; the message says which and what to do."""


@dataclass(frozen=True)
class GroupPlanView:
    """A group's 48-hour plan, and the replay of its last week that backs it."""

    group: ResourceRow
    planned: GroupPlan
    replay: pd.DataFrame  # one row per policy: cost, under_provisioned, unserved, utilisation, actions
    max_size_known: bool
    series: pd.DataFrame  # the replayed week per step: demand in instances (demand / C), plan, reactive


def list_groups(session: Session) -> list[ResourceRow]:
    """Every scalable group of the inventory, by provider and name."""
    stmt = select(ResourceRow).where(ResourceRow.kind.in_(SCALABLE_KINDS)).order_by(ResourceRow.provider,
                                                                                    ResourceRow.name)
    return list(session.scalars(stmt))


def size_tag(tags: dict[str, str] | None, key: str) -> int | None:
    """A group's min_size or max_size as its collector tagged it (headroom:<key>), None when not known."""
    value = (tags or {}).get(f"headroom:{key}", "")
    return int(value) if value.isdigit() else None


def group_plan(
    session: Session, store: MetricStore, group_pk: int, *, settings: ScalingSettings, now: datetime
) -> GroupPlanView:
    """Plan group `group_pk`'s next 48 hours from its CPU (as demand) and replay its last week through the policy
    and the baselines; its size limits come from the collector's headroom:min_size / max_size tags."""
    row = session.get(ResourceRow, group_pk)
    if row is None or row.kind not in SCALABLE_KINDS:
        raise GroupError(f"no scalable group with id {group_pk}: list them with GET /api/autoscaling/groups")
    cpu = read_usage(store, row.resource_id, "cpu_utilization", start=now - timedelta(days=HISTORY_DAYS), end=now)
    if cpu is None or cpu.dropna().size < 2:
        raise GroupError(f"group {row.name}: no CPU usage stored; collect its metrics first (headroom collect)")
    max_size = size_tag(row.tags, "max_size")
    sized = settings.model_copy(update={"min_instances": size_tag(row.tags, "min_size") or settings.min_instances})
    try:
        trace = split_trace(row.name, cpu)
        planned = plan_group(row.name, cpu, settings=sized, max_size=max_size or UNBOUNDED)
    except ValueError as exc:  # TraceError, PlanError: too short, no positive demand
        raise GroupError(f"group {row.name}: {exc}") from None
    result = evaluate([trace], name=row.name, settings=sized)
    window = trace.index[trace.start :]
    series = pd.DataFrame({
        "demand": trace.window / trace.unit,
        "plan": result.capacity[trace.name].to_numpy(),
        "reactive": reactive(trace, sized)[trace.start :],
    }, index=window)  # fmt: skip
    return GroupPlanView(group=row, planned=planned, replay=result.scores.set_index("policy"),
                         max_size_known=max_size is not None, series=series)
