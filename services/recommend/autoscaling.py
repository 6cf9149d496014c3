"""The `autoscaling` recommendation: a predictive plan for a scalable group, proven by replaying its own history."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import pandas as pd

from services.autoscaling.group import plan_group
from services.autoscaling.inventory import SCALABLE_KINDS, UNBOUNDED, size_tag
from services.autoscaling.settings import ScalingSettings
from services.autoscaling.trace import TraceError, split_trace
from services.benchmarks.autoscale_eval import OURS, REACTIVE, evaluate
from services.recommend.base import HOURS_PER_MONTH, Evidence, Recommendation, Skipped

if TYPE_CHECKING:  # the registry imports this module to register it
    from services.recommend.registry import Outcome, ResourceContext

__all__ = ["SCALABLE_KINDS", "recommend_autoscaling"]


def _hourly_price(context: ResourceContext) -> float | None:
    r = context.resource
    if r.hourly_price is not None:
        return r.hourly_price
    entry = context.catalog.find(r.provider, r.instance_type, r.region)
    return entry.hourly_price if entry is not None and entry.hourly_price > 0 else None


def recommend_autoscaling(context: ResourceContext) -> Iterable[Outcome]:
    """Replay the group's last week (CPU as its demand; one instance = p99 of the weeks before / 10) through the
    predictive plan and through target tracking, which is what a group runs by default; recommend the plan when it
    costs less and is short no more often than target tracking or than `risk`, with the saving at the group's
    instance price."""
    r = context.resource
    settings = context.settings if isinstance(context.settings, ScalingSettings) else ScalingSettings()
    if context.cpu is None or context.cpu.dropna().empty:
        yield Skipped(r.resource_id, "autoscaling", "not enough data: no CPU usage is stored for this group")
        return
    try:
        trace = split_trace(r.name or r.resource_id, context.cpu.astype(float))
    except TraceError as exc:
        yield Skipped(r.resource_id, "autoscaling", f"not enough data: {exc}")
        return
    result = evaluate([trace], name=r.resource_id, settings=settings)
    scores = result.scores.set_index("policy")
    mine, current = scores.loc[OURS], scores.loc[REACTIVE]
    max_size = size_tag(r.tags, "max_size")
    planned = plan_group(r.name or r.resource_id, context.cpu.astype(float), settings=settings,
                         max_size=max_size or UNBOUNDED)
    choice, peak = planned.choice, max(planned.plan.hourly)
    reaches_max = max_size is not None and peak >= max_size
    steps_per_hour = pd.Timedelta(hours=1) / trace.step
    fewer = (current["instance_steps"] - mine["instance_steps"]) / trace.window.size  # instances per step
    price = _hourly_price(context)
    monthly = max(0.0, fewer) * price * HOURS_PER_MONTH if price else 0.0
    # worth it when cheaper and short no more often than target tracking, or than the risk the settings accept
    safe_enough = mine["under_provisioned"] <= max(current["under_provisioned"], settings.risk)
    better = bool(mine["cost"] <= current["cost"] and safe_enough)
    reasons = [
        f"Replayed on the last 7 days: the predictive plan uses {mine['cost']:.2f}x the perfect-foresight capacity "
        f"and is short on {mine['under_provisioned']:.1%} of steps; target tracking at "
        f"{settings.target_utilisation:.0%} uses {current['cost']:.2f}x and is short on "
        f"{current['under_provisioned']:.1%}.",
        f"Plan: {choice.describe()}.",
        f"Reactive part: target {choice.floor_utilisation:.0%} utilisation, scale-in after "
        f"{settings.stabilisation_minutes:g} minutes; launches {settings.launch_lead_minutes:g} minutes ahead.",
    ]
    if reaches_max:
        reasons.append(f"The next 48 hours need {peak} instances at some hour: the group's maximum size {max_size}.")
    if not price:
        reasons.append("No instance price is known for this group: the saving is in instances, not money.")
    yield Recommendation(
        kind="autoscaling",
        resource_id=r.resource_id,
        finding="over_provisioned" if better and fewer > 0 else "optimized",
        title=(f"Scale {r.name or r.resource_id} ahead of its load: {fewer:.1f} fewer instances on average"
               if better else f"Keep target tracking on {r.name or r.resource_id}: the plan does not beat it"),
        evidence=Evidence(
            coverage_hours=float(context.cpu.dropna().size / steps_per_hour),
            coverage_ratio=float(context.cpu.notna().mean()),
            percentile="demand quantile per step, chosen on the replayed weeks",
            observed={"unserved_share_plan": float(mine["unserved"]), "unserved_share_reactive":
                      float(current["unserved"]), "scaling_actions_plan": float(mine["actions"]),
                      "scaling_actions_reactive": float(current["actions"])},
            risk=min(4, int(mine["under_provisioned"] * 100)),
            reasons=reasons,
        ),
        current={"policy": "target tracking", "target_utilisation": settings.target_utilisation,
                 "cost_vs_oracle": float(current["cost"]), "under_provisioned": float(current["under_provisioned"])},
        proposed={"policy": "predictive schedule + target tracking", "target_utilisation": choice.floor_utilisation,
                  "cooldown_seconds": int(settings.stabilisation_minutes * 60), "cost_vs_oracle": float(mine["cost"]),
                  "under_provisioned": float(mine["under_provisioned"]), "instances_saved_per_hour": float(fewer),
                  "peak_instances_48h": peak, "max_size": max_size, "reaches_max": reaches_max},
        monthly_savings_list=monthly if better else 0.0,
        monthly_savings_effective=monthly if better else 0.0,
    )
