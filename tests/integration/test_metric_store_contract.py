"""One contract suite for every MetricStore: SQLite, PostgreSQL and InfluxDB must give the same answers."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import text

from collector.records import SampleBatch, SeriesRef
from services.db.engine import engine_for
from services.db.migrate import upgrade
from services.metrics import (
    InfluxMetricStore,
    MetricStore,
    MetricStoreError,
    SqlMetricStore,
    UnknownSeriesError,
    nearest_rank_index,
    open_metric_store,
)
from testbed.servers import InfluxServer, free_port

pytestmark = pytest.mark.integration

BACKENDS = ("sqlite", "postgresql", "influxdb")
DAY = 86_400
T0 = 19_676 * DAY  # 2023-11-15T00:00:00Z, a day boundary
CPU = SeriesRef("i-0a1", "cpu_utilization", "percent", {"provider": "aws", "region": "eu-west-1"})


def at(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def batch(ref: SeriesRef, timestamps: np.ndarray, values: np.ndarray) -> SampleBatch:
    return SampleBatch(ref, np.asarray(timestamps), np.asarray(values))


def expected(ts: np.ndarray, values: np.ndarray, start: int, end: int, step: int, agg: str) -> pd.Series:
    """The numpy reference every store must match: half-open range, epoch-aligned buckets, nearest rank."""
    keep = (ts >= start) & (ts < end)
    ts, values = ts[keep], values[keep]
    buckets = ts - ts % step
    labels, results = [], []
    for bucket in np.unique(buckets):
        v, t = values[buckets == bucket], ts[buckets == bucket]
        if agg.startswith("p"):
            result = np.sort(v)[nearest_rank_index(len(v), int(agg[1:]))]
        else:
            reducers = {"mean": np.mean, "max": np.max, "min": np.min, "sum": np.sum, "count": len}
            result = v[np.argmax(t)] if agg == "last" else reducers[agg](v)
        labels.append(bucket)
        results.append(float(result))
    return pd.Series(results, index=pd.to_datetime(labels, unit="s", utc=True), name="value")


@pytest.fixture(scope="module")
def migrated_postgres_url(postgres_url: str) -> str:
    upgrade(postgres_url)
    return postgres_url


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """An empty, ready store per test: a migrated SQLite file, the truncated PostgreSQL, a new InfluxDB database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'metrics.db'}"
        upgrade(url)
        yield url
    elif request.param == "postgresql":
        url = request.getfixturevalue("migrated_postgres_url")
        with engine_for(url).begin() as conn:
            conn.execute(text("TRUNCATE metric_points, series RESTART IDENTITY CASCADE"))
        yield url
    else:
        server: InfluxServer = request.getfixturevalue("influx_server")
        database = f"contract_{secrets.token_hex(4)}"
        yield server.url(database)
        server.query(f'DROP DATABASE "{database}"')


@pytest.fixture
def store(store_url: str) -> Iterator[MetricStore]:
    metric_store = open_metric_store(store_url)
    yield metric_store
    metric_store.close()


@pytest.fixture(scope="module")
def irregular() -> tuple[np.ndarray, np.ndarray]:
    """Two days of jittered ~1-minute samples with hours 10 and 11 of the first day missing."""
    rng = np.random.default_rng(42)
    ts = np.unique(T0 + rng.choice(2 * DAY, size=2600, replace=False))
    ts = ts[(ts < T0 + 10 * 3600) | (ts >= T0 + 12 * 3600)]
    return ts, np.round(rng.normal(50.0, 15.0, size=ts.size), 3)


def test_open_metric_store_picks_the_implementation(store_url: str, store: MetricStore) -> None:
    wanted = InfluxMetricStore if store_url.startswith("influxdb") else SqlMetricStore
    assert isinstance(store, wanted)


def test_empty_store_has_no_watermark_and_no_series(store: MetricStore) -> None:
    assert store.watermark(CPU.series_id) is None
    assert store.series() == []
    with pytest.raises(UnknownSeriesError):
        store.read(CPU.series_id, at(T0), at(T0 + DAY))


def test_unknown_series_raises_after_others_are_written(store: MetricStore) -> None:
    store.write([batch(CPU, [T0], [1.0])])
    for step in (None, 3600):
        with pytest.raises(UnknownSeriesError, match="i-missing/cpu_utilization"):
            store.read("i-missing/cpu_utilization", at(T0), at(T0 + DAY), step, "mean")


