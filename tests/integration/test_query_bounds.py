"""The fleet page, the runways (the overview's panel and its table's rows) and the evaluation of every alert rule issue
a number of database queries that does not grow with the fleet: counted with SQLAlchemy's before_cursor_execute hook
on fleets of 4 and of 60 resources."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import event, select

from collector.records import Resource, SampleBatch, SeriesRef
from services.alerting.admin import sync_config
from services.alerting.state import evaluate_rule
from services.db.engine import engine_for, session_scope
from services.db.migrate import upgrade
from services.db.models import AlertRuleRow, AnomalyRow, ForecastRow, ForecastScoreRow, RecommendationRow, ResourceRow
from services.fleet import clear_caches, list_fleet
from services.ingest.ingest import upsert_resources
from services.metrics import open_metric_store
from services.recommend.store import Runways, runways
from tests.integration.test_alerting.conftest import alert_settings
from tests.integration.test_alerting.test_end_to_end import write_forecast

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
RULES = [  # one of every kind that reads per-resource rows; each fires on every resource of the fleet
    {"name": "cap", "kind": "capacity", "params": {"threshold": 50, "horizon_days": 7}},
    {"name": "run", "kind": "runway", "params": {"threshold": 50, "lead_time_days": 30}},
    {"name": "grow", "kind": "growth", "params": {"percent": 10, "window_days": 3}},
    {"name": "anom", "kind": "metric_anomaly", "params": {}},
    {"name": "runrec", "kind": "runway", "params": {"source": "recommendations", "lead_time_days": 30}},
    {"name": "silent", "kind": "source_silent", "params": {"max_silence_minutes": 30}},
]


@contextmanager
def counted(url: str) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    engine = engine_for(url)
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def fleet(tmp_path: Path, size: int) -> str:
    """size resources, each with a week of hourly CPU, a rising 7-day forecast, an open runway recommendation and
    an open metric anomaly; every odd resource's forecast has scored badly live (its runway is uncertain)."""
    url = f"sqlite:///{tmp_path / f'fleet-{size}.db'}"
    upgrade(url)
    ids = [f"i-{n:03d}" for n in range(size)]
    with session_scope(url) as session:
        upsert_resources(session, [Resource(resource_id=rid, provider="aws", name=f"web-{rid}", account="a",
                                            region="r", instance_type="m5.large", environment="production")
                                   for rid in ids])
    start = NOW - timedelta(days=7)
    ts = np.arange(int(start.timestamp()), int(NOW.timestamp()), 3600, dtype=np.int64)
    metrics_url = f"sqlite:///{tmp_path / f'metrics-{size}.db'}"  # its own file: only the database's queries count
    upgrade(metrics_url)
    store = open_metric_store(metrics_url)
    store.write([SampleBatch(SeriesRef(rid, "cpu_utilization", "percent"), ts, np.full(ts.size, 40.0 + n % 7))
                 for n, rid in enumerate(ids)])
    store.close()
    with session_scope(url) as session:
        pks = dict(session.execute(select(ResourceRow.resource_id, ResourceRow.id)).all())
        for n, rid in enumerate(ids):
            series = f"{rid}/cpu_utilization"
            write_forecast(session, series, "mean", date(2026, 11, 20), NOW + HOUR,
                           [45.0 + 10 * h / 167 for h in range(168)], HOUR, band=3.0)
            session.add(AnomalyRow(series_id=series, kind="metric", started_at=NOW - HOUR, ended_at=NOW, peak_at=NOW,
                                   actual=99.0, expected=40.0, lower=30.0, upper=50.0, score=4.0 + n, status="open"))
            session.add(RecommendationRow(resource_pk=pks[rid], resource_key=f"aws:{rid}", dedupe_key=f"runway-{rid}",
                                          kind="runway", finding="at_risk", title="cpu",
                                          current={"metric": "cpu_utilization", "threshold": 80.0},
                                          proposed={"p50_days": 15.0, "p90_days": 10.0, "method": "trend",
                                                    "lead_time_days": 30.0, "horizon_days": 30.0}))
            if n % 2:
                forecast_id = session.scalar(select(ForecastRow.id).where(ForecastRow.series_id == series))
                session.add(ForecastScoreRow(forecast_id=forecast_id, series_id=series, stat="mean", model_name="test",
                                             as_of=date(2026, 11, 19), points=24, horizon=168, mase=0.8,
                                             coverage80=0.3, coverage95=0.5))
    return url


