"""Build the configured collectors from settings (config/providers.yml), by name."""

from __future__ import annotations

from pydantic import BaseModel

from collector.base import Collector
from services.ingest.collectors import COLLECTORS, CollectorPlugin
from services.settings import Settings


class UnknownSourceError(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


def source_names(settings: Settings) -> list[str]:
    """Every enabled source, in collection order (the registry's order, then each kind's configs in order)."""
    return [name for name, _, _ in _configured(settings)]


def source_budgets(settings: Settings) -> dict[str, float | None]:
    """Each enabled source's monthly API budget in USD (None: no limit, or a source that makes no paid calls)."""
    return {name: getattr(cfg, "monthly_budget_usd", None) for name, _, cfg in _configured(settings)}


def build_collector(settings: Settings, name: str) -> Collector:
    """The collector called `name`, or UnknownSourceError listing the configured ones.

    Cloud SDKs are imported only when their source is used.
    """
    for source, plugin, cfg in _configured(settings):
        if source == name:
            return plugin.build(cfg, settings)
    known = ", ".join(source_names(settings)) or "none"
    raise UnknownSourceError(f"unknown source {name!r}: configured sources are {known} (see config/providers.yml)")


def _configured(settings: Settings) -> list[tuple[str, CollectorPlugin, BaseModel]]:
    found = []
    for kind, plugin in COLLECTORS:
        for cfg in plugin.configs(settings.providers):
            found.append((str(getattr(cfg, "name", kind)), plugin, cfg))
    return found
