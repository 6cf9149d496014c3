"""Live accuracy and anomaly incidents on a migrated SQLite database, hand-checked on a tiny forecast."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from collector.records import SampleBatch, SeriesRef
from services.db.engine import session_scope
from services.db.migrate import upgrade
from services.db.models import ForecastScoreRow
from services.forecasting.accuracy import accuracy_by_model, accuracy_by_series, live_model_accuracy, score_forecasts
from services.forecasting.anomalies import detect_anomalies, list_anomalies
from services.forecasting.registry import NewVersion, register_version
from services.metrics import MetricStore, open_metric_store
from services.settings import TrainingSettings

SERIES = "web-1/cpu_utilization"
START = datetime(2026, 11, 2, tzinfo=UTC)  # first forecast step


def write_hours(store: MetricStore, values: list[float], first: datetime = START) -> None:
    """Twelve 5-minute samples per hour, all at the hour's value: the hourly mean is the value."""
    ts = np.array([int((first + timedelta(hours=h, minutes=5 * k)).timestamp()) for h in range(len(values))
                   for k in range(12)], dtype=np.int64)
    store.write([SampleBatch(SeriesRef("web-1", "cpu_utilization"), ts, np.repeat(values, 12).astype(float))])


@pytest.fixture
def db(tmp_path: Path) -> tuple[str, MetricStore]:
    url = f"sqlite:///{tmp_path / 'headroom.db'}"
    upgrade(url)
    return url, open_metric_store(url)


def register(url: str, hours: int, *, scale: float = 2.0) -> None:
    points = [{"ts": START + timedelta(hours=h), "mean": 10.0, "lo80": 9.0, "hi80": 11.0, "lo95": 8.0,
               "hi95": 12.0} for h in range(hours)]
    new = NewVersion(series_id=SERIES, stat="mean", as_of=date(2026, 11, 1), model_name="AutoETS",
                     params={"mase_scale": scale}, metrics={"mase": 0.7}, data_start=START - timedelta(days=7),
                     data_end=START - timedelta(hours=1), step_seconds=3600, points=points)
    with session_scope(url) as session:
        register_version(session, new, artifacts=None)


def test_live_mase_and_coverage_by_hand(db: tuple[str, MetricStore]) -> None:
    url, store = db
    register(url, hours=4)
    write_hours(store, [10.0, 11.5, 7.0, 10.0])
    # two hours over: errors 0 and 1.5 -> MAE 0.75, MASE 0.75 / 2 = 0.375; 11.5 is outside [9, 11], inside [8, 12]
    assert score_forecasts(db_url=url, metric_store=store, now=START + timedelta(hours=2, minutes=30)) == 1
    with session_scope(url) as session:
        row = session.get(ForecastScoreRow, 1)
        assert row is not None
        assert (row.points, row.horizon, row.mae, row.mase, row.coverage80, row.coverage95) == (
            2, 4, 0.75, 0.375, 0.5, 1.0)
    # all four over: MAE (0 + 1.5 + 3 + 0) / 4 = 1.125, MASE 0.5625; 80%: 2 of 4 inside; 95%: 3 of 4
    assert score_forecasts(db_url=url, metric_store=store, now=START + timedelta(hours=5)) == 1
    assert score_forecasts(db_url=url, metric_store=store, now=START + timedelta(hours=6)) == 0  # complete: done
    with session_scope(url) as session:
        [series] = accuracy_by_series(session, SERIES)
        assert (series.key, series.stat, series.model_name, series.forecasts, series.points) == (
            SERIES, "mean", "AutoETS", 1, 4)
        assert (series.mase, series.coverage80, series.coverage95) == (0.5625, 0.5, 0.75)
        [model] = accuracy_by_model(session)
        assert (model.key, model.mase) == ("AutoETS", 0.5625)
    assert live_model_accuracy(url) == {"AutoETS": {"mase": 0.5625, "coverage80": 0.5, "coverage95": 0.75,
                                                    "points": 4.0}}


