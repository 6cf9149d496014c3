"""MetricStore on the relational database (SQLite embedded, PostgreSQL distributed): series + metric_points."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, cast

import numpy as np
import pandas as pd
from sqlalchemy import Connection, Table, bindparam, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from collector.records import SampleBatch, SeriesRef
from services.db.engine import engine_for
from services.db.models import SeriesRow, utcnow
from services.metrics.base import (
    MetricStore,
    MetricStoreError,
    SeriesInfo,
    UnknownSeriesError,
    as_series,
    check_aggregation,
    coalesce_batches,
    percentile_of,
    to_epoch,
)

SERIES = cast(Table, SeriesRow.__table__)
COPY_CHUNK_ROWS = 200_000  # rows formatted per COPY round trip: bounds memory on million-point batches
_GROUPED = {"mean": "AVG(value)", "max": "MAX(value)", "min": "MIN(value)", "sum": "SUM(value)", "count": "COUNT(*)"}
_RANGE = "series_pk = :pk AND ts >= :start AND ts < :end"
_UPSERT_TAIL = (
    "ON CONFLICT (series_pk, ts) DO UPDATE SET value = excluded.value "
    "WHERE metric_points.value IS DISTINCT FROM excluded.value"  # re-running a window rewrites nothing
)
_MISSING_TABLE_HINTS = ("no such table", 'relation "series" does not exist', 'relation "metric_points" does not')


def bucketed_sql(step_seconds: int, agg: str) -> str:
    """The read query for one series, epoch-aligned buckets of step_seconds and one aggregation.

    Identical on SQLite and PostgreSQL. Percentiles pick the row at rank floor(n*p/100 + 0.5) in each
    sorted bucket (clamped to [1, n]), computed with integers as (n*p + 50) / 100: the same
    nearest-rank rule as base.nearest_rank_index and InfluxDB's PERCENTILE.
    """
    step = int(step_seconds)
    buckets = f"SELECT ts - ts % {step} AS bucket, ts, value FROM metric_points WHERE {_RANGE}"
    if agg in _GROUPED:
        return f"SELECT bucket, {_GROUPED[agg]} FROM ({buckets}) AS b GROUP BY bucket ORDER BY bucket"
    if agg == "last":
        newest_first = "ROW_NUMBER() OVER (PARTITION BY bucket ORDER BY ts DESC)"
        ranked = f"SELECT bucket, value, {newest_first} AS rn FROM ({buckets}) AS b"
        return f"SELECT bucket, value FROM ({ranked}) AS r WHERE rn = 1 ORDER BY bucket"
    pct = percentile_of(agg)
    if pct is None:
        raise ValueError(f"no SQL for aggregation {agg!r}")
    ranked = (
        "SELECT bucket, value, ROW_NUMBER() OVER (PARTITION BY bucket ORDER BY value) AS rn, "
        f"COUNT(*) OVER (PARTITION BY bucket) AS n FROM ({buckets}) AS b"
    )
    rank = f"(n * {pct} + 50) / 100"
    wanted = f"CASE WHEN {rank} < 1 THEN 1 WHEN {rank} > n THEN n ELSE {rank} END"
    return f"SELECT bucket, value FROM ({ranked}) AS r WHERE rn = {wanted} ORDER BY bucket"


def series_matches(info: SeriesInfo, filters: Mapping[str, str]) -> bool:
    """True when every filter equals the series' id, resource_id, metric, unit or label of that name."""
    fixed = {"series_id": info.series_id, "resource_id": info.resource_id, "metric": info.metric, "unit": info.unit}
    return all((fixed[k] if k in fixed else info.labels.get(k)) == v for k, v in filters.items())


