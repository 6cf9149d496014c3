"""API schemas of predictive autoscaling: scalable groups, a group's 48-hour plan and the replay behind it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class AutoscalingGroupRead(BaseModel):
    id: int
    resource_id: str
    provider: str
    name: str
    kind: str = Field(description="asg, instance_group, scale_set or deployment")
    region: str
    instance_type: str
    hourly_price: float | None
    min_size: int | None = Field(None, description="From the collector; None when the platform did not say")
    max_size: int | None = None


class AutoscalingGroupPage(BaseModel):
    items: list[AutoscalingGroupRead]
    total: int


class PlanBlockRead(BaseModel):
    start: datetime = Field(description="UTC; a scale-out starts one start-up time before its hour")
    end: datetime
    instances: int


class ReplayRowRead(BaseModel):
    policy: str
    cost: float = Field(description="Instance-steps relative to the perfect-foresight oracle")
    under_provisioned: float = Field(description="Share of steps with demand above capacity")
    unserved: float = Field(description="Share of demand above capacity")
    utilisation: float
    actions: int


class ReplaySeriesRead(BaseModel):
    timestamps: list[datetime] = Field(description="Every step of the replayed week, UTC")
    demand: list[float | None] = Field(description="Demand in instances (demand / one instance's capacity)")
    plan: list[float] = Field(description="Instances in service under Headroom's plan")
    reactive: list[float] = Field(description="Instances in service under target tracking")


class AutoscalingPlanRead(BaseModel):
    group: AutoscalingGroupRead
    start: datetime
    hourly: list[int] = Field(description="Instances needed per hour from `start`, 48 hours")
    blocks: list[PlanBlockRead]
    risk: float = Field(description="Risk of under-provisioning each hour is sized for")
    target_utilisation: float = Field(description="Recommended target of the reactive part, 0..1")
    cooldown_seconds: int
    warmup_seconds: int
    reaches_max: bool = Field(description="The plan asks for the group's maximum size at some hour")
    plan: str = Field(description="The policy chosen by replaying the group's history")
    replay: list[ReplayRowRead] = Field(description="The last week replayed: the plan beside the baselines")
    replay_series: ReplaySeriesRead
