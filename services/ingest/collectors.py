"""The collector registry: every kind of source, built-in or shipped as a plug-in package.

A kind knows its settings class, which of its configs in config/providers.yml are enabled, and how to build a
Collector from one. A plug-in is a `CollectorPlugin` named by an entry point of the group `headroom.collectors`;
its configs live under `providers.<kind>` (one mapping, or a list of them, each with a `name`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from collector.base import Collector
from collector.config import (
    AwsSourceSettings,
    AzureSourceSettings,
    BillingFilesSourceSettings,
    DemoSourceSettings,
    FilesSourceSettings,
    GcpSourceSettings,
    PrometheusSourceSettings,
    ProvidersSettings,
)
from services.db.engine import session_scope
from services.ingest.ingest import read_watermark, write_watermark
from services.plugins import Registry

if TYPE_CHECKING:
    from services.settings import Settings


@dataclass(frozen=True)
class CollectorPlugin:
    kind: str  # the section of config/providers.yml
    settings: type[BaseModel]  # one source's settings: fields with bounds and descriptions, `name` among them
    build: Callable[[Any, Settings], Collector]  # (one validated config, all settings) -> the collector
    configured: Callable[[ProvidersSettings], list[BaseModel]] | None = None  # None: read providers.<kind>

    def configs(self, providers: ProvidersSettings) -> list[BaseModel]:
        """The enabled configs of this kind, in the order they are written."""
        if self.configured is not None:
            return self.configured(providers)
        raw = (providers.model_extra or {}).get(self.kind)
        items = raw if isinstance(raw, list) else [] if raw is None else [raw]
        configs = [self.settings.model_validate(item) for item in items]
        return [c for c in configs if getattr(c, "enabled", True)]


def _check(obj: object) -> CollectorPlugin:
    if not isinstance(obj, CollectorPlugin):
        raise TypeError(f"expected a services.ingest.collectors.CollectorPlugin, got {type(obj).__name__}")
    return obj


COLLECTORS: Registry[CollectorPlugin] = Registry("headroom.collectors", "collector", _check)


def _anchor(db_url: str, name: str) -> datetime:
    """The 'now' a shifted file source was first imported at, so re-imports land on the same timestamps."""
    with session_scope(db_url) as session:
        anchor = read_watermark(session, name, "anchor")
        if anchor is None:
            anchor = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
            write_watermark(session, name, "anchor", anchor)
        return anchor


def _demo(cfg: DemoSourceSettings, _: Settings) -> Collector:
    from collector.catalog import Catalog
    from collector.demo import DemoCollector

    return DemoCollector(cfg, Catalog.load())


def _aws(cfg: AwsSourceSettings, _: Settings) -> Collector:
    from collector.aws import AwsCollector

    return AwsCollector(cfg)


def _gcp(cfg: GcpSourceSettings, _: Settings) -> Collector:
    from collector.gcp import GcpCollector

    return GcpCollector(cfg)


def _azure(cfg: AzureSourceSettings, _: Settings) -> Collector:
    from collector.azure import AzureCollector

    return AzureCollector(cfg)


def _files(cfg: FilesSourceSettings, settings: Settings) -> Collector:
    from collector.files import FilesCollector

    now = _anchor(settings.database_url, cfg.name) if cfg.shift_to_now else None
    return FilesCollector(cfg, now=now)


def _prometheus(cfg: PrometheusSourceSettings, _: Settings) -> Collector:
    from collector.prometheus import PrometheusCollector

    return PrometheusCollector(cfg)


def _billing(cfg: BillingFilesSourceSettings, _: Settings) -> Collector:
    from collector.billing import BillingFilesCollector

    return BillingFilesCollector(cfg)


def _enabled(cfg: BaseModel) -> list[BaseModel]:
    return [cfg] if getattr(cfg, "enabled", True) else []


# Built-ins, in collection order; the cloud SDKs are imported only when their source is built.
COLLECTORS.register("demo", CollectorPlugin("demo", DemoSourceSettings, _demo, lambda p: _enabled(p.demo)))
COLLECTORS.register("aws", CollectorPlugin("aws", AwsSourceSettings, _aws, lambda p: _enabled(p.aws)))
COLLECTORS.register("gcp", CollectorPlugin("gcp", GcpSourceSettings, _gcp, lambda p: _enabled(p.gcp)))
COLLECTORS.register("azure", CollectorPlugin("azure", AzureSourceSettings, _azure, lambda p: _enabled(p.azure)))
COLLECTORS.register("files", CollectorPlugin("files", FilesSourceSettings, _files, lambda p: list(p.files)))
COLLECTORS.register(
    "prometheus", CollectorPlugin("prometheus", PrometheusSourceSettings, _prometheus, lambda p: list(p.prometheus))
)
COLLECTORS.register(
    "billing", CollectorPlugin("billing", BillingFilesSourceSettings, _billing, lambda p: list(p.billing))
)
