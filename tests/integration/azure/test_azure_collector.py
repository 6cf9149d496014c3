"""AzureCollector through the real Azure SDKs against Azure's documented JSON served over HTTPS on loopback."""

from __future__ import annotations

import socket
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from azure_fleet import CLIENT_ID, SECRET, SECRET_ENV, STORAGE_ID, SUB_A, SUB_B
from azure_loopback import GIB, FakeAzure, metric_value
from sqlalchemy import func, select

from collector.azure import AzureCollector
from collector.base import (
    CollectorError,
    EndpointUnreachableError,
    MissingCredentialsError,
    PermissionDeniedError,
    ThrottledError,
)
from collector.config import AzureSourceSettings, RetrySettings
from services.db.engine import session_scope
from services.db.migrate import upgrade
from services.db.models import CostRow, ResourceRow
from services.ingest.ingest import IngestError, run_collector
from services.metrics import SqlMetricStore, open_metric_store

pytestmark = pytest.mark.integration
UNTIL = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
QPU = "x-ms-ratelimit-microsoft.costmanagement-qpu-retry-after"
ENTITY = "x-ms-ratelimit-microsoft.costmanagement-entity-retry-after"
TENANT_WAIT = "x-ms-ratelimit-microsoft.costmanagement-tenant-retry-after"
Settings = Callable[..., AzureSourceSettings]


def one_line(exc: BaseException) -> str:
    text = str(exc)
    assert "\n" not in text and text, text
    assert SECRET not in text
    return text


def stored(db_url: str, store: SqlMetricStore) -> dict[str, object]:
    points = sum(len(store.read(s.series_id, UNTIL - timedelta(days=30), UNTIL)) for s in store.series())
    with session_scope(db_url) as session:
        return {
            "series": len(store.series()),
            "points": points,
            "resources": session.scalar(select(func.count()).select_from(ResourceRow)),
            "costs": session.scalar(select(func.count()).select_from(CostRow)),
            "billed": session.scalar(select(func.sum(CostRow.billed_cost))),
            "effective": session.scalar(select(func.sum(CostRow.effective_cost))),
        }


def test_discovery_follows_next_link_and_sizes_vms(fake_azure: FakeAzure, azure_settings: Settings) -> None:
    resources = {r.name: r for r in AzureCollector(azure_settings()).discover()}

    assert len(resources) == len(fake_azure.vms) == 58
    pages = [s for s in fake_azure.requests_to(f"/subscriptions/{SUB_A}/providers/Microsoft.Compute/virtualMachines")]
    assert [s.query.get("$skiptoken") for s in pages] == [None, ["20"], ["40"]]  # 57 VMs, 20 per page
    web = resources["web-00"]
    assert web.resource_id == fake_azure.vms[0].id.lower()
    assert (web.provider, web.account, web.region, web.kind) == ("azure", SUB_A, "eastus", "vm")
    assert (web.instance_type, web.vcpus, web.memory_gib) == ("Standard_E4s_v5", 4.0, 32.0)  # from resource SKUs
    assert (web.environment, web.tags["team"]) == ("staging", "web")
    assert (resources["web-01"].vcpus, resources["web-01"].memory_gib) == (2.0, 8.0)  # D2s_v3 from the catalog
    batch = resources["batch-0"]
    assert (batch.hourly_price, batch.vcpus, batch.environment) == (0.22, 4.0, "dev")  # catalog price in region
    assert resources["eu-api-0"].account == SUB_B
    assert len(fake_azure.requests_to("/providers/Microsoft.Compute/skus")) >= 1


def test_regions_setting_limits_discovery(azure_settings: Settings) -> None:
    resources = list(AzureCollector(azure_settings(regions=["southcentralus"])).discover())
    assert sorted(r.name for r in resources) == ["batch-0", "batch-1"]


