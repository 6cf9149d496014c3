"""Refresh the stored recommendations of the whole fleet: read, recommend, deduplicate, upsert (idempotent)."""

from __future__ import annotations

from datetime import UTC, datetime

from collector.catalog import Catalog
from services.db.engine import session_scope
from services.metrics import MetricStore, open_metric_store
from services.recommend.engine import run_fleet
from services.recommend.store import RefreshResult, locked_resources, save_run
from services.settings import Settings


def refresh_recommendations(
    settings: Settings, *, store: MetricStore | None = None, catalog: Catalog | None = None, now: datetime | None = None
) -> RefreshResult:
    """Run every recommender over the fleet as of `now` (default: now) and store the outcome in one transaction."""
    when = now or datetime.now(UTC)
    own_store = store is None
    metric_store = store or open_metric_store(settings.metrics_url)
    try:
        with session_scope(settings.database_url) as session:
            run = run_fleet(
                session=session,
                store=metric_store,
                catalog=catalog or Catalog.load(settings.recommend.catalog_path),
                settings=settings.recommend,
                now=when,
                locked=locked_resources(session),
            )
            return save_run(session, run)
    finally:
        if own_store:
            metric_store.close()
