"""Run any collector into the stores: per-stream watermarks, idempotent upserts, a status per source."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from collector.base import Collector, CollectorError
from collector.records import CostRecord, Resource, SampleBatch
from services.db.engine import session_scope
from services.db.models import CostRow, IngestWatermarkRow, ResourceRow, SourceStatusRow, utcnow
from services.db.upsert import upsert_rows
from services.ingest.spend import budget_gate, month_spend, record_usage
from services.ingest.streams import (
    STREAMS,
    advance_backfill,
    incremental_window,
    inherit_watermark,
    load_stream,
    plan,
    prepare_backfill,
    record_failure,
    record_success,
)
from services.metrics.base import MetricStore

log = logging.getLogger(__name__)
Progress = Callable[[str, int], None]  # (stage, amount done since last call)
WRITE_BATCH_POINTS = 250_000


class IngestError(RuntimeError):
    """A source failed its credential check; nothing was collected from it."""


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
    failures: dict[str, str] = field(default_factory=dict)  # stream -> why it failed (or is still failing)
    skipped: dict[str, str] = field(default_factory=dict)  # stream -> why it was not due this run


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


def delete_costs(session: Session, source: str, start: date, end: date) -> int:
    """Forget the stored lines of `source` charged in [start, end): a newer version of that period replaces them."""
    stmt = delete(CostRow).where(CostRow.source == source, CostRow.charge_period_start >= start,
                                 CostRow.charge_period_start < end)  # fmt: skip
    return int(session.execute(stmt).rowcount or 0)  # type: ignore[attr-defined]


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


def _record_status(db_url: str, source: str, *, samples: int, failures: dict[str, str], notes: list[str]) -> None:
    now = utcnow()
    with session_scope(db_url) as session:
        row = session.get(SourceStatusRow, source) or SourceStatusRow(source=source, samples_written=0)
        row.last_run_at = now
        row.last_error = "; ".join(f"{stream}: {error}" for stream, error in failures.items())[:2000]
        row.detail = {"notes": notes, "failed_streams": sorted(failures)}
        row.samples_written = (row.samples_written or 0) + samples
        if not failures:
            row.last_success_at = now
        session.add(row)


def _record_source_failure(db_url: str, source: str, error: str) -> None:
    with session_scope(db_url) as session:
        row = session.get(SourceStatusRow, source) or SourceStatusRow(source=source, samples_written=0)
        row.last_run_at = utcnow()
        row.last_error = error[:2000]
        row.detail = {"notes": [], "failed_streams": ["*"]}
        session.add(row)


@dataclass
class StreamRun:
    """One run of one source, stream by stream; each stream commits its own data and state."""

    collector: Collector
    db_url: str
    metric_store: MetricStore
    until: datetime
    backfill: timedelta | None
    tick: Progress
    result: IngestResult
    run_interval: timedelta = timedelta(minutes=5)  # how often runs are scheduled (settings.collect_interval_minutes)
    backfilled: bool = False  # this run fetched backfill chunks
    attempted: list[str] = field(default_factory=list)  # the streams that were due and ran
    seen: set[str] = field(default_factory=set)  # series written, over every metrics stream

    def run(self, stream: str) -> None:
        source, cadence = self.collector.name, self.collector.stream_cadence.get(stream, timedelta(0))
        with session_scope(self.db_url) as session:
            row = load_stream(session, source, stream)
            decision = plan(row, cadence, self.until, forced=self.backfill is not None)
            last_error, last_run_at = row.last_error, row.last_run_at
            budget = budget_gate(
                budget=self.collector.monthly_budget_usd, spent=month_spend(session, source, self.until),
                last_run_usd=Decimal((row.detail or {}).get("last_run_usd") or 0),
                cadence=max(cadence, self.run_interval), last_run_at=last_run_at, now=self.until, stream=stream,
            )  # fmt: skip
        if not decision.due:
            self.result.skipped[stream] = decision.reason
            if last_error:  # still failing: said once per run, with what to fix
                self.result.failures[stream] = f"{last_error} ({decision.reason})"
            return
        if not budget.due:
            self.result.skipped[stream] = budget.reason
            if "refused" in budget.reason:
                self.result.failures[stream] = budget.reason
            return
        if budget.reason:
            self.result.notes.append(budget.reason)
        self.attempted.append(stream)
        try:
            self._metrics(stream) if stream.startswith("metrics") else getattr(self, f"_{stream}")()
        except Exception as exc:
            log.warning("%s: stream %s failed: %s", source, stream, exc, exc_info=not isinstance(exc, CollectorError))
            self.result.failures[stream] = str(exc)
            with session_scope(self.db_url) as session:
                row = load_stream(session, source, stream)
                record_usage(row, self.collector.take_usage(), self.until, scheduled=False)
                record_failure(row, self.until, cadence, str(exc))
            return
        with session_scope(self.db_url) as session:
            row = load_stream(session, source, stream)
            # a backfill's spend counts, but it is no guide to what a scheduled run costs
            record_usage(row, self.collector.take_usage(), self.until, scheduled=not self.backfilled)
            record_success(row, self.until)

    def _inventory(self) -> None:
        resources = list(self.collector.discover())
        with session_scope(self.db_url) as session:
            self.result.resources = upsert_resources(session, resources)
        self.tick("resources", self.result.resources)

    def _metrics(self, stream: str) -> None:
        """One metrics stream ("metrics", or "metrics:<family>"): its backfill chunk by chunk, then the new window."""
        source, family = self.collector.name, stream.partition(":")[2]
        with session_scope(self.db_url) as session:
            row = load_stream(session, source, stream)
            inherit_watermark(session, row)
            prepare_backfill(row, self.until, first_since=self.collector.first_since(self.until),
                             backfill=self.backfill)  # fmt: skip
            cursor, end = row.backfill_cursor, row.backfill_until
        if cursor is not None and end is not None:
            self.result.since = cursor
            self.backfilled = True
            for chunk_start, chunk_end in self.collector.metric_chunks(cursor, end):
                self._write_samples(family, chunk_start, chunk_end)
                with session_scope(self.db_url) as session:  # this chunk is stored: never fetched again
                    advance_backfill(load_stream(session, source, stream), chunk_end)
        with session_scope(self.db_url) as session:
            since, until = incremental_window(load_stream(session, source, stream), self.until,
                                              self.collector.metrics_lookback)  # fmt: skip
        self.result.since = self.result.since or since
        if since is None or since < until:
            self._write_samples(family, since, until)
            with session_scope(self.db_url) as session:
                row = load_stream(session, source, stream)
                row.watermark = max(row.watermark or until, until)
        self.result.series = len(self.seen)

    def _write_samples(self, family: str, since: datetime | None, until: datetime) -> None:
        samples = (self.collector.collect_family(family, since, until) if family
                   else self.collector.collect_metrics(since, until))  # fmt: skip
        for group in _grouped(samples, WRITE_BATCH_POINTS):
            written = self.metric_store.write(group)
            self.seen.update(b.series.series_id for b in group)
            self.result.samples += written
            self.tick("samples", written)

    def _costs(self) -> None:
        source = self.collector.name
        with session_scope(self.db_url) as session:
            row = load_stream(session, source, "costs")
            since = self.until - self.backfill if self.backfill else row.watermark
            unsettled = row.detail.get("unsettled_from") if row.detail else None
        if since is not None and unsettled:  # days the provider still called estimated: read again until final
            since = min(since, datetime.combine(date.fromisoformat(unsettled), time(), UTC))
        records = list(self.collector.collect_costs(since, self.until))
        estimated = [r.charge_period_start for r in records if r.estimated]
        with session_scope(self.db_url) as session:
            for start, end in self.collector.cost_replacements():  # a re-delivered period replaces what was stored
                delete_costs(session, source, start, end)
            self.result.costs = upsert_costs(session, source, records)
            row = load_stream(session, source, "costs")
            row.watermark = self.until
            first = min(estimated) if estimated else None
            row.detail = {**(row.detail or {}), "unsettled_from": first.isoformat() if first else None}
        self.tick("costs", self.result.costs)


def run_collector(
    collector: Collector,
    *,
    db_url: str,
    metric_store: MetricStore,
    until: datetime | None = None,
    backfill: timedelta | None = None,
    progress: Progress | None = None,
    run_interval: timedelta = timedelta(minutes=5),
) -> IngestResult:
    """Collect each due stream of one source (inventory, metrics, costs) from its own watermark to `until`.

    A stream that fails is recorded on its own (error, retry time) and reported in `result.failures`; the others
    are stored and move on. Only a failed credential check fails the whole source (IngestError). Re-running any
    window stores nothing twice. backfill re-collects that much history before `until` whatever the watermarks say,
    in chunks that are committed one by one, so a killed backfill resumes where it stopped.
    """
    source = collector.name
    until = until or datetime.now(UTC).replace(second=0, microsecond=0)
    collector.as_of = until
    result = IngestResult(source=source, until=until)
    run = StreamRun(collector, db_url=db_url, metric_store=metric_store, until=until, backfill=backfill,
                    tick=progress or (lambda _stage, _n: None), result=result, run_interval=run_interval)  # fmt: skip
    try:
        collector.check()  # credentials and permissions first: a refused source stores nothing
    except Exception as exc:
        message = f"{source}: {exc}"
        log.error("ingest failed: %s", message)
        _record_source_failure(db_url, source, str(exc))
        raise IngestError(message) from exc
    for stream in STREAMS:
        if stream not in collector.streams:
            continue
        families = collector.metric_families if stream == "metrics" else ()
        for name in [f"metrics:{f}" for f in families] or [stream]:
            run.run(name)
    # per-item problems a source survived (a bad file among good ones): shown, never silent
    skipped = getattr(collector, "errors", None)
    if isinstance(skipped, dict):
        result.notes += [f"skipped {item}: {why}" for item, why in skipped.items()]
    result.notes += collector.take_notes()
    _record_status(db_url, source, samples=result.samples, failures=result.failures, notes=result.notes)
    ran = run.attempted
    if ran and all(stream in result.failures for stream in ran):  # nothing at all came through: the source failed
        message = f"{source}: " + "; ".join(f"{stream}: {result.failures[stream]}" for stream in ran)
        log.error("ingest failed: %s", message)
        raise IngestError(message)
    return result


def source_statuses(session: Session) -> list[SourceStatusRow]:
    return list(session.scalars(select(SourceStatusRow).order_by(SourceStatusRow.source)))