def test_metrics_costs_into_stores_with_throttling_and_rerun_adds_nothing(
    fake_azure: FakeAzure, azure_settings: Settings, tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'azure.db'}"
    upgrade(db_url)
    store = open_metric_store(db_url)
    assert isinstance(store, SqlMetricStore)
    fake_azure.throttle_costs = 1
    fake_azure.throttle_headers = {QPU: "1", ENTITY: "1", TENANT_WAIT: "1"}
    collector = AzureCollector(azure_settings())

    result = run_collector(collector, db_url=db_url, metric_store=store, until=UNTIL, backfill=timedelta(hours=2))

    # metrics: getBatch calls of at most 50 VMs, one subscription and region each; every VM asked for
    batches = fake_azure.requests_to("/metrics:getBatch")
    sizes = sorted(len(s.body["resourceids"]) for s in batches)
    assert sizes == [1, 2, 5, 50]
    assert all(s.query["metricnamespace"] == ["Microsoft.Compute/virtualMachines"] for s in batches)
    assert all(s.query["interval"] == ["PT5M"] for s in batches)
    assert result.series == 58 * 5 and result.samples == 58 * 5 * 24
    vm = fake_azure.vms[3]  # Standard_D2s_v3: 8 GiB
    cpu = store.read(f"{vm.id.lower()}/cpu_utilization", UNTIL - timedelta(hours=2), UNTIL)
    stamps = [int(t.timestamp()) for t in cpu.index]
    assert stamps[0] == int((UNTIL - timedelta(hours=2)).timestamp()) and len(stamps) == 24
    np.testing.assert_allclose(cpu.to_numpy(), [metric_value(vm.id, "Percentage CPU", t) for t in stamps])
    memory = store.read(f"{vm.id.lower()}/memory_utilization", UNTIL - timedelta(hours=2), UNTIL)
    expected = [100 * (1 - metric_value(vm.id, "Available Memory Bytes", t) / (8 * GIB)) for t in stamps]
    np.testing.assert_allclose(memory.to_numpy(), expected)
    net = store.read(f"{vm.id.lower()}/network_in_bytes", UNTIL - timedelta(hours=2), UNTIL)
    np.testing.assert_allclose(net.to_numpy(), [metric_value(vm.id, "Network In Total", t) for t in stamps])
    assert {s.labels["region"] for s in store.series({"provider": "azure"})} == {
        "eastus",
        "southcentralus",
        "westeurope",
    }

    # costs: every page of both cost types followed; rows and totals equal what was served
    actual = [c for c in fake_azure.served_costs if c.cost_type == "ActualCost"]
    amortized = [c for c in fake_azure.served_costs if c.cost_type == "AmortizedCost"]
    assert len(fake_azure.requests_to("/Microsoft.CostManagement/query")) > 4  # nextLink pages were followed
    assert len(actual) == len(amortized) == result.costs == (57 + 2 + 1 + 1 + 1) * 4  # VMs + bandwidth + storage
    totals = stored(db_url, store)
    assert totals["costs"] == len(actual)
    assert totals["billed"] == pytest.approx(sum(Decimal(str(c.cost)) for c in actual))
    assert totals["effective"] == pytest.approx(sum(Decimal(str(c.cost)) for c in amortized))
    with session_scope(db_url) as session:
        storage = session.scalars(select(CostRow).where(CostRow.resource_id == STORAGE_ID)).all()
        days = sorted(r.charge_period_start for r in storage)
    assert [str(d) for d in days] == ["2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20"]
    assert {r.service_name for r in storage} == {"Storage"}

    # throttling: the 429 was retried after the header's 1 s, not sooner and not much later
    cost_calls = fake_azure.requests_to("/Microsoft.CostManagement/query")
    assert [s.status for s in cost_calls[:2]] == [429, 200]
    assert 0.95 <= cost_calls[1].at - cost_calls[0].at < 1.4

    # a second run over the same window adds nothing
    again = run_collector(
        AzureCollector(azure_settings()), db_url=db_url, metric_store=store, until=UNTIL, backfill=timedelta(hours=2)
    )
    assert again.samples == result.samples  # the same samples were fetched again ...
    assert stored(db_url, store) == totals  # ... and stored once
    store.close()


def test_throttle_wait_is_capped_by_the_stated_maximum(fake_azure: FakeAzure, azure_settings: Settings) -> None:
    fake_azure.throttle_costs = 1
    fake_azure.throttle_headers = {TENANT_WAIT: "60", "Retry-After": "45"}
    collector = AzureCollector(azure_settings(subscriptions=[SUB_B], max_throttle_wait_seconds=1.0))

    costs = list(collector.collect_costs(UNTIL - timedelta(days=1), UNTIL))

    calls = fake_azure.requests_to("/Microsoft.CostManagement/query")
    assert calls[0].status == 429 and costs
    assert 0.95 <= calls[1].at - calls[0].at < 1.4


def test_throttle_waits_as_long_as_cost_management_asks_beyond_the_backoff(
    fake_azure: FakeAzure, azure_settings: Settings
) -> None:
    fake_azure.throttle_costs = 1
    fake_azure.throttle_headers = {TENANT_WAIT: "2"}  # longer than the 1.5 s backoff cap of these settings
    collector = AzureCollector(azure_settings(subscriptions=[SUB_B]))

    assert list(collector.collect_costs(UNTIL - timedelta(days=1), UNTIL))
    calls = fake_azure.requests_to("/Microsoft.CostManagement/query")
    assert calls[0].status == 429 and 1.95 <= calls[1].at - calls[0].at < 2.6


