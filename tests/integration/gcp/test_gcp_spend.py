"""API spend of the GCP collector: `collect --estimate` on 100 and 1,000 instances, and the calls a run makes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from collector.config import GcpSourceSettings
from collector.gcp import GcpCollector
from collector.gcp import monitoring as gcp_monitoring
from collector.gcp.billing import MINIMUM_BYTES_BILLED, TIB
from services.db.engine import session_scope
from services.db.models import IngestStreamRow
from services.ingest.ingest import run_collector
from services.ingest.spend import month_spend
from services.metrics import SqlMetricStore
from tests.integration.estimate_cli import collect_estimate
from tests.integration.gcp.conftest import LoopbackGoogle, instance_json

pytestmark = pytest.mark.integration
UNTIL = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
Settings = Callable[..., GcpSourceSettings]


def seed_fleet(google: LoopbackGoogle, count: int) -> None:
    """`count` running instances in proj-a, listed 500 a page, and series paged as the API documents (at most
    100,000 points a page with the FULL view)."""
    rows = [("proj-a", str(4715281900100000000 + i), f"vm-{i:04d}", "us-central1-a", "e2-standard-4", "RUNNING", {})
            for i in range(count)]  # fmt: skip
    google.state.instances = {"proj-a": [instance_json(*row) for row in rows]}
    google.state.compute_page_size = 500
    google.monitoring.instances = {"proj-a": [(row[1], row[3]) for row in rows]}
    google.monitoring.page_points = gcp_monitoring.PAGE_SIZE


@pytest.mark.parametrize("instances", [100, 1000])
def test_estimate_matches_the_hand_worked_figure(
    google: LoopbackGoogle, gcp_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, instances: int
) -> None:
    seed_fleet(google, instances)
    source = gcp_settings(projects=["proj-a"], monthly_budget_usd=5).model_dump(mode="json")
    shown = collect_estimate("gcp-test", "gcp", source, tmp_path, monkeypatch)
    # by hand: a run starts with check()'s one-page read, then reads 5 min + the look-back (300 s period + 240 s)
    # = 840 s, 3 points a series; 1,000 instances x 3 = 3,000 points, one page of 100,000 per metric: 5 metrics,
    # so 6 calls a run, 100 or 1,000 instances alike. Every 5 min = 8,760 runs = 52,560 calls at $0.01 per 1,000
    # = $0.5256 a month.
    reads = shown.rows["monitoring:timeSeries.list"]
    assert (reads["stream"], reads["calls_per_run"], reads["calls_per_month"]) == ("metrics", 6, 52_560)
    assert Decimal(reads["usd_per_month"]) == Decimal("0.53")
    # the billing query, every 6 h = 121.7 runs; the loopback export is small, so the 10 MiB minimum is billed:
    # 10 MiB x $6.25 per TiB = $0.0000596 a query, $0.0073 a month
    query = shown.rows["bigquery:jobs.query"]
    assert (query["stream"], query["calls_per_run"], query["calls_per_month"]) == ("costs", 1, 122)
    assert Decimal(query["usd_per_month"]) == Decimal("0.01")
    assert all(r["monthly_budget_usd"] == 5 for r in shown.rows.values())
    assert "gcp-test: about $0.53 a month" in shown.table  # 0.5256 + 0.0073


def test_a_run_makes_and_meters_the_calls_the_estimate_counted(google: LoopbackGoogle, gcp_settings: Settings) -> None:
    seed_fleet(google, 1000)
    collector = GcpCollector(gcp_settings(projects=["proj-a"]))
    collector.as_of = UNTIL
    interval = timedelta(minutes=5)
    estimated = {u.api: u for u in collector.estimate_run(interval)}
    list(collector.discover())
    before = google.state.calls["monitoring.listTimeSeries"]
    collector.check()  # as every ingest run does first
    batches = list(collector.collect_metrics(UNTIL - interval - collector.metrics_lookback, UNTIL))
    list(collector.collect_costs(UNTIL - timedelta(hours=6), UNTIL))
    made = google.state.calls["monitoring.listTimeSeries"] - before
    metered = {u.api: u for u in collector.take_usage()}

    assert len(batches) == 5 * 1000  # every instance's 5 metrics came back
    assert made == estimated["monitoring:timeSeries.list"].calls == metered["monitoring:timeSeries.list"].calls == 6
    billed = metered["bigquery:jobs.query"]
    assert (billed.calls, billed.units) == (1, MINIMUM_BYTES_BILLED) == (1, estimated["bigquery:jobs.query"].units)
    assert collector.take_usage() == []  # taken once


def test_what_ingest_runs_spend_is_the_months_spend_of_the_source(
    google: LoopbackGoogle, gcp_settings: Settings, stores: tuple[str, SqlMetricStore]
) -> None:
    seed_fleet(google, 100)
    db_url, store = stores
    collector = GcpCollector(gcp_settings(projects=["proj-a"], monthly_budget_usd=5))
    before = google.state.calls["monitoring.listTimeSeries"]
    run_collector(collector, db_url=db_url, metric_store=store, until=UNTIL)  # the first day, and the costs
    run_collector(collector, db_url=db_url, metric_store=store, until=UNTIL + timedelta(minutes=5))  # scheduled
    reads = google.state.calls["monitoring.listTimeSeries"] - before
    with session_scope(db_url) as session:
        calls = sum(r.spend_calls for r in session.query(IngestStreamRow).filter_by(source="gcp-test"))
        spent = month_spend(session, "gcp-test", UNTIL)
    query_usd = MINIMUM_BYTES_BILLED * Decimal("6.25") / TIB  # one billing query: the costs are due every 6 h
    assert reads == 2 * 6 and calls == reads + 1  # each run: check's page and one page per metric
    assert abs(spent - (reads * Decimal("0.00001") + query_usd)) < Decimal("0.000002")  # stored to 6 places


def test_a_page_is_a_call_past_100000_points() -> None:
    # 33,334 series x 3 points = 100,002 points: a second page, a second billed call
    assert gcp_monitoring.list_calls(33_333, 3) == 1
    assert gcp_monitoring.list_calls(33_334, 3) == 2
    assert gcp_monitoring.list_calls(0, 3) == 1  # the first page is asked for even when nothing reports
    assert gcp_monitoring.points_per_series(840, 300) == 3
