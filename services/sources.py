"""Build the configured collectors from settings (config/providers.yml), by name."""

from __future__ import annotations

from datetime import UTC, datetime

from collector.base import Collector
from services.db.engine import session_scope
from services.ingest import read_watermark, write_watermark
from services.settings import FilesSourceSettings, Settings


class UnknownSourceError(KeyError):
    def __str__(self) -> str:
        return str(self.args[0])


def _anchor(db_url: str, name: str) -> datetime:
    """The 'now' a shifted file source was first imported at, so re-imports land on the same timestamps."""
    with session_scope(db_url) as session:
        anchor = read_watermark(session, name, "anchor")
        if anchor is None:
            anchor = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
            write_watermark(session, name, "anchor", anchor)
        return anchor


def files_collector(cfg: FilesSourceSettings, *, db_url: str) -> Collector:
    from collector.files import FilesCollector

    now = _anchor(db_url, cfg.name) if cfg.shift_to_now else None
    return FilesCollector(cfg, now=now)


def source_names(settings: Settings) -> list[str]:
    names = ["demo"] if settings.providers.demo.enabled else []
    return names + [f.name for f in settings.providers.files]


def build_collector(settings: Settings, name: str) -> Collector:
    """The collector called `name`, or UnknownSourceError listing the configured ones."""
    if name == "demo" and settings.providers.demo.enabled:
        from collector.catalog import Catalog
        from collector.demo import DemoCollector

        return DemoCollector(settings.providers.demo, Catalog.load())
    for cfg in settings.providers.files:
        if cfg.name == name:
            return files_collector(cfg, db_url=settings.database_url)
    known = ", ".join(source_names(settings)) or "none"
    raise UnknownSourceError(f"unknown source {name!r}: configured sources are {known} (see config/providers.yml)")