def fleet_queries(tmp_path: Path, url: str, size: int, sort: str) -> int:
    store = open_metric_store(f"sqlite:///{tmp_path / f'metrics-{size}.db'}")
    clear_caches()  # the first view of the page, the most it asks
    try:
        with session_scope(url) as session, counted(url) as statements:
            entries, total = list_fleet(session, store, sort=sort, page=1, size=50)
    finally:
        store.close()
    assert total == size and len(entries) == min(size, 50)
    assert all(e.forecast_peak_14d == pytest.approx(55.0) for e in entries)  # the batch found every forecast
    return len(statements)


def alert_queries(url: str) -> tuple[int, dict[str, int]]:
    settings = alert_settings(rules=[{**r, "channels": []} for r in RULES])
    with session_scope(url) as session:
        sync_config(session, settings)
    with session_scope(url) as session, counted(url) as statements:
        findings = {}
        for rule in session.scalars(select(AlertRuleRow).order_by(AlertRuleRow.id)):
            result = evaluate_rule(session, rule, settings=settings, now=NOW)
            assert not result.error, result.error
            findings[rule.name] = result.findings
        session.flush()
    return len(statements), findings


@pytest.fixture(scope="module")
def fleets(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    folder = tmp_path_factory.mktemp("fleets")
    return folder, fleet(folder, 4), fleet(folder, 60)


@pytest.mark.parametrize("sort", ["name", "cpu_p95_7d"])  # an inventory sort in SQL, a usage sort computed
def test_fleet_page_queries_do_not_grow_with_the_fleet(fleets: tuple[Path, str, str], sort: str) -> None:
    folder, small, large = fleets
    assert fleet_queries(folder, small, 4, sort) == fleet_queries(folder, large, 60, sort)


def test_evaluating_every_alert_rule_queries_do_not_grow_with_the_fleet(fleets: tuple[Path, str, str]) -> None:
    _, small, large = fleets
    count_small, found_small = alert_queries(small)
    count_large, found_large = alert_queries(large)
    assert found_large["cap"] == 60 and found_small["cap"] == 4  # the rules fire on every resource
    assert found_large["anom"] == 60 and found_large["runrec"] == 60
    assert count_small == count_large, (count_small, count_large)


def runway_queries(url: str, **filters: Any) -> tuple[int, Runways]:
    with session_scope(url) as session, counted(url) as statements:
        found = runways(session, **filters)
    return len(statements), found


def test_runway_queries_do_not_grow_with_the_fleet(fleets: tuple[Path, str, str]) -> None:
    _, small, large = fleets
    count_small, _ = runway_queries(small)
    count_large, every = runway_queries(large)
    assert count_small == count_large, (count_small, count_large)
    assert every.resource_total == len(every.resources) == 60
    # the live accuracy of every runway's forecast is read in the same query: the badly scored half is uncertain
    severity = {r["resource_key"]: r["severity"] for r in every.resources}
    assert severity["aws:i-001"] == "uncertain" and severity["aws:i-002"] == "critical"
    assert [r["severity"] for r in every.resources] == ["critical"] * 30 + ["uncertain"] * 30  # most severe first
    assert all(r["resource_name"] == f"web-{r['resource_key'][4:]}" for r in every.resources)

    count_top, top = runway_queries(large, limit=8)  # the overview's panel
    assert top.resource_total == 60
    assert [r["id"] for r in top.resources] == [r["id"] for r in every.resources[:8]]
    keys = ["aws:i-003", "aws:i-042", "aws:i-999"]  # one fleet page's rows; one has no runway
    count_rows, rows = runway_queries(large, resource_keys=keys)
    assert sorted(r["resource_key"] for r in rows.resources) == keys[:2]
    assert count_top == count_rows == count_large
