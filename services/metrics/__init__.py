"""Metric stores: open_metric_store picks the SQL or InfluxDB implementation by the URL's scheme."""

from __future__ import annotations

from urllib.parse import urlsplit

from services.metrics.base import (
    AGGREGATIONS,
    MetricStore,
    MetricStoreError,
    SeriesInfo,
    UnknownSeriesError,
    as_series,
    check_aggregation,
    coalesce_batches,
    nearest_rank_index,
    percentile_of,
    to_epoch,
)
from services.metrics.influx import InfluxMetricStore
from services.metrics.sql import SqlMetricStore

__all__ = [
    "AGGREGATIONS",
    "InfluxMetricStore",
    "MetricStore",
    "MetricStoreError",
    "SeriesInfo",
    "SqlMetricStore",
    "UnknownSeriesError",
    "as_series",
    "check_aggregation",
    "coalesce_batches",
    "nearest_rank_index",
    "open_metric_store",
    "percentile_of",
    "to_epoch",
]


def open_metric_store(url: str) -> MetricStore:
    """sqlite*/postgresql* -> SqlMetricStore; influxdb:// or influxdbs:// -> InfluxMetricStore."""
    scheme = urlsplit(url).scheme.lower()
    if scheme.startswith(("sqlite", "postgresql")):
        return SqlMetricStore(url)
    if scheme in ("influxdb", "influxdbs"):
        return InfluxMetricStore(url)
    # only the scheme is echoed: the rest of the URL may hold a password
    raise ValueError(
        f"unsupported metrics URL scheme {scheme!r}: use sqlite:///path.db, postgresql+psycopg2://... "
        "or influxdb://host:8086/database"
    )
