"""MetricStore on InfluxDB through the v1-compatible HTTP API (/write, /query), for InfluxDB 1.x, 2.x and 3.x."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import islice
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import numpy as np
import pandas as pd
from influxdb_client import Point

from collector.records import SampleBatch, SeriesRef
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

MEASUREMENT = "metrics"
CORE_TAGS = ("series_id", "resource_id", "metric", "unit")
RESERVED_KEYS = frozenset((*CORE_TAGS, "time", "value"))
WRITE_CHUNK_LINES = 10_000  # lines per POST /write: InfluxDB's recommended 5,000-10,000
WRITE_CONCURRENCY = 2  # POSTs in flight: overlaps our formatting with the server's parsing and WAL fsync
QUERY_CHUNK_ROWS = 10_000  # chunked responses: no max-row-limit truncation, bounded server memory
_FUNCTIONS = {"mean": "MEAN", "max": "MAX", "min": "MIN", "sum": "SUM", "count": "COUNT", "last": "LAST"}
_PLACEHOLDER = 0.5


@dataclass(frozen=True)
class InfluxTarget:
    """Where and as whom to talk to InfluxDB, parsed from influxdb[s]://[user:password@]host:port/db[?token=]."""

    base_url: str  # scheme://host:port, never with credentials: safe to show
    database: str
    username: str | None = None
    password: str | None = None
    token: str | None = None

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.password, self.token) if s)


def parse_influx_url(url: str) -> InfluxTarget:
    parts = urlsplit(url)
    if parts.scheme not in ("influxdb", "influxdbs"):
        raise ValueError(f"not an InfluxDB URL (scheme {parts.scheme!r}): use influxdb://host:8086/database")
    database = unquote(parts.path.strip("/"))
    if not database or "/" in database:
        raise ValueError("the InfluxDB URL must name one database, e.g. influxdb://host:8086/headroom")
    host = parts.hostname or "localhost"
    host = f"[{host}]" if ":" in host else host
    base_url = f"{'https' if parts.scheme == 'influxdbs' else 'http'}://{host}:{parts.port or 8086}"
    token = parse_qs(parts.query).get("token", [None])[0]
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return InfluxTarget(base_url, database, username, password, token)


