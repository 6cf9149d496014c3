"""API spend of the Azure collector: `collect --estimate` on 100 and 1,000 VMs, and the calls a run makes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from azure_fleet import SUB_A
from azure_loopback import FakeAzure, FakeVm

from collector.azure import AzureCollector
from collector.config import AzureSourceSettings
from services.db.engine import session_scope
from services.db.migrate import upgrade
from services.db.models import IngestStreamRow
from services.ingest.ingest import run_collector
from services.ingest.spend import month_spend
from services.metrics import SqlMetricStore, open_metric_store
from tests.integration.estimate_cli import collect_estimate

pytestmark = pytest.mark.integration
UNTIL = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
Settings = Callable[..., AzureSourceSettings]


def seed_fleet(fake: FakeAzure, count: int) -> None:
    fake.vms[:] = [FakeVm(SUB_A, "rg-fleet", f"vm-{i:04d}", "eastus", "Standard_D2s_v3", {}) for i in range(count)]


@pytest.mark.parametrize(("vms", "calls", "usd_per_month", "total"), [
    (100, 2, Decimal("0.18"), "0.18"),
    (1000, 20, Decimal("1.75"), "1.75"),
])  # fmt: skip
def test_estimate_matches_the_hand_worked_figure(
    fake_azure: FakeAzure,
    azure_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    vms: int,
    calls: int,
    usd_per_month: Decimal,
    total: str,
) -> None:
    seed_fleet(fake_azure, vms)
    source = azure_settings(subscriptions=[SUB_A], monthly_budget_usd=5).model_dump(mode="json")
    shown = collect_estimate("azure", "azure", source, tmp_path, monkeypatch)
    # by hand, 1,000 VMs of one subscription and region: 50 ids a getBatch call = 20 calls; a run reads 5 min +
    # the 10 min look-back = 3 five-minute points, within 1,440 a call: one time chunk. Every 5 min = 8,760 runs
    # = 175,200 calls at $0.01 per 1,000 = $1.752 a month (100 VMs: 2 calls a run, $0.18)
    batch = shown.rows["monitor:metrics.getBatch"]
    assert (batch["stream"], batch["calls_per_run"], batch["calls_per_month"]) == ("metrics", calls, calls * 8_760)
    assert Decimal(batch["usd_per_month"]) == usd_per_month
    # Cost Management: ActualCost and AmortizedCost, one query each every 6 h = 243 a month, free of charge
    costs = shown.rows["costmanagement:query (free, throttled)"]
    assert (costs["stream"], costs["calls_per_run"], costs["calls_per_month"]) == ("costs", 2, 243)
    assert Decimal(costs["usd_per_month"]) == 0
    assert f"azure: about ${total} a month" in shown.table


def test_a_run_makes_and_meters_the_calls_the_estimate_counted(fake_azure: FakeAzure, azure_settings: Settings) -> None:
    seed_fleet(fake_azure, 1000)
    collector = AzureCollector(azure_settings(subscriptions=[SUB_A]))
    collector.as_of = UNTIL
    interval = timedelta(minutes=5)
    estimated = {u.api: u for u in collector.estimate_run(interval)}
    before = len(fake_azure.requests_to("metrics:getBatch"))
    batches = list(collector.collect_metrics(UNTIL - interval - collector.metrics_lookback, UNTIL))
    made = len(fake_azure.requests_to("metrics:getBatch")) - before
    costs = list(collector.collect_costs(UNTIL - timedelta(hours=6), UNTIL))
    metered = {u.api: u for u in collector.take_usage()}

    assert batches and costs
    assert made == estimated["monitor:metrics.getBatch"].calls == metered["monitor:metrics.getBatch"].calls == 20
    assert metered["costmanagement:query (free, throttled)"].usd == 0
    assert collector.take_usage() == []


def test_what_ingest_runs_spend_is_the_months_spend_of_the_source(
    fake_azure: FakeAzure, azure_settings: Settings, tmp_path: Path
) -> None:
    seed_fleet(fake_azure, 100)
    db_url = f"sqlite:///{tmp_path / 'azure.db'}"
    upgrade(db_url)
    store = open_metric_store(db_url)
    assert isinstance(store, SqlMetricStore)
    collector = AzureCollector(azure_settings(subscriptions=[SUB_A], history_days=1, monthly_budget_usd=5))
    run_collector(collector, db_url=db_url, metric_store=store, until=UNTIL)  # the first day, and the costs
    run_collector(collector, db_url=db_url, metric_store=store, until=UNTIL + timedelta(minutes=5))  # scheduled
    store.close()
    made = len(fake_azure.requests_to("metrics:getBatch"))
    pages = len(fake_azure.requests_to("/query"))
    with session_scope(db_url) as session:
        calls = sum(r.spend_calls for r in session.query(IngestStreamRow).filter_by(source="azure"))
        spent = month_spend(session, "azure", UNTIL)
    assert made == 2 * 2  # each run: 2 batches of 50 VMs, one time chunk
    assert calls == made + pages and spent == made * Decimal("0.00001")  # Cost Management pages are free
