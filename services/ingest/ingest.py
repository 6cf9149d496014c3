"""Run any collector into the stores: watermarks, batches, idempotent upserts, a status per source."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.base import Collector
from collector.records import CostRecord, Resource, SampleBatch
from services.db.engine import session_scope
from services.db.models import CostRow, IngestWatermarkRow, ResourceRow, SourceStatusRow, utcnow
from services.db.upsert import upsert_rows
from services.metrics.base import MetricStore

log = logging.getLogger(__name__)
Progress = Callable[[str, int], None]  # (stage, amount done since last call)
WRITE_BATCH_POINTS = 250_000


class IngestError(RuntimeError):
    """A source failed; nothing past the last good watermark was recorded."""


@dataclass
class IngestResult:
    source: str
    resources: int = 0
    series: int = 0
    samples: int = 0
    costs: int = 0
    since: datetime | None = None
    until: datetime | None = None
    notes: list[str] = field(default_factory=list)


def read_watermark(session: Session, source: str, key: str) -> datetime | None:
    row = session.get(IngestWatermarkRow, (source, key))
    return row.watermark if row else None


def write_watermark(session: Session, source: str, key: str, value: datetime) -> None:
    upsert_rows(
        session,
        IngestWatermarkRow.__table__,  # type: ignore[arg-type]
        [{"source": source, "key": key, "watermark": value, "updated_at": utcnow()}],
        key=("source", "key"),
    )


def upsert_resources(session: Session, resources: Iterable[Resource]) -> int:
    now = utcnow()
    rows = [
        {
            "provider": r.provider,
            "resource_id": r.resource_id,
            "name": r.name,
            "kind": r.kind,
            "account": r.account,
            "region": r.region,
            "instance_type": r.instance_type,
            "vcpus": r.vcpus,
            "memory_gib": r.memory_gib,
            "hourly_price": r.hourly_price,
            "environment": r.environment,
            "tags": dict(r.tags),
            "last_seen": now,
        }
        for r in resources
    ]
    # first_seen keeps its original value: it is only set on insert
    return upsert_rows(session, ResourceRow.__table__, rows, key=("provider", "resource_id"))  # type: ignore[arg-type]


def cost_dedup_key(source: str, c: CostRecord) -> str:
    parts = (source, c.provider, c.charge_period_start.isoformat(), c.charge_period_end.isoformat(),
             c.resource_id, c.service_name, c.charge_category, c.region_id, c.sub_account_id, c.billing_currency)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def upsert_costs(session: Session, source: str, costs: Iterable[CostRecord]) -> int:
    rows = [
        {
            "dedup_key": cost_dedup_key(source, c),
            "source": source,
            "provider": c.provider,
            "charge_period_start": c.charge_period_start,
            "charge_period_end": c.charge_period_end,
            "billed_cost": c.billed_cost,
            "effective_cost": c.effective_cost,
            "list_cost": c.list_cost,
            "charge_category": c.charge_category,
            "service_name": c.service_name,
            "resource_id": c.resource_id,
            "region_id": c.region_id,
            "sub_account_id": c.sub_account_id,
            "billing_currency": c.billing_currency,
            "tags": dict(c.tags),
        }
        for c in costs
    ]
    return upsert_rows(session, CostRow.__table__, rows, key=("dedup_key",))  # type: ignore[arg-type]


def _grouped(batches: Iterable[SampleBatch], limit: int) -> Iterator[list[SampleBatch]]:
    group: list[SampleBatch] = []
    size = 0
    for batch in batches:
        if len(batch) == 0:
            continue
        group.append(batch)
        size += len(batch)
        if size >= limit:
            yield group
            group, size = [], 0
    if group:
        yield group


def _record_status(
    db_url: str, source: str, *, error: str = "", samples: int = 0, ok: bool, notes: list[str] | None = None
) -> None:
    now = utcnow()
    with session_scope(db_url) as session:
        row = session.get(SourceStatusRow, source) or SourceStatusRow(source=source, samples_written=0)
        row.last_run_at = now
        row.last_error = error
        row.detail = {"notes": notes or []}
        if ok:
            row.last_success_at = now
            row.samples_written = (row.samples_written or 0) + samples
        session.add(row)


def run_collector(
    collector: Collector,
    *,
    db_url: str,
    metric_store: MetricStore,
    until: datetime | None = None,
    backfill: timedelta | None = None,
    progress: Progress | None = None,
) -> IngestResult:
    """Collect [watermark, until) from one source. Re-running any window stores nothing twice.

    backfill re-collects that much history before `until` whatever the watermark says.
    """
    source = collector.name
    until = until or datetime.now(UTC).replace(second=0, microsecond=0)
    tick = progress or (lambda _stage, _n: None)
    result = IngestResult(source=source, until=until)
    try:
        collector.check()  # credentials and permissions first: a refused source stores nothing
        resources = list(collector.discover())
        with session_scope(db_url) as session:
            result.resources = upsert_resources(session, resources)
            metrics_mark = read_watermark(session, source, "metrics")
            costs_mark = read_watermark(session, source, "costs")
        tick("resources", result.resources)
        since = until - backfill if backfill else metrics_mark
        if since is not None and not backfill:
            since -= collector.metrics_lookback
        result.since = since
        seen: set[str] = set()
        for group in _grouped(collector.collect_metrics(since, until), WRITE_BATCH_POINTS):
            written = metric_store.write(group)
            seen.update(b.series.series_id for b in group)
            result.samples += written
            tick("samples", written)
        result.series = len(seen)
        cost_since = until - backfill if backfill else costs_mark
        with session_scope(db_url) as session:
            result.costs = upsert_costs(session, source, collector.collect_costs(cost_since, until))
            # watermarks move only after everything before them is stored
            write_watermark(session, source, "metrics", until)
            write_watermark(session, source, "costs", until)
        tick("costs", result.costs)
        # per-item problems a source survived (a bad file among good ones): shown, never silent
        skipped = getattr(collector, "errors", None)
        if isinstance(skipped, dict):
            result.notes += [f"skipped {item}: {why}" for item, why in skipped.items()]
    except Exception as exc:
        message = f"{source}: {exc}"
        log.error("ingest failed: %s", message)
        _record_status(db_url, source, error=str(exc)[:2000], ok=False)
        raise IngestError(message) from exc
    _record_status(db_url, source, samples=result.samples, ok=True, notes=result.notes)
    return result


def source_statuses(session: Session) -> list[SourceStatusRow]:
    return list(session.scalars(select(SourceStatusRow).order_by(SourceStatusRow.source)))