def quote_ident(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def quote_literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def line_prefix(ref: SeriesRef) -> str:
    """'metrics,<tags> ' for the series, escaped by influxdb_client's Point; each line appends value and time."""
    clashing = sorted(RESERVED_KEYS & ref.labels.keys())
    if clashing:
        raise ValueError(f"{ref.series_id}: label names {clashing} are reserved in InfluxDB; rename those labels")
    point = Point(MEASUREMENT)
    for key, value in {**ref.labels, "series_id": ref.series_id, "resource_id": ref.resource_id,
                       "metric": ref.metric, "unit": ref.unit}.items():
        point.tag(key, value)
    line = point.field("value", _PLACEHOLDER).to_line_protocol()
    suffix = f"value={_PLACEHOLDER!r}"
    if not line.endswith(suffix):
        raise RuntimeError(f"unexpected line protocol from influxdb_client.Point: {line!r}")
    return line.removesuffix(suffix)


def line_protocol(batches: Iterable[SampleBatch]) -> Iterator[str]:
    """One line per sample, precision seconds; repr() keeps every float exact."""
    for batch in batches:
        prefix = line_prefix(batch.series)
        for ts, value in zip(batch.timestamps.tolist(), batch.values.tolist(), strict=True):
            yield f"{prefix}value={value!r} {ts}"


class InfluxMetricStore(MetricStore):
    """Measurement `metrics`: tags series_id, resource_id, metric, unit and every label; one float field `value`.

    Empty tag values are not stored by InfluxDB, so an empty unit or label reads back as absent. Changing a
    series' labels creates a new InfluxDB series with the same series_id; reads merge them.
    """

    def __init__(self, url: str, *, timeout_seconds: float = 60.0) -> None:
        self._target = parse_influx_url(url)
        headers = {"Authorization": f"Token {self._target.token}"} if self._target.token else {}
        auth = (self._target.username, self._target.password or "") if self._target.username else None
        self._timeout = timeout_seconds
        self._client = httpx.Client(base_url=self._target.base_url, headers=headers, auth=auth, timeout=timeout_seconds)
        self._database_ready = False

    def __repr__(self) -> str:
        return f"InfluxMetricStore({self._target.base_url!r}, database={self._target.database!r})"

    # -- writing -------------------------------------------------------------------------------
    def write(self, batches: Iterable[SampleBatch]) -> int:
        merged = coalesce_batches(batches)
        if not merged:
            return 0
        self._ensure_database()
        lines = line_protocol(merged)
        # coalesced lines never repeat a (series, time), so chunks may land in any order
        with ThreadPoolExecutor(max_workers=WRITE_CONCURRENCY, thread_name_prefix="influx-write") as pool:
            in_flight: deque[Future[httpx.Response]] = deque()
            while chunk := list(islice(lines, WRITE_CHUNK_LINES)):
                params = {"db": self._target.database, "precision": "s"}
                in_flight.append(pool.submit(self._request, "/write", params=params, content="\n".join(chunk).encode()))
                if len(in_flight) > WRITE_CONCURRENCY:
                    in_flight.popleft().result()
            for future in in_flight:
                future.result()
        return sum(len(b) for b in merged)

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
        where = f"{quote_ident('series_id')} = {quote_literal(series_id)}"
        where += f" AND time >= {to_epoch(start)}s AND time < {to_epoch(end)}s"
        if step_seconds is None:
            query = f'SELECT "value" FROM {quote_ident(MEASUREMENT)} WHERE {where}'
        else:
            if int(step_seconds) <= 0:
                raise ValueError(f"step_seconds must be a positive number of seconds, got {step_seconds}")
            pct = percentile_of(agg)
            func = f'PERCENTILE("value", {pct})' if pct is not None else f'{_FUNCTIONS[agg]}("value")'
            query = (
                f"SELECT {func} FROM {quote_ident(MEASUREMENT)} WHERE {where} "
                f"GROUP BY time({int(step_seconds)}s) fill(none)"
            )
        self._ensure_database()
        rows = [row for s in self._query(query) for row in s.get("values") or [] if row[1] is not None]
        if not rows and self._newest(series_id) is None:
            raise UnknownSeriesError(series_id)
        epochs = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        values = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
        return as_series(epochs, values)

    def series(self, filters: Mapping[str, str] | None = None) -> list[SeriesInfo]:
        # LAST ... GROUP BY * returns every tag set with its tags already parsed, on 1.x, 2.x and 3.x alike
        conditions = " AND ".join(f"{quote_ident(k)} = {quote_literal(v)}" for k, v in (filters or {}).items())
        where = f" WHERE {conditions}" if conditions else ""
        self._ensure_database()
        found: dict[str, SeriesInfo] = {}
        for entry in self._query(f'SELECT LAST("value") FROM {quote_ident(MEASUREMENT)}{where} GROUP BY *'):
            tags = {k: v for k, v in (entry.get("tags") or {}).items() if v}
            if "series_id" not in tags:
                continue
            labels = {k: v for k, v in tags.items() if k not in RESERVED_KEYS}
            found[tags["series_id"]] = SeriesInfo(
                tags["series_id"], tags.get("resource_id", ""), tags.get("metric", ""), tags.get("unit", ""), labels
            )
        return [found[k] for k in sorted(found)]

    def watermark(self, series_id: str) -> datetime | None:
        self._ensure_database()
        newest = self._newest(series_id)
        return None if newest is None else datetime.fromtimestamp(newest, UTC)

    def watermarks(self, series_ids: Sequence[str]) -> dict[str, datetime]:
        if not series_ids:
            return {}
        self._ensure_database()
        either = " OR ".join(f"{quote_ident('series_id')} = {quote_literal(sid)}" for sid in sorted(set(series_ids)))
        query = (f'SELECT LAST("value") FROM {quote_ident(MEASUREMENT)} WHERE {either} '
                 f'GROUP BY {quote_ident("series_id")}')
        found: dict[str, datetime] = {}
        for entry in self._query(query):
            sid = (entry.get("tags") or {}).get("series_id")
            rows = entry.get("values") or []
            if sid and rows:
                found[sid] = datetime.fromtimestamp(int(rows[-1][0]), UTC)
        return found

    def _newest(self, series_id: str) -> int | None:
        where = f"{quote_ident('series_id')} = {quote_literal(series_id)}"
        query = f'SELECT LAST("value") FROM {quote_ident(MEASUREMENT)} WHERE {where}'
        rows = [row for s in self._query(query) for row in s.get("values") or []]
        return int(rows[-1][0]) if rows else None

    def close(self) -> None:
        self._client.close()

    # -- HTTP ----------------------------------------------------------------------------------
    def _ensure_database(self) -> None:
        # 2.x and 3.x (token auth) map or create databases themselves; CREATE DATABASE is 1.x only
        if self._database_ready or self._target.token:
            return
        self._query(f"CREATE DATABASE {quote_ident(self._target.database)}", database=None)
        self._database_ready = True

    def _query(self, query: str, *, database: str | None = "") -> list[dict[str, Any]]:
        """Run InfluxQL; returns every series of every result (chunks concatenated in order)."""
        params = {"epoch": "s", "chunked": "true", "chunk_size": str(QUERY_CHUNK_ROWS)}
        if database is not None:
            params["db"] = database or self._target.database
        response = self._request("/query", params=params, data={"q": query})
        series: list[dict[str, Any]] = []
        for line in response.text.splitlines():
            if not line.strip():
                continue
            payload = json.loads(line)
            if payload.get("error"):
                raise MetricStoreError(self._scrub(f"InfluxDB rejected the query: {payload['error']}"))
            for result in payload.get("results", []):
                if result.get("error"):
                    raise MetricStoreError(self._scrub(f"InfluxDB rejected the query: {result['error']}"))
                series.extend(result.get("series", []))
        return series

    def _request(self, path: str, **kwargs: Any) -> httpx.Response:
        base = self._target.base_url
        try:
            response = self._client.post(path, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            raise MetricStoreError(
                f"InfluxDB at {base} is not reachable: start it or fix HEADROOM_METRICS_URL"
            ) from None
        except httpx.TimeoutException:
            raise MetricStoreError(
                f"InfluxDB at {base} did not answer within {self._timeout:.0f}s: check its load and logs"
            ) from None
        except httpx.HTTPError as exc:
            raise MetricStoreError(self._scrub(f"InfluxDB at {base} failed: {exc.__class__.__name__}: {exc}")) from None
        if response.status_code in (401, 403):
            who = "the token" if self._target.token else "the user and password"
            problem = "refused the credentials" if response.status_code == 401 else "denied access"
            raise MetricStoreError(
                f"InfluxDB at {base} {problem} (HTTP {response.status_code}) for database "
                f"{self._target.database!r}: check {who} in HEADROOM_METRICS_URL"
            )
        if response.status_code >= 400:
            raise MetricStoreError(
                self._scrub(f"InfluxDB at {base} answered HTTP {response.status_code}: {_error_text(response)}")
            )
        return response

    def _scrub(self, message: str) -> str:
        for secret in self._target.secrets:
            message = message.replace(secret, "***")
        return message


def _error_text(response: httpx.Response) -> str:
    try:
        return str(response.json().get("error") or response.text[:500])
    except (ValueError, AttributeError):
        return response.text[:500] or response.reason_phrase
