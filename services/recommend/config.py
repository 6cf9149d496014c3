"""Settings of the recommendation engine: one section per recommender, plus groups, schedule and verification."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, field_validator

from services.recommend.commitments import CommitmentSettings, SpotSettings
from services.recommend.containers import ContainerSettings
from services.recommend.idle import IdleSettings, UnattachedSettings
from services.recommend.rightsize import VMRightsizeSettings
from services.recommend.runway import RunwaySettings
from services.recommend.scenarios import ScenarioSettings
from services.recommend.schedule import ScheduleSettings

GROUP_FIELDS = ("environment", "account", "provider", "region", "kind", "instance_type")


class RecommendSettings(BaseModel):
    """HEADROOM_RECOMMEND__<SECTION>__<FIELD>, or config/recommend.yml."""

    vm: VMRightsizeSettings = VMRightsizeSettings()
    container: ContainerSettings = ContainerSettings()
    idle: IdleSettings = IdleSettings()
    unattached: UnattachedSettings = UnattachedSettings()
    schedule: ScheduleSettings = ScheduleSettings()
    commitments: CommitmentSettings = CommitmentSettings()
    spot: SpotSettings = SpotSettings()
    runway: RunwaySettings = RunwaySettings()
    scenario: ScenarioSettings = ScenarioSettings()
    plugins: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Settings of plug-in recommenders, by kind (validated by each plug-in)."
    )
    catalog_path: Path | None = Field(
        None, description="Instance catalog CSV (sizes and prices); none = config/catalog/instances.csv."
    )
    group_by: list[str] = Field(
        default_factory=lambda: ["environment", "account", "provider"],
        description="Runway groups: resource fields (environment, account, provider, region) or tag:<name>.",
    )
    budgets: dict[str, float] = Field(
        default_factory=dict,
        description="Monthly budgets in USD by scope, 'total' or a provider name: the runway says when this "
        "month's billed spend reaches each (from the stored daily cost forecast, else the spend trend).",
    )
    refresh_hours_after_training: int = Field(
        2, ge=0, le=22, description="The daily refresh runs this many hours after forecasting.retrain_hour_utc."
    )
    verify_min_days: int = Field(
        3, ge=1, le=90, description="Days of cost records after implementation needed to measure realised savings."
    )

    @field_validator("group_by")
    @classmethod
    def _known_dimensions(cls, value: list[str]) -> list[str]:
        for dimension in value:
            if dimension not in GROUP_FIELDS and not (dimension.startswith("tag:") and len(dimension) > 4):
                raise ValueError(f"unknown group {dimension!r}: use {', '.join(GROUP_FIELDS)} or tag:<name>")
        return value