def test_throttled_after_every_attempt_is_one_line(fake_azure: FakeAzure, azure_settings: Settings) -> None:
    fake_azure.throttle_costs = 100
    fake_azure.throttle_headers = {QPU: "0"}
    settings = azure_settings(subscriptions=[SUB_B], retry=RetrySettings(max_attempts=3, max_backoff_seconds=0.0))

    with pytest.raises(ThrottledError) as caught:
        list(AzureCollector(settings).collect_costs(UNTIL - timedelta(days=1), UNTIL))

    assert "after 3 attempts" in one_line(caught.value)
    assert len(fake_azure.requests_to("/Microsoft.CostManagement/query")) == 3


def test_rejected_client_secret_names_the_settings(fake_azure: FakeAzure, azure_settings: Settings) -> None:
    fake_azure.token_error = True
    with pytest.raises(MissingCredentialsError) as caught:
        AzureCollector(azure_settings()).check()
    text = one_line(caught.value)
    assert CLIENT_ID in text and SECRET_ENV in text and "AADSTS7000215" in text
    assert not fake_azure.requests_to("/providers/")  # nothing was asked of ARM without a token


def test_missing_secret_variable_is_named(azure_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = azure_settings()
    monkeypatch.delenv(SECRET_ENV)
    with pytest.raises(MissingCredentialsError) as caught:
        AzureCollector(settings).check()
    assert f"environment variable {SECRET_ENV} is not set" in one_line(caught.value)


def test_invalid_token_at_arm_is_a_credential_error(fake_azure: FakeAzure, azure_settings: Settings) -> None:
    fake_azure.arm_unauthorized = True
    with pytest.raises(MissingCredentialsError) as caught:
        AzureCollector(azure_settings()).check()
    assert "InvalidAuthenticationToken" in one_line(caught.value)


@pytest.mark.parametrize(
    ("api", "role", "action"),
    [
        ("compute", "Reader", "Microsoft.Compute/virtualMachines/read"),
        ("metrics", "Monitoring Reader", "Microsoft.Insights/metrics/read"),
        ("costs", "Cost Management Reader", "Microsoft.CostManagement/query/read"),
    ],
)
def test_denied_permission_names_the_role(
    fake_azure: FakeAzure, azure_settings: Settings, api: str, role: str, action: str
) -> None:
    fake_azure.deny = {api}
    collector = AzureCollector(azure_settings(subscriptions=[SUB_B]))
    with pytest.raises(PermissionDeniedError) as caught:
        if api == "compute":
            collector.check()
        elif api == "metrics":
            list(collector.collect_metrics(UNTIL - timedelta(hours=1), UNTIL))
        else:
            list(collector.collect_costs(UNTIL - timedelta(days=1), UNTIL))
    text = one_line(caught.value)
    assert f"assign it the {role} role on /subscriptions/{SUB_B}" in text and action in text
    assert "AuthorizationFailed" in text


def test_refused_source_stores_nothing(fake_azure: FakeAzure, azure_settings: Settings, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'azure.db'}"
    upgrade(db_url)
    store = open_metric_store(db_url)
    fake_azure.deny = {"compute"}
    with pytest.raises(IngestError, match="Reader role"):
        run_collector(AzureCollector(azure_settings()), db_url=db_url, metric_store=store, until=UNTIL)
    with session_scope(db_url) as session:
        assert session.scalar(select(func.count()).select_from(ResourceRow)) == 0
    assert store.series() == []
    assert Counter(s.status for s in fake_azure.requests_to("/virtualMachines")) == Counter({403: 1})
    store.close()


def test_unreachable_endpoint_is_named(azure_settings: Settings) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    dead = f"https://127.0.0.1:{port}"
    settings = azure_settings(management_endpoint=dead, retry=RetrySettings(max_attempts=2, max_backoff_seconds=0.1))
    with pytest.raises(EndpointUnreachableError) as caught:
        AzureCollector(settings).check()
    assert dead in one_line(caught.value)


def test_no_subscriptions_is_a_setting_error(azure_settings: Settings) -> None:
    with pytest.raises(CollectorError, match="providers.azure.subscriptions"):
        AzureCollector(azure_settings(subscriptions=[])).check()
