"""The fleet's monthly run rate from billing: each resource's mean daily recurring cost over the last settled week,
times the days of an average month. The one baseline cost the executive view and the scenarios share."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.costs.cost_series import ONE_OFF_CATEGORIES
from services.db.models import CostRow

RUN_RATE_DAYS = 7  # a whole week, so weekends weigh what they weigh in a month
DAYS_PER_MONTH = 730.0 / 24.0  # the 730-hour month every monthly figure uses


@dataclass(frozen=True)
class RunRate:
    """USD a month at the spend of the settled charge days [start, end): per resource id, and lines without one."""

    start: date
    end: date
    per_resource: dict[str, float]
    unattributed: float

    @property
    def total(self) -> float:
        return sum(self.per_resource.values()) + self.unattributed


def monthly_run_rate(session: Session, *, today: date, days: int = RUN_RATE_DAYS) -> RunRate | None:
    """The run rate of the `days` charge days before the newest (still filling) one, up to `today`; None without
    cost records. Credits and adjustments are left out: they are one-off, not a rate."""
    recurring = CostRow.charge_category.not_in(ONE_OFF_CATEGORIES)
    newest = session.scalar(select(func.max(CostRow.charge_period_start)).where(recurring))
    if newest is None:
        return None
    end = min(newest, today)
    start = end - timedelta(days=days)
    query = (
        select(CostRow.resource_id, func.sum(CostRow.effective_cost))
        .where(recurring, CostRow.charge_period_start >= start, CostRow.charge_period_start < end)
        .group_by(CostRow.resource_id)
    )
    per_resource: dict[str, float] = defaultdict(float)
    unattributed = 0.0
    for resource_id, cost in session.execute(query):
        monthly = float(cost or 0.0) / days * DAYS_PER_MONTH
        if resource_id:
            per_resource[str(resource_id)] += monthly
        else:
            unattributed += monthly
    return RunRate(start=start, end=end, per_resource=dict(per_resource), unattributed=unattributed)