class SqlMetricStore(MetricStore):
    """Points in metric_points keyed by (series_pk, ts); tables come from Alembic (`headroom migrate`)."""

    def __init__(self, url: str) -> None:
        self._url = url
        self._safe_url = make_url(url).render_as_string(hide_password=True)
        self._engine = engine_for(url)
        self._dialect = self._engine.dialect.name
        if self._dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"SqlMetricStore supports SQLite and PostgreSQL, not {self._dialect}")
        self._copy = self._dialect == "postgresql" and self._engine.dialect.driver == "psycopg2"

    def __repr__(self) -> str:
        return f"SqlMetricStore({self._safe_url!r})"

    # -- writing -------------------------------------------------------------------------------
    def write(self, batches: Iterable[SampleBatch]) -> int:
        merged = coalesce_batches(batches)
        if not merged:
            return 0
        try:
            with self._engine.begin() as conn:
                if self._copy:
                    self._copy_points(conn, [(self._upsert_series(conn, b.series), b) for b in merged])
                else:
                    for batch in merged:
                        self._insert_points(conn, self._upsert_series(conn, batch.series), batch)
        except SQLAlchemyError as exc:
            raise self._error("write", exc) from exc
        return sum(len(b) for b in merged)

    def _upsert_series(self, conn: Connection, ref: SeriesRef) -> int:
        insert = postgresql.insert if self._dialect == "postgresql" else sqlite.insert
        stmt = insert(SERIES).values(
            series_id=ref.series_id,
            resource_id=ref.resource_id,
            metric=ref.metric,
            unit=ref.unit,
            labels=dict(ref.labels),
            created_at=utcnow(),
        )
        changed = {k: stmt.excluded[k] for k in ("resource_id", "metric", "unit", "labels")}
        stmt = stmt.on_conflict_do_update(index_elements=[SERIES.c.series_id], set_=changed)
        return int(conn.execute(stmt.returning(SERIES.c.id)).scalar_one())

    def _insert_points(self, conn: Connection, pk: int, batch: SampleBatch) -> None:
        """executemany in the caller's transaction: one fsync per write() on SQLite."""
        cursor: Any = conn.connection.cursor()
        try:
            rows = zip(itertools.repeat(pk), batch.timestamps.tolist(), batch.values.tolist(), strict=False)
            marker = "?" if self._dialect == "sqlite" else "%s"
            cursor.executemany(
                f"INSERT INTO metric_points (series_pk, ts, value) VALUES ({marker}, {marker}, {marker}) "
                + _UPSERT_TAIL,
                rows,
            )
        finally:
            cursor.close()

    def _copy_points(self, conn: Connection, parts: list[tuple[int, SampleBatch]]) -> None:
        """PostgreSQL bulk path: COPY into a temporary table, then one INSERT ... SELECT ... ON CONFLICT."""
        cursor: Any = conn.connection.cursor()
        try:
            cursor.execute(
                "CREATE TEMP TABLE headroom_points_in (series_pk integer, ts bigint, value double precision) "
                "ON COMMIT DROP"
            )
            for pk, batch in parts:
                for lo in range(0, len(batch), COPY_CHUNK_ROWS):
                    ts = batch.timestamps[lo : lo + COPY_CHUNK_ROWS].tolist()
                    values = batch.values[lo : lo + COPY_CHUNK_ROWS].tolist()
                    body = "".join(f"{pk}\t{t}\t{v!r}\n" for t, v in zip(ts, values, strict=True))
                    cursor.copy_expert("COPY headroom_points_in (series_pk, ts, value) FROM STDIN", io.StringIO(body))
            cursor.execute(
                "INSERT INTO metric_points (series_pk, ts, value) SELECT series_pk, ts, value FROM headroom_points_in "
                + _UPSERT_TAIL
            )
        finally:
            cursor.close()

    # -- reading -------------------------------------------------------------------------------
    def read(
        self,
        series_id: str,
        start: datetime,
        end: datetime,
        step_seconds: int | None = None,
        agg: str = "mean",
    ) -> pd.Series:
        check_aggregation(agg)
        if step_seconds is not None and int(step_seconds) <= 0:
            raise ValueError(f"step_seconds must be a positive number of seconds, got {step_seconds}")
        sql = "SELECT ts, value FROM metric_points WHERE " + _RANGE + " ORDER BY ts"
        if step_seconds is not None:
            sql = bucketed_sql(step_seconds, agg)
        try:
            with self._engine.connect() as conn:
                pk = self._series_pk(conn, series_id)
                params = {"pk": pk, "start": to_epoch(start), "end": to_epoch(end)}
                rows = conn.execute(text(sql), params).all()
        except SQLAlchemyError as exc:
            raise self._error("read", exc) from exc
        epochs = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        values = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
        return as_series(epochs, values)

    def _series_pk(self, conn: Connection, series_id: str) -> int:
        pk = conn.execute(select(SERIES.c.id).where(SERIES.c.series_id == series_id)).scalar_one_or_none()
        if pk is None:
            raise UnknownSeriesError(series_id)
        return int(pk)

    def series(self, filters: Mapping[str, str] | None = None) -> list[SeriesInfo]:
        columns = (SERIES.c.series_id, SERIES.c.resource_id, SERIES.c.metric, SERIES.c.unit, SERIES.c.labels)
        try:
            with self._engine.connect() as conn:
                rows = conn.execute(select(*columns)).all()
        except SQLAlchemyError as exc:
            raise self._error("list series", exc) from exc
        infos = [SeriesInfo(r[0], r[1], r[2], r[3] or "", dict(r[4] or {})) for r in rows]
        wanted = dict(filters or {})
        # sorted in Python: PostgreSQL's collation would order ids differently from SQLite and InfluxDB
        return sorted((i for i in infos if series_matches(i, wanted)), key=lambda i: i.series_id)

    def watermark(self, series_id: str) -> datetime | None:
        return self.watermarks([series_id]).get(series_id)

    def watermarks(self, series_ids: Sequence[str]) -> dict[str, datetime]:
        if not series_ids:
            return {}
        query = text(
            # one index probe per series (the max of (series_pk, ts)), not a scan of their points
            "SELECT s.series_id, (SELECT MAX(p.ts) FROM metric_points AS p WHERE p.series_pk = s.id) "
            "FROM series AS s WHERE s.series_id IN :ids"
        ).bindparams(bindparam("ids", expanding=True))
        try:
            with self._engine.connect() as conn:
                rows = conn.execute(query, {"ids": sorted(set(series_ids))}).all()
        except SQLAlchemyError as exc:
            raise self._error("read the watermark", exc) from exc
        return {sid: datetime.fromtimestamp(int(newest), UTC) for sid, newest in rows if newest is not None}

    def close(self) -> None:
        self._engine.dispose()

    def _error(self, action: str, exc: SQLAlchemyError) -> MetricStoreError:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        if any(hint in detail.lower() for hint in _MISSING_TABLE_HINTS):
            return MetricStoreError(
                f"cannot {action} metrics in {self._safe_url}: the tables are missing ({detail}); "
                "run `headroom migrate` first"
            )
        return MetricStoreError(f"cannot {action} metrics in {self._safe_url}: {detail}")
