"""Training end to end on a migrated SQLite database: metric store in, forecasts and model versions out."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from collector.records import SampleBatch, SeriesRef
from services.db.engine import session_scope
from services.db.migrate import upgrade
from services.db.models import ForecastPointRow, ForecastRow, ModelVersionRow
from services.forecasting.training import STATS, active_model_version, latest_forecast, train_all, train_series
from services.metrics import MetricStore, open_metric_store
from services.settings import ForecastingSettings

AS_OF = date(2024, 3, 10)
LAST_SAMPLE = datetime(2024, 3, 10, 13, 35, tzinfo=UTC)  # mid-hour: the 13:00 bucket is the last observed
STEP = 300
SETTINGS = ForecastingSettings(model="auto_ets", horizon_hours=48, history_days=7, min_history_hours=48)
GOOD = ["web-1/cpu_utilization", "web-2/request_count"]
SHORT = "db-1/cpu_utilization"
GHOST = "ghost-9/cpu_utilization"  # never written: its read raises, and the batch carries on


def samples(resource: str, metric: str, *, days: float, level: float, amplitude: float, seed: int) -> SampleBatch:
    """5-minute samples with a daily cycle and noise (so the hourly p95 sits above the hourly mean)."""
    count = int(days * 24 * 3600 / STEP)
    end = int(LAST_SAMPLE.timestamp())
    ts = np.arange(end - (count - 1) * STEP, end + 1, STEP, dtype=np.int64)
    daily = amplitude * np.sin(2 * np.pi * (ts % 86400) / 86400)
    noise = np.random.default_rng(seed).normal(0, amplitude / 5, ts.size)
    return SampleBatch(SeriesRef(resource, metric), ts, np.clip(level + daily + noise, 0, None))


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[str, MetricStore]]:
    url = f"sqlite:///{tmp_path / 'headroom.db'}"
    upgrade(url)
    store = open_metric_store(url)
    store.write(
        [
            samples("web-1", "cpu_utilization", days=9, level=40, amplitude=20, seed=1),
            samples("web-2", "request_count", days=9, level=300, amplitude=120, seed=2),
            samples("db-1", "cpu_utilization", days=1.5, level=10, amplitude=3, seed=3),
        ]
    )
    yield url, store
    store.close()


def count(url: str, model: type) -> int:
    with session_scope(url) as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_train_all_forecasts_mean_and_p95_and_isolates_bad_series(db: tuple[str, MetricStore]) -> None:
    url, store = db
    seen: list[tuple[int, int, str]] = []
    summary = train_all(
        as_of=AS_OF,
        metric_store=store,
        db_url=url,
        settings=SETTINGS,
        series_ids=[GHOST, *GOOD, SHORT],
        progress=lambda done, total, sid: seen.append((done, total, sid)),
    )
    assert summary.trained == GOOD
    assert list(summary.errors) == [GHOST] and "unknown series" in summary.errors[GHOST]
    assert "min_history_hours=48" in summary.skipped[SHORT]
    assert seen == [(i, 4, sid) for i, sid in enumerate([GHOST, *GOOD, SHORT], start=1)]

    first_step = LAST_SAMPLE.replace(minute=0) + timedelta(hours=1)
    with session_scope(url) as session:
        for series_id in GOOD:
            averages = {}
            for stat in STATS:
                row = latest_forecast(session, series_id, stat)
                assert row is not None and row.as_of == AS_OF and row.step_seconds == 3600
                assert len(row.points) == SETTINGS.horizon_hours
                assert [p.ts for p in row.points] == [first_step + timedelta(hours=h) for h in range(48)]
                for p in row.points:
                    assert p.lo95 is not None and p.lo80 is not None and p.hi80 is not None and p.hi95 is not None
                    assert 0 <= p.lo95 <= p.lo80 <= p.mean <= p.hi80 <= p.hi95
                version = active_model_version(session, series_id, stat)
                assert version is not None and row.model_version_id == version.id
                assert version.data_end == first_step - timedelta(hours=1)
                assert version.metrics["holdout"] == min(SETTINGS.horizon_hours, int(0.2 * 7 * 24))
                assert {"mase", "smape", "coverage80", "coverage95"} <= set(version.metrics)
                averages[stat] = np.mean([p.mean for p in row.points])
            assert averages["p95"] > averages["mean"]
        assert latest_forecast(session, SHORT, "mean") is None


def test_retraining_the_same_day_replaces_forecasts_and_bumps_versions(db: tuple[str, MetricStore]) -> None:
    url, store = db
    train_all(as_of=AS_OF, metric_store=store, db_url=url, settings=SETTINGS)
    forecasts, points = count(url, ForecastRow), count(url, ForecastPointRow)
    assert (forecasts, points) == (len(GOOD) * 2, len(GOOD) * 2 * 48)

    # the same day again is skipped: (series, day) is trained once unless forced
    same = train_all(as_of=AS_OF, metric_store=store, db_url=url, settings=SETTINGS)
    assert same.trained == [] and all("already trained" in same.skipped[s] for s in GOOD)
    assert count(url, ModelVersionRow) == len(GOOD) * 2

    # forced: same data, same model, so the same backtest MASE: no worse, so promoted and served
    again = train_all(as_of=AS_OF, metric_store=store, db_url=url, settings=SETTINGS, force=True)
    assert again.trained == GOOD and again.errors == {}
    assert (count(url, ForecastRow), count(url, ForecastPointRow)) == (forecasts, points)
    with session_scope(url) as session:
        for series_id in GOOD:
            for stat in STATS:
                rows = session.scalars(
                    select(ModelVersionRow)
                    .where(ModelVersionRow.series_id == series_id, ModelVersionRow.stat == stat)
                    .order_by(ModelVersionRow.version)
                ).all()
                assert [(r.version, r.status) for r in rows] == [(1, "retired"), (2, "active")]
                forecast = latest_forecast(session, series_id, stat)
                assert forecast is not None and forecast.model_version_id == rows[-1].id

    result = train_series(
        series_id=GOOD[0], as_of=AS_OF + timedelta(days=1), metric_store=store, db_url=url, settings=SETTINGS
    )
    assert result.trained and [s.model_version for s in result.stats] == [3, 3]
    assert count(url, ForecastRow) == forecasts + 2  # a new day adds, it does not replace
    with session_scope(url) as session:
        newest = latest_forecast(session, GOOD[0], "mean")
        assert newest is not None and newest.as_of == AS_OF + timedelta(days=1)