def test_anomalous_hours_become_one_incident_that_grows_then_closes(db: tuple[str, MetricStore]) -> None:
    url, store = db
    settings = TrainingSettings(anomaly_merge_gap_steps=2, anomaly_lookback_days=7)
    register(url, hours=24)
    write_hours(store, [10.0, 10.0, 14.0, 16.0, 10.0])  # hours 2 and 3 outside [8, 12]
    assert detect_anomalies(db_url=url, metric_store=store, settings=settings, now=START + timedelta(hours=5)) == 1
    with session_scope(url) as session:
        [incident] = list_anomalies(session)
        assert (incident.kind, incident.status, incident.points) == ("metric", "open", 2)
        assert (incident.started_at, incident.ended_at) == (START + timedelta(hours=2), START + timedelta(hours=3))
        assert (incident.peak_at, incident.actual, incident.expected) == (START + timedelta(hours=3), 16.0, 10.0)
    # hour 5 is anomalous again, one quiet hour later: the same incident grows; then quiet hours close it
    write_hours(store, [17.0, 10.0, 10.0, 10.0, 10.0], first=START + timedelta(hours=5))
    detect_anomalies(db_url=url, metric_store=store, settings=settings, now=START + timedelta(hours=10))
    detect_anomalies(db_url=url, metric_store=store, settings=settings, now=START + timedelta(hours=10))  # idempotent
    with session_scope(url) as session:
        [incident] = list_anomalies(session)
        assert (incident.status, incident.points) == ("closed", 3)
        assert (incident.started_at, incident.ended_at) == (START + timedelta(hours=2), START + timedelta(hours=5))
        assert (incident.peak_at, incident.actual) == (START + timedelta(hours=5), 17.0)
        assert list_anomalies(session, since=START + timedelta(hours=6)) == []


def test_a_cost_spike_is_a_cost_incident_and_cost_forecasts_are_scored(db: tuple[str, MetricStore]) -> None:
    from decimal import Decimal

    from collector.records import CostRecord
    from services.ingest.ingest import upsert_costs

    url, store = db
    first = date(2026, 11, 2)
    points = [{"ts": datetime.combine(first + timedelta(days=d), datetime.min.time(), tzinfo=UTC), "mean": 100.0,
               "lo80": 90.0, "hi80": 110.0, "lo95": 80.0, "hi95": 120.0} for d in range(5)]
    new = NewVersion(series_id="cost:total", stat="daily_cost", as_of=date(2026, 11, 1), model_name="AutoETS",
                     params={"mase_scale": 10.0}, metrics={"mase": 0.5}, data_start=datetime(2026, 9, 1, tzinfo=UTC),
                     data_end=datetime(2026, 11, 1, tzinfo=UTC), step_seconds=86400, points=points)
    with session_scope(url) as session:
        register_version(session, new, artifacts=None)
        daily = [100.0, 150.0, 105.0, 100.0]  # Nov 3 is a spike; Nov 6 has no bill yet
        upsert_costs(session, "test", [
            CostRecord(provider=p, charge_period_start=first + timedelta(days=d),
                       charge_period_end=first + timedelta(days=d + 1), billed_cost=Decimal(str(v / 2)),
                       effective_cost=Decimal(str(v / 2)), list_cost=Decimal(str(v / 2)))
            for d, v in enumerate(daily) for p in ("aws", "gcp")])
    now = datetime(2026, 11, 6, 12, tzinfo=UTC)
    assert score_forecasts(db_url=url, metric_store=store, now=now) == 1
    with session_scope(url) as session:
        [scores] = accuracy_by_series(session, "cost:total")
        # Nov 5, the newest bill day, is still filling: left out. Errors 0, 50, 5: MAE 55/3, MASE 55/30;
        # inside 80% [90, 110]: 2 of 3; inside 95% [80, 120]: 2 of 3
        assert (scores.stat, scores.points, scores.coverage80, scores.coverage95) == ("daily_cost", 3, 2 / 3, 2 / 3)
        assert scores.mase == pytest.approx(55 / 30)
    detect_anomalies(db_url=url, metric_store=store, settings=TrainingSettings(), now=now)
    with session_scope(url) as session:
        [incident] = list_anomalies(session, series_id="cost:total")
        assert (incident.kind, incident.stat, incident.actual, incident.expected, incident.points) == (
            "cost", "daily_cost", 150.0, 100.0, 1)
        assert incident.peak_at == datetime(2026, 11, 3, tzinfo=UTC)
