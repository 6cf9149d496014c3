"""The recommender registry: every kind of recommendation, built-in or shipped as a plug-in package.

A plug-in is a `RecommenderPlugin` named by an entry point of the group `headroom.recommenders`. Its `recommend`
function is called once per machine, container or database of the fleet with a `ResourceContext`, and yields
`Recommendation`s or `Skipped`s of its own kind. The API's kinds, the CLI and the dashboard's filter are read from
here. The built-ins below are run by services.recommend.engine, which feeds each the inputs it needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import pandas as pd
from pydantic import BaseModel

from collector.catalog import Catalog
from collector.records import Resource
from ml_engine.base import Forecast
from services.autoscaling.settings import ScalingSettings
from services.plugins import PluginError, Registry
from services.recommend.autoscaling import SCALABLE_KINDS, recommend_autoscaling
from services.recommend.base import Recommendation, Skipped
from services.recommend.commitments import CommitmentSettings, SpotSettings
from services.recommend.containers import ContainerSettings
from services.recommend.idle import IdleSettings, UnattachedSettings
from services.recommend.rightsize import VMRightsizeSettings
from services.recommend.runway import RunwaySettings
from services.recommend.schedule import ScheduleSettings

Outcome = Recommendation | Skipped


@dataclass(frozen=True)
class ResourceContext:
    """What a per-resource recommender sees: the resource, its usage in percent, its stored forecasts."""

    resource: Resource
    cpu: pd.Series | None  # percent of the resource's vCPUs (or of its request, for a container), 5-minute steps
    memory: pd.Series | None  # percent of its memory
    forecasts: dict[tuple[str, str], Forecast]  # (metric, statistic) -> the stored forecast
    catalog: Catalog
    now: datetime
    settings: BaseModel | None  # the plug-in's settings, from recommend.plugins.<kind> in config/recommend.yml


@dataclass(frozen=True)
class RecommenderPlugin:
    kind: str  # stored on every recommendation it makes; letters, digits and _
    label: str  # what the dashboard's filter shows
    description: str
    settings: type[BaseModel] | None = None  # its settings class: fields with bounds and descriptions
    recommend: Callable[[ResourceContext], Iterable[Outcome]] | None = None  # None: run by the engine (built-ins)
    resource_kinds: tuple[str, ...] = field(default=("vm", "database", "container"))

    def settings_from(self, raw: dict[str, Any] | None) -> BaseModel | None:
        return None if self.settings is None else self.settings.model_validate(raw or {})


def _check(obj: object) -> RecommenderPlugin:
    if not isinstance(obj, RecommenderPlugin):
        raise TypeError(f"expected a services.recommend.registry.RecommenderPlugin, got {type(obj).__name__}")
    if obj.recommend is None:
        raise TypeError(f"recommender {obj.kind!r} has no recommend function")
    return obj


RECOMMENDERS: Registry[RecommenderPlugin] = Registry("headroom.recommenders", "recommender", _check)


def _builtin(kind: str, label: str, description: str, settings: type[BaseModel]) -> None:
    RECOMMENDERS.register(kind, RecommenderPlugin(kind, label, description, settings))


_builtin("rightsize", "Right-size", "A machine type that fits the peaks of CPU and memory.", VMRightsizeSettings)
_builtin("container_rightsize", "Container requests", "CPU and memory requests that fit the usage.",
         ContainerSettings)
_builtin("idle", "Idle", "Machines that do next to nothing: stop or delete them.", IdleSettings)
_builtin("unattached", "Unattached", "Disks and addresses attached to nothing.", UnattachedSettings)
_builtin("schedule", "Off-hours schedule", "Machines busy only in working hours: stop them at night.",
         ScheduleSettings)
_builtin("commitment", "Commitments", "Reserved instances and savings plans sized on the steady base.",
         CommitmentSettings)
_builtin("spot", "Spot", "Interruptible workloads that can run on spot capacity.", SpotSettings)
_builtin("runway", "Runway", "When a resource, a group or a budget runs out.", RunwaySettings)
RECOMMENDERS.register("autoscaling", RecommenderPlugin(
    "autoscaling", "Predictive autoscaling", "Scaling groups planned ahead of their load, proven on their history.",
    ScalingSettings, recommend_autoscaling, SCALABLE_KINDS))


def recommender_kinds() -> list[str]:
    return RECOMMENDERS.names()


def check_kinds(kinds: Iterable[str]) -> None:
    """PluginError naming the first unknown kind and the known ones, for a filter given by a person."""
    known = recommender_kinds()
    unknown = sorted(set(kinds) - set(known))
    if unknown:
        raise PluginError(f"unknown kind {unknown[0]!r}; use one of {', '.join(known)}")


def plugin_outcomes(context: ResourceContext, plugin_settings: dict[str, dict[str, Any]]) -> list[Outcome]:
    """Every plug-in recommender's outcomes for one resource; a failing plug-in is skipped with its error."""
    outcomes: list[Outcome] = []
    for kind, plugin in RECOMMENDERS:
        if plugin.recommend is None or context.resource.kind not in plugin.resource_kinds:
            continue
        try:
            bound = replace(context, settings=plugin.settings_from(plugin_settings.get(kind)))
            outcomes.extend(o for o in plugin.recommend(bound) if o.kind == kind)
        except Exception as exc:  # one plug-in's bug costs its own recommendations, not the fleet run
            outcomes.append(Skipped(context.resource.resource_id, kind, f"plug-in {kind!r} failed: {exc}"))
    return outcomes
