"""Build the configured collectors from settings (config/providers.yml), by name."""

from __future__ import annotations

from datetime import UTC, datetime

from collector.base import Collector
from collector.config import FilesSourceSettings
from services.db.engine import session_scope
from services.ingest.ingest import read_watermark, write_watermark
from services.settings import Settings


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
    """Every enabled source, in collection order."""
    p = settings.providers
    names = ["demo"] if p.demo.enabled else []
    names += [name for name, on in ((p.aws.name, p.aws.enabled), (p.gcp.name, p.gcp.enabled),
                                    (p.azure.name, p.azure.enabled)) if on]
    return names + [f.name for f in p.files] + [q.name for q in p.prometheus] + [b.name for b in p.billing]


def build_collector(settings: Settings, name: str) -> Collector:
    """The collector called `name`, or UnknownSourceError listing the configured ones.

    Cloud SDKs are imported only when their source is used.
    """
    p = settings.providers
    if name == "demo" and p.demo.enabled:
        from collector.catalog import Catalog
        from collector.demo import DemoCollector

        return DemoCollector(p.demo, Catalog.load())
    if p.aws.enabled and name == p.aws.name:
        from collector.aws import AwsCollector

        return AwsCollector(p.aws)
    if p.gcp.enabled and name == p.gcp.name:
        from collector.gcp import GcpCollector

        return GcpCollector(p.gcp)
    if p.azure.enabled and name == p.azure.name:
        from collector.azure import AzureCollector

        return AzureCollector(p.azure)
    for cfg in p.files:
        if cfg.name == name:
            return files_collector(cfg, db_url=settings.database_url)
    for prom in p.prometheus:
        if prom.name == name:
            from collector.prometheus import PrometheusCollector

            return PrometheusCollector(prom)
    for bill in p.billing:
        if bill.name == name:
            from collector.billing import BillingFilesCollector

            return BillingFilesCollector(bill)
    known = ", ".join(source_names(settings)) or "none"
    raise UnknownSourceError(f"unknown source {name!r}: configured sources are {known} (see config/providers.yml)")
