"""The SRE fleet table: resources with CPU/memory p95 over 7 days, forecast peak over 14 days and last data.

Inventory columns sort and paginate in SQL, and usage is computed for the page only, with a fixed number of
database queries whatever the fleet's or the page's size (the forecasts of a page come in one batch). Sorting by
a usage column needs it for every matching resource, so that is refused above MAX_COMPUTED_SORT resources.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.db.models import ForecastPointRow, ForecastRow, RecommendationRow, ResourceRow
from services.forecasting.registry import served_forecasts
from services.metrics import MetricStore
from services.metrics.base import SeriesInfo, nearest_rank_index
from services.resources import filtered_resources

USAGE_WINDOW = timedelta(days=7)
FORECAST_WINDOW = timedelta(days=14)
MAX_COMPUTED_SORT = 2000
InventorySort = Literal["name", "provider", "account", "region", "environment", "instance_type"]
UsageSort = Literal["cpu_p95_7d", "memory_p95_7d", "forecast_peak_14d", "last_data_at", "open_recommendations"]
SORTS: tuple[str, ...] = (
    "name", "provider", "account", "region", "environment", "instance_type",
    "cpu_p95_7d", "memory_p95_7d", "forecast_peak_14d", "last_data_at", "open_recommendations",
)


class FleetQueryError(ValueError):
    """The fleet query cannot be answered as asked; the message says what to change."""


@dataclass
class FleetEntry:
    resource: ResourceRow
    cpu_p95_7d: float | None = None
    memory_p95_7d: float | None = None
    forecast_peak_14d: float | None = None
    forecast_metric: str | None = None
    last_data_at: datetime | None = None
    open_recommendations: int = 0


_P95_CACHE: OrderedDict[tuple[str, str, datetime], float | None] = OrderedDict()
_CACHE_LOCK = threading.Lock()  # both caches: the API answers pages on several threads
P95_CACHE_SIZE = 100_000  # series; about 10 MB


def _p95_last_week(store: MetricStore, series_id: str, newest: datetime) -> float | None:
    """The p95 of the week before a series' newest sample. A page is read far more often than a series gets a new
    sample, so the answer is kept per (store, series, newest sample): never stale, read again once data arrives."""
    key = (repr(store), series_id, newest)
    with _CACHE_LOCK:
        if key in _P95_CACHE:
            _P95_CACHE.move_to_end(key)
            return _P95_CACHE[key]
    values = store.read(series_id, newest - USAGE_WINDOW, newest + timedelta(seconds=1)).to_numpy()
    values = np.sort(values[np.isfinite(values)])
    p95 = float(values[nearest_rank_index(values.size, 95)]) if values.size else None
    with _CACHE_LOCK:
        _P95_CACHE[key] = p95
        while len(_P95_CACHE) > P95_CACHE_SIZE:
            _P95_CACHE.popitem(last=False)
    return p95


def _find(series: list[SeriesInfo], word: str) -> SeriesInfo | None:
    return next((s for s in series if word in s.metric.lower()), None)


def _target(series: list[SeriesInfo]) -> SeriesInfo | None:
    """The series whose forecast peak the table shows: CPU, else memory."""
    return _find(series, "cpu") or _find(series, "mem")


_PEAK_CACHE: OrderedDict[tuple[str, int], float | None] = OrderedDict()
PEAK_CACHE_SIZE = 100_000  # forecasts; a stored forecast never changes, so its peak is kept by (database, id)


def _forecast_peaks(session: Session, forecasts: list[ForecastRow]) -> dict[int, float | None]:
    """The highest mean in the first FORECAST_WINDOW of each forecast, by forecast id: from the cache, and the
    others in one query of two columns (no point objects)."""
    db = str(session.get_bind().engine.url)
    with _CACHE_LOCK:
        peaks = {f.id: _PEAK_CACHE[(db, f.id)] for f in forecasts if (db, f.id) in _PEAK_CACHE}
    missing = [f.id for f in forecasts if f.id not in peaks]
    if missing:
        points: dict[int, list[tuple[datetime, float]]] = {i: [] for i in missing}
        for fid, ts, mean in session.execute(select(ForecastPointRow.forecast_id, ForecastPointRow.ts,
                                                    ForecastPointRow.mean)
                                             .where(ForecastPointRow.forecast_id.in_(missing))):
            points[fid].append((ts, mean))
        for fid, found in points.items():
            first = min((ts for ts, _ in found), default=None)
            means = [m for ts, m in found if first is not None and ts < first + FORECAST_WINDOW]
            peaks[fid] = max(means) if means else None
        with _CACHE_LOCK:
            for fid in missing:
                _PEAK_CACHE[(db, fid)] = peaks[fid]
            while len(_PEAK_CACHE) > PEAK_CACHE_SIZE:
                _PEAK_CACHE.popitem(last=False)
    return peaks


_WATERMARK_CACHE: dict[tuple[str, str], tuple[float, datetime | None]] = {}
WATERMARK_TTL_SECONDS = 30.0  # "last data" may show up to this late; collection runs every few minutes
WATERMARK_CACHE_SIZE = 100_000  # series; emptied whole when full (entries expire within the TTL anyway)


def _watermarks(store: MetricStore, series_ids: list[str]) -> dict[str, datetime]:
    """The newest sample of each series, asked of the store at most once per WATERMARK_TTL_SECONDS (one query for
    all the series the cache does not hold): a page is read many times between two collection rounds."""
    key, now = repr(store), time.monotonic()
    found: dict[str, datetime] = {}
    missing = []
    with _CACHE_LOCK:
        for sid in series_ids:
            cached = _WATERMARK_CACHE.get((key, sid))
            if cached is not None and now - cached[0] < WATERMARK_TTL_SECONDS:
                if cached[1] is not None:
                    found[sid] = cached[1]
            else:
                missing.append(sid)
    if missing:
        fresh = store.watermarks(missing)
        found |= fresh
        with _CACHE_LOCK:
            if len(_WATERMARK_CACHE) > WATERMARK_CACHE_SIZE:
                _WATERMARK_CACHE.clear()
            for sid in missing:
                _WATERMARK_CACHE[(key, sid)] = (now, fresh.get(sid))
    return found


def clear_caches() -> None:
    """Forget every cached p95, peak, watermark and series list (tests that count queries from a cold start)."""
    with _CACHE_LOCK:
        for cache in (_P95_CACHE, _PEAK_CACHE, _WATERMARK_CACHE, _SERIES_CACHE):
            cache.clear()


def _usage(store: MetricStore, entry: FleetEntry, series: list[SeriesInfo], peak: float | None,
           watermarks: dict[str, datetime]) -> None:
    newest = {s.series_id: watermarks.get(s.series_id) for s in series}
    stamps = [t for t in newest.values() if t is not None]
    entry.last_data_at = max(stamps) if stamps else None
    cpu, memory = _find(series, "cpu"), _find(series, "mem")
    for info, attr in ((cpu, "cpu_p95_7d"), (memory, "memory_p95_7d")):
        when = newest.get(info.series_id) if info else None
        if info and when:
            setattr(entry, attr, _p95_last_week(store, info.series_id, when))
    target = _target(series)
    if target and peak is not None:
        entry.forecast_peak_14d = peak
        entry.forecast_metric = target.metric


_SERIES_CACHE: dict[str, tuple[float, dict[str, list[SeriesInfo]]]] = {}
_SERIES_REFRESH = threading.Lock()  # one listing at a time: the others keep answering from the previous one
SERIES_TTL_SECONDS = 60.0  # a new resource's series show on the fleet page at most about this late


def _series_by_resource(store: MetricStore) -> dict[str, list[SeriesInfo]]:
    """Every stored series by resource, listed again about once a minute: the list only grows when a resource or a
    metric is added, while the page is read many times a minute. A listing of 50,000 series takes seconds, so only
    one request lists them again; the others meanwhile answer from the previous list (single flight)."""
    key = repr(store)
    with _CACHE_LOCK:
        cached = _SERIES_CACHE.get(key)
    if cached is not None and time.monotonic() - cached[0] < SERIES_TTL_SECONDS:
        return cached[1]
    if cached is not None and not _SERIES_REFRESH.acquire(blocking=False):
        return cached[1]  # another request is listing them
    if cached is None:
        _SERIES_REFRESH.acquire()  # the first listing: every request waits for it
        with _CACHE_LOCK:
            cached = _SERIES_CACHE.get(key)
        if cached is not None and time.monotonic() - cached[0] < SERIES_TTL_SECONDS:
            _SERIES_REFRESH.release()
            return cached[1]  # listed while this one waited
    try:
        started = time.monotonic()
        by_resource: dict[str, list[SeriesInfo]] = {}
        for info in store.series():
            by_resource.setdefault(info.resource_id, []).append(info)
        with _CACHE_LOCK:
            _SERIES_CACHE[key] = (started, by_resource)
        return by_resource
    finally:
        _SERIES_REFRESH.release()


def _matches_tag(tags: dict[str, str] | None, tag: str) -> bool:
    key, _, value = tag.partition("=")
    tags = tags or {}
    return key in tags and (not value or tags[key] == value)


def list_fleet(
    session: Session,
    store: MetricStore,
    *,
    provider: str | None = None,
    environment: str | None = None,
    account: str | None = None,
    region: str | None = None,
    tag: str | None = None,
    q: str | None = None,
    sort: str = "name",
    descending: bool = False,
    page: int = 1,
    size: int = 50,
) -> tuple[list[FleetEntry], int]:
    """One page of the fleet table, sorted, and the number of matching resources."""
    if sort not in SORTS:
        raise FleetQueryError(f"cannot sort by {sort!r}: use one of {', '.join(SORTS)}")
    stmt = filtered_resources(provider=provider, environment=environment, account=account, region=region, q=q)
    if tag:
        tagged = session.execute(stmt.with_only_columns(ResourceRow.id, ResourceRow.tags)).all()
        known = sorted({k for _, tags in tagged for k in (tags or {})})
        key = tag.partition("=")[0]
        if tagged and key not in known:
            shown = ", ".join(known[:20]) or "none"
            raise FleetQueryError(f"no resource here has the tag {key!r}: known tag keys are {shown}")
        stmt = stmt.where(ResourceRow.id.in_([pk for pk, tags in tagged if _matches_tag(tags, tag)]))
    total = int(session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
    by_resource = _series_by_resource(store)

    def fill(rows: list[ResourceRow]) -> list[FleetEntry]:
        entries = [FleetEntry(r) for r in rows]
        counts = {
            pk: n
            for pk, n in session.execute(
                select(RecommendationRow.resource_pk, func.count())
                .where(RecommendationRow.resource_pk.in_([r.id for r in rows]), RecommendationRow.status == "open")
                .group_by(RecommendationRow.resource_pk)
            )
        }
        targets = {r.resource_id: _target(by_resource.get(r.resource_id, [])) for r in rows}
        forecasts = served_forecasts(session, [t.series_id for t in targets.values() if t], "mean", with_points=False)
        peaks = _forecast_peaks(session, list(forecasts.values()))
        newest = _watermarks(store, [i.series_id for r in rows for i in by_resource.get(r.resource_id, [])])
        for e in entries:
            e.open_recommendations = int(counts.get(e.resource.id, 0))
            target = targets[e.resource.resource_id]
            forecast = forecasts.get(target.series_id) if target else None
            _usage(store, e, by_resource.get(e.resource.resource_id, []), peaks.get(forecast.id) if forecast else None,
                   newest)
        return entries

    offset = (page - 1) * size
    if sort in InventorySort.__args__:  # type: ignore[attr-defined]
        column = getattr(ResourceRow, sort)
        order = [column.desc() if descending else column.asc(), ResourceRow.name, ResourceRow.id]
        return fill(list(session.scalars(stmt.order_by(*order).offset(offset).limit(size)))), total
    if total > MAX_COMPUTED_SORT:
        raise FleetQueryError(
            f"sorting by {sort} computes it for all {total:,} matching resources (limit {MAX_COMPUTED_SORT:,}): "
            "narrow the filters first, or sort by an inventory column"
        )
    entries = fill(list(session.scalars(stmt.order_by(ResourceRow.name, ResourceRow.id))))
    present = [e for e in entries if getattr(e, sort) is not None]
    missing = [e for e in entries if getattr(e, sort) is None]
    present.sort(key=lambda e: getattr(e, sort), reverse=descending)
    return (present + missing)[offset : offset + size], total