def test_writes_are_idempotent_and_the_last_write_wins(store: MetricStore) -> None:
    ts = T0 + 60 * np.arange(1000)
    values = np.linspace(0.0, 99.9, 1000)
    assert store.write([batch(CPU, ts, values)]) == 1000
    assert store.write([batch(CPU, ts, values)]) == 1000
    assert len(store.read(CPU.series_id, at(T0), at(T0 + DAY))) == 1000

    rewritten = values.copy()
    rewritten[:10] += 1000.0
    store.write([batch(CPU, ts[:10], rewritten[:10])])
    # inside one call, a repeated timestamp keeps the later sample; NaN is never stored
    store.write([batch(CPU, [ts[20], ts[20], ts[21]], [7.0, 8.0, np.nan])])
    got = store.read(CPU.series_id, at(T0), at(T0 + DAY))
    rewritten[20] = 8.0
    assert len(got) == 1000
    np.testing.assert_array_equal(got.to_numpy(), rewritten)
    assert store.read(CPU.series_id, at(T0), at(T0 + DAY), 86_400, "count").tolist() == [1000.0]


def test_raw_read_returns_the_exact_points(store: MetricStore, irregular: tuple[np.ndarray, np.ndarray]) -> None:
    ts, values = irregular
    store.write([batch(CPU, ts, values + 1e-9)])
    got = store.read(CPU.series_id, at(T0), at(T0 + 2 * DAY))
    assert isinstance(got.index, pd.DatetimeIndex) and str(got.index.tz) == "UTC"
    np.testing.assert_array_equal(got.index.asi8 // 10**9, ts)
    np.testing.assert_array_equal(got.to_numpy(), values + 1e-9)


def test_ranges_are_half_open(store: MetricStore) -> None:
    store.write([batch(CPU, T0 + 60 * np.arange(60), np.arange(60, dtype=float))])
    raw = store.read(CPU.series_id, at(T0 + 600), at(T0 + 1200))
    assert raw.index[0] == pd.Timestamp(at(T0 + 600)) and raw.index[-1] == pd.Timestamp(at(T0 + 1140))
    assert raw.tolist() == [float(i) for i in range(10, 20)]
    counts = store.read(CPU.series_id, at(T0 + 600), at(T0 + 1200), 600, "count")
    assert counts.to_dict() == {pd.Timestamp(at(T0 + 600)): 10.0}
    assert store.read(CPU.series_id, at(T0 + 3600), at(T0 + 7200)).empty


@pytest.mark.parametrize("agg", ["mean", "max", "min", "sum", "count", "last", "p50", "p95", "p99"])
def test_bucketed_reads_match_numpy(store: MetricStore, irregular: tuple[np.ndarray, np.ndarray], agg: str) -> None:
    ts, values = irregular
    store.write([batch(CPU, ts, values)])
    start, end = T0 + 1234, T0 + 2 * DAY - 777  # not on bucket boundaries: buckets are labelled by their start
    got = store.read(CPU.series_id, at(start), at(end), 3600, agg)
    want = expected(ts, values, start, end, 3600, agg)
    assert got.index.equals(want.index), f"bucket labels differ for {agg}"
    np.testing.assert_allclose(got.to_numpy(), want.to_numpy(), rtol=1e-9)


@pytest.mark.parametrize("agg", ["p50", "p90", "p99", "last"])
def test_tiny_buckets_pick_the_same_rank_everywhere(store: MetricStore, agg: str) -> None:
    # bucket k (one per minute) holds k + 1 samples, in descending order so sorting matters
    ts = np.concatenate([T0 + 60 * k + np.arange(k + 1) for k in range(8)])
    values = np.concatenate([np.arange(k + 1, dtype=float)[::-1] * 10 + k for k in range(8)])
    store.write([batch(CPU, ts, values)])
    got = store.read(CPU.series_id, at(T0), at(T0 + 3600), 60, agg)
    want = expected(ts, values, T0, T0 + 3600, 60, agg)
    assert got.index.equals(want.index)
    np.testing.assert_array_equal(got.to_numpy(), want.to_numpy())


def test_gaps_stay_gaps(store: MetricStore, irregular: tuple[np.ndarray, np.ndarray]) -> None:
    ts, values = irregular
    store.write([batch(CPU, ts, values)])
    got = store.read(CPU.series_id, at(T0), at(T0 + DAY), 3600, "p95")
    hours = set((got.index.asi8 // 10**9 - T0) // 3600)
    assert hours == set(range(24)) - {10, 11}


def test_series_listing_with_label_filters(store: MetricStore) -> None:
    tricky = {"provider": "gcp", "team": "core, infra=ops 'x\" y"}
    refs = [
        SeriesRef("i-b", "memory_utilization", "percent", {"provider": "aws", "region": "us-east-1"}),
        CPU,
        SeriesRef("vm-9", "network_in_bytes", "bytes", tricky),
    ]
    store.write([batch(ref, [T0 + i], [float(i)]) for i, ref in enumerate(refs)])
    listed = store.series()
    assert [s.series_id for s in listed] == sorted(r.series_id for r in refs)
    by_id = {s.series_id: s for s in listed}
    for ref in refs:
        info = by_id[ref.series_id]
        assert (info.resource_id, info.metric, info.unit) == (ref.resource_id, ref.metric, ref.unit)
        assert info.labels == ref.labels

    def ids(**filters: str) -> list[str]:
        return [s.series_id for s in store.series(filters)]

    assert ids(provider="aws") == ["i-0a1/cpu_utilization", "i-b/memory_utilization"]
    assert ids(provider="aws", region="us-east-1") == ["i-b/memory_utilization"]
    assert ids(metric="cpu_utilization") == ["i-0a1/cpu_utilization"]
    assert ids(resource_id="vm-9") == ["vm-9/network_in_bytes"]
    assert ids(team=tricky["team"]) == ["vm-9/network_in_bytes"]
    assert ids(provider="azure") == []
    assert ids(nosuchlabel="x") == []


def test_watermark_is_the_newest_sample(store: MetricStore) -> None:
    store.write([batch(CPU, [T0 + 300, T0 + 60, T0 + 120], [1.0, 2.0, 3.0])])
    assert store.watermark(CPU.series_id) == at(T0 + 300)
    store.write([batch(CPU, [T0 + 900], [4.0])])
    assert store.watermark(CPU.series_id) == at(T0 + 900)
    assert store.watermark("i-other/cpu_utilization") is None


def test_watermarks_of_many_series_in_one_call(store: MetricStore) -> None:
    memory = SeriesRef("i-0a1", "memory_utilization", "percent", {"provider": "aws", "region": "eu-west-1"})
    store.write([batch(CPU, [T0 + 300, T0 + 60], [1.0, 2.0]), batch(memory, [T0 + 600, T0 + 1200], [5.0, 6.0])])
    wanted = [CPU.series_id, memory.series_id, "i-other/cpu_utilization"]
    assert store.watermarks(wanted) == {CPU.series_id: at(T0 + 300), memory.series_id: at(T0 + 1200)}
    assert store.watermarks(wanted) == {sid: ts for sid in wanted if (ts := store.watermark(sid)) is not None}
    assert store.watermarks([]) == {}


def test_a_million_points_round_trip(store: MetricStore, store_url: str) -> None:
    n, every = 1_000_000, 10
    ts = T0 + every * np.arange(n, dtype=np.int64)
    values = np.random.default_rng(1).uniform(0.0, 100.0, n)
    began = time.perf_counter()
    assert store.write([batch(CPU, ts, values)]) == n
    wrote = time.perf_counter()
    counts = store.read(CPU.series_id, at(T0), at(T0 + n * every), DAY, "count")
    maxima = store.read(CPU.series_id, at(T0), at(T0 + n * every), DAY, "max")
    read = time.perf_counter()
    assert counts.sum() == n
    assert (counts.iloc[:-1] == DAY // every).all()
    np.testing.assert_array_equal(maxima.to_numpy(), expected(ts, values, T0, T0 + n * every, DAY, "max").to_numpy())
    day = store.read(CPU.series_id, at(T0 + 7 * DAY), at(T0 + 8 * DAY))
    np.testing.assert_array_equal(day.to_numpy(), values[7 * 8640 : 8 * 8640])
    backend = store_url.split(":", 1)[0]
    print(f"\n1M points on {backend}: write {wrote - began:.1f}s, two daily aggregations {read - wrote:.1f}s")


def test_unreachable_influxdb_is_a_clear_error() -> None:
    password = "s3cret-Pa55word"  # noqa: S105 - a test value that must not leak
    port = free_port()
    store = InfluxMetricStore(f"influxdb://admin:{password}@127.0.0.1:{port}/headroom")
    with pytest.raises(MetricStoreError) as caught:
        store.write([batch(CPU, [T0], [1.0])])
    message = str(caught.value)
    assert message == (
        f"InfluxDB at http://127.0.0.1:{port} is not reachable: start it or fix HEADROOM_METRICS_URL"
    )
    assert password not in message and password not in repr(store)
    for call in (lambda: store.series(), lambda: store.watermark(CPU.series_id)):
        with pytest.raises(MetricStoreError, match="not reachable"):
            call()


def test_wrong_influxdb_password_names_the_credentials(influx_server: InfluxServer) -> None:
    password = "wrong-" + secrets.token_hex(8)
    store = InfluxMetricStore(f"influxdb://{influx_server.user}:{password}@127.0.0.1:{influx_server.port}/headroom")
    with pytest.raises(MetricStoreError, match="refused the credentials.*user and password") as caught:
        store.series()
    assert password not in str(caught.value)


def test_unsupported_scheme_does_not_echo_the_url() -> None:
    with pytest.raises(ValueError, match="unsupported metrics URL scheme 'mysql'") as caught:
        open_metric_store("mysql://root:hunter2@db/metrics")
    assert "hunter2" not in str(caught.value)
