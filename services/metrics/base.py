"""The MetricStore interface: idempotent writes, bucketed range reads, series listing, watermarks."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from collector.records import SampleBatch

AGGREGATIONS = ("mean", "max", "min", "sum", "count", "last", "p50", "p90", "p95", "p99")
_PERCENTILE = re.compile(r"^p(\d{1,2})$")


class MetricStoreError(RuntimeError):
    """The metric store cannot be reached or refused a request; the message says what to fix."""


class UnknownSeriesError(KeyError):
    """No series with that id is stored."""

    def __str__(self) -> str:
        return f"unknown series {self.args[0]!r}: list stored series with GET /api/series"


@dataclass(frozen=True)
class SeriesInfo:
    series_id: str
    resource_id: str
    metric: str
    unit: str = ""
    labels: dict[str, str] = field(default_factory=dict)


def percentile_of(agg: str) -> int | None:
    """'p95' -> 95; None for non-percentile aggregations."""
    m = _PERCENTILE.match(agg)
    return int(m.group(1)) if m else None


def check_aggregation(agg: str) -> str:
    if agg not in AGGREGATIONS:
        raise ValueError(f"unknown aggregation {agg!r}: use one of {', '.join(AGGREGATIONS)}")
    return agg


def nearest_rank_index(n: int, pct: int) -> int:
    """Index into the sorted bucket of n values for percentile pct, as InfluxDB's PERCENTILE picks it.

    All stores use this one definition so that the same data gives the same p95 everywhere.
    """
    return min(max(int(np.floor(n * pct / 100.0 + 0.5)) - 1, 0), n - 1)


def to_epoch(ts: datetime) -> int:
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return int(ts.timestamp())


def as_series(epochs: Iterable[int], values: Iterable[float]) -> pd.Series:
    """A float series indexed by UTC timestamps, the shape every read returns."""
    idx = pd.to_datetime(np.asarray(list(epochs), dtype=np.int64), unit="s", utc=True)
    return pd.Series(np.asarray(list(values), dtype=np.float64), index=idx, name="value")


class MetricStore(ABC):
    """Where samples live. Writing the same sample twice stores it once (last write wins)."""

    @abstractmethod
    def write(self, batches: Iterable[SampleBatch]) -> int:
        """Store every sample of every batch; returns how many samples were written."""

    @abstractmethod
    def read(
        self,
        series_id: str,
        start: datetime,
        end: datetime,
        step_seconds: int | None = None,
        agg: str = "mean",
    ) -> pd.Series:
        """Samples in [start, end). With a step, one value per epoch-aligned bucket that holds data
        (empty buckets are absent: gaps stay gaps), labelled by the bucket's start.
        Raises UnknownSeriesError for a series never written."""

    @abstractmethod
    def series(self, filters: Mapping[str, str] | None = None) -> list[SeriesInfo]:
        """Stored series whose labels (or resource_id / metric) equal every filter, sorted by id."""

    @abstractmethod
    def watermark(self, series_id: str) -> datetime | None:
        """Timestamp of the newest stored sample, or None."""

    def watermarks(self, series_ids: Sequence[str]) -> dict[str, datetime]:
        """watermark() of many series, by id (series without a sample left out). Stores answer it in one query."""
        found = {sid: self.watermark(sid) for sid in series_ids}
        return {sid: ts for sid, ts in found.items() if ts is not None}

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""


def coalesce_batches(batches: Iterable[SampleBatch]) -> list[SampleBatch]:
    """One batch per series, sorted by time, one sample per timestamp (the last one written wins).

    Non-finite values (NaN, inf) are dropped: a missing sample is a gap, never a stored NaN. Batches
    left empty are dropped too, so an empty batch never creates a series.
    """
    grouped: dict[str, list[SampleBatch]] = {}
    for batch in batches:
        grouped.setdefault(batch.series.series_id, []).append(batch)
    merged: list[SampleBatch] = []
    for parts in grouped.values():
        ts = np.concatenate([p.timestamps for p in parts])
        values = np.concatenate([p.values for p in parts])
        finite = np.isfinite(values)
        ts, values = ts[finite][::-1], values[finite][::-1]
        unique_ts, last_index = np.unique(ts, return_index=True)  # first in reversed order = last written
        if len(unique_ts):
            merged.append(SampleBatch(parts[-1].series, unique_ts, values[last_index]))
    return merged
