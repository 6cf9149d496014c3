"""GcpCollector through the real Google SDKs against a loopback cloud: pages, throttling, auth and ingest."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from collector.base import (
    CollectorError,
    EndpointUnreachableError,
    MissingCredentialsError,
    PermissionDeniedError,
    ThrottledError,
)
from collector.config import GcpSourceSettings, RetrySettings
from collector.gcp import GcpCollector
from services.db.engine import session_scope
from services.db.models import CostRow, ResourceRow, SourceStatusRow
from services.ingest.ingest import IngestError, run_collector
from services.metrics import SqlMetricStore
from tests.integration.gcp.conftest import INSTANCES, LoopbackGoogle, write_service_account
from tests.integration.gcp.gcp_loopback import Fault, partition_filters
from tests.integration.gcp.gcp_monitoring_grpc import served_value

pytestmark = pytest.mark.integration
UNTIL = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
Settings = Callable[..., GcpSourceSettings]
CPU = "compute.googleapis.com/instance/cpu/utilization"
RECEIVED = "compute.googleapis.com/instance/network/received_bytes_count"


def stored(db_url: str, store: SqlMetricStore) -> dict[str, object]:
    """Everything a run leaves behind, reduced to counts and sums."""
    points = sum(
        len(store.read(s.series_id, UNTIL - timedelta(days=30), UNTIL + timedelta(days=1))) for s in store.series()
    )
    with session_scope(db_url) as session:
        return {
            "series": len(store.series()),
            "points": points,
            "resources": session.scalar(select(func.count()).select_from(ResourceRow)),
            "costs": session.scalar(select(func.count()).select_from(CostRow)),
            "billed": session.scalar(select(func.sum(CostRow.billed_cost))),
            "effective": session.scalar(select(func.sum(CostRow.effective_cost))),
        }


def test_discovery_follows_every_page_of_every_project(google: LoopbackGoogle, gcp_settings: Settings) -> None:
    resources = {r.resource_id: r for r in GcpCollector(gcp_settings()).discover()}

    assert sorted(resources) == sorted(i[1] for i in INSTANCES)
    # proj-a holds 5 instances served 2 per page: 3 pages; proj-b one page
    assert google.state.calls["compute.aggregatedList"] == 4
    web = resources["4715281900000000001"]
    assert (web.account, web.region, web.instance_type, web.environment) == ("proj-a", "us-central1", "e2-standard-4",
                                                                            "prod")  # fmt: skip
    assert (web.vcpus, web.memory_gib, web.hourly_price) == (4.0, 16.0, 0.134023)  # the shipped catalog
    assert web.tags["gcp:zone"] == "us-central1-a" and web.tags["gcp:status"] == "RUNNING"
    assert resources["4715281900000000002"].environment == "staging"  # from the `environment` label
    batch = resources["4715281900000000004"]
    assert (batch.vcpus, batch.memory_gib, batch.tags["gcp:status"]) == (6.0, 22.5, "TERMINATED")  # custom type
    cache = resources["4715281900000000005"]
    assert (cache.region, cache.vcpus, cache.hourly_price) == ("us-east4", 1.0, None)  # size known, price not
    assert resources["5815281900000000006"].account == "proj-b"


def test_metrics_pages_land_in_the_sql_store(google: LoopbackGoogle, gcp_settings: Settings, stores) -> None:  # type: ignore[no-untyped-def]
    db_url, store = stores
    result = run_collector(GcpCollector(gcp_settings()), db_url=db_url, metric_store=store, until=UNTIL,
                           backfill=timedelta(hours=2))  # fmt: skip

    # 6 instances x 5 metrics, 24 five-minute points each
    assert (result.resources, result.series, result.samples) == (6, 30, 30 * 24)
    # 7 points per page: proj-a (5 x 24 points) takes 18 pages per metric, proj-b (24 points) 4; check() 2
    assert google.state.calls["monitoring.listTimeSeries"] == 5 * (18 + 4) + 2
    since = UNTIL - timedelta(hours=2)
    iid = "4715281900000000003"
    cpu = store.read(f"{iid}/cpu_utilization", since, UNTIL)
    stamps = np.arange(int(since.timestamp()), int(UNTIL.timestamp()), 300)
    assert list(cpu.index.asi8 // 10**9) == list(stamps)  # each value at the start of its alignment period
    assert np.allclose(cpu.to_numpy(), [100 * served_value(CPU, iid, int(t) + 300) for t in stamps])  # fraction -> %
    received = store.read(f"{iid}/network_in_bytes", since, UNTIL)
    assert np.allclose(
        received.to_numpy(), [300 * served_value(RECEIVED, iid, int(t) + 300) for t in stamps]
    )  # rate x 300
    memory = store.read(f"{iid}/memory_utilization", since, UNTIL)
    assert memory.min() >= 40.0  # only state=used was asked for; the served free series (10 %) never arrives
    info = {s.series_id: s for s in store.series()}[f"{iid}/cpu_utilization"]
    assert info.labels["instance_type"] == "n2-highmem-8" and info.labels["zone"] == "europe-west1-b"


def test_billing_export_pages_and_totals(google: LoopbackGoogle, gcp_settings: Settings) -> None:
    costs = list(GcpCollector(gcp_settings()).collect_costs(UNTIL - timedelta(hours=6), UNTIL))

    served = google.state.billing_rows  # every served day lies in the window (3 settling days back)
    assert len(costs) == len(served) == 16
    assert google.state.calls["bigquery.getQueryResults"] == 6  # 3 rows per page
    assert sum(c.billed_cost for c in costs) == sum(r["cost"] for r in served)
    assert sum(c.effective_cost for c in costs) == sum(r["cost"] + r["credits"] for r in served)
    web = next(c for c in costs if c.resource_id.endswith("web-1") and c.charge_period_start.day == 19)
    assert (web.billed_cost, web.effective_cost) == (Decimal("31.345678"), Decimal("30.095678"))  # credit kept < 0
    assert {c.charge_category for c in costs} == {"Usage", "Tax"}
    assert all(c.sub_account_id == "proj-a" and c.provider == "gcp" for c in costs)


def test_billing_window_is_sent_as_query_parameters(google: LoopbackGoogle, gcp_settings: Settings) -> None:
    costs = list(GcpCollector(gcp_settings(settled_after_days=0)).collect_costs(UNTIL - timedelta(hours=1), UNTIL))

    assert {c.charge_period_start.day for c in costs} == {20}  # the server filtered on @since/@until


def test_the_billing_query_filters_partitions_and_caps_bytes_billed(
    google: LoopbackGoogle, gcp_settings: Settings
) -> None:
    collector = GcpCollector(gcp_settings(maximum_bytes_billed=2**30))
    costs = list(collector.collect_costs(UNTIL - timedelta(hours=6), UNTIL))
    assert costs  # the fake refuses SQL BigQuery's dialect does not parse, and a scan of every partition
    (config,) = google.state.job_configs
    assert config["query"]["maximumBytesBilled"] == str(2**30)
    assert partition_filters(config["query"]["query"]) == ["_PARTITIONTIME >= @partition_from"]
    params = {p["name"]: p["parameterValue"]["value"] for p in config["query"]["queryParameters"]}
    assert params["partition_from"].startswith("2026-11-17 00:00:00")  # the first day read again, from midnight


def test_a_query_over_its_byte_limit_fails_and_says_so(google: LoopbackGoogle, gcp_settings: Settings) -> None:
    google.state.bytes_processed = 64 * 2**20
    with pytest.raises(CollectorError, match="bytes billed.*raise maximum_bytes_billed"):
        list(GcpCollector(gcp_settings(maximum_bytes_billed=32 * 2**20)).collect_costs(UNTIL - timedelta(hours=6),
                                                                                        UNTIL))  # fmt: skip


def test_estimate_prices_the_billing_query_by_a_dry_run(google: LoopbackGoogle, gcp_settings: Settings) -> None:
    google.state.bytes_processed = 3 * 2**40  # 3 TiB
    collector = GcpCollector(gcp_settings())
    collector.as_of = UNTIL
    use = {u.api: u for u in collector.estimate_run(timedelta(minutes=5))}["bigquery:jobs.query"]
    assert (use.stream, use.api, use.calls, use.units, use.usd) == ("costs", "bigquery:jobs.query", 1, 3 * 2**40,
                                                                    Decimal("18.75"))  # fmt: skip
    assert google.state.job_configs[-1]["dryRun"] is True and "bigquery.getQueryResults" not in google.state.calls


def test_second_run_over_the_same_window_adds_nothing(google: LoopbackGoogle, gcp_settings: Settings, stores) -> None:  # type: ignore[no-untyped-def]
    db_url, store = stores
    collector = GcpCollector(gcp_settings())
    first = run_collector(collector, db_url=db_url, metric_store=store, until=UNTIL, backfill=timedelta(hours=1))
    before = stored(db_url, store)
    again = run_collector(collector, db_url=db_url, metric_store=store, until=UNTIL, backfill=timedelta(hours=1))
    run_collector(collector, db_url=db_url, metric_store=store, until=UNTIL)  # from the watermark (and lookback)

    assert first.samples == again.samples > 0
    assert stored(db_url, store) == before
    assert before["costs"] == 16 and before["billed"] == sum(r["cost"] for r in google.state.billing_rows)


@pytest.mark.parametrize("route", ["compute.aggregatedList", "monitoring.listTimeSeries", "bigquery.getQueryResults"])
def test_throttled_calls_are_retried_after_the_servers_delay(
    google: LoopbackGoogle, gcp_settings: Settings, route: str
) -> None:
    google.state.faults[route] = Fault(throttle=2, retry_after=1)  # 429 + Retry-After (RetryInfo over gRPC)
    collector = GcpCollector(gcp_settings())
    started = time.monotonic()
    if route == "compute.aggregatedList":
        assert len(list(collector.discover())) == 6
        pages = 4
    elif route == "monitoring.listTimeSeries":
        assert len(list(collector.collect_metrics(UNTIL - timedelta(minutes=30), UNTIL))) == 30
        pages = 5 * (5 + 1)  # per metric: 30 points on proj-a in pages of 7, 6 points on proj-b
    else:
        assert len(list(collector.collect_costs(UNTIL - timedelta(hours=1), UNTIL))) == 16
        pages = 6

    assert google.state.calls[route] == pages + 2  # both refusals were retried, then every page was served
    assert time.monotonic() - started >= 2.0  # the 1 s Retry-After was honoured twice


def test_throttling_that_never_ends_is_a_throttled_error(google: LoopbackGoogle, gcp_settings: Settings) -> None:
    google.state.faults["compute.aggregatedList"] = Fault(throttle=100, retry_after=0)
    settings = gcp_settings(retry=RetrySettings(max_attempts=3, max_backoff_seconds=0.5))

    with pytest.raises(ThrottledError, match=r"Compute Engine kept throttling .* \(3 attempts"):
        list(GcpCollector(settings).discover())
    assert google.state.calls["compute.aggregatedList"] == 3


@pytest.mark.parametrize(
    ("route", "role"),
    [
        ("compute.aggregatedList", "roles/compute.viewer"),
        ("monitoring.listTimeSeries", "roles/monitoring.viewer"),
        ("bigquery.jobs.insert", "roles/bigquery.jobUser"),
    ],
)
def test_permission_denied_names_the_role(
    google: LoopbackGoogle, gcp_settings: Settings, route: str, role: str
) -> None:
    google.state.faults[route] = Fault(deny="some.permission")

    with pytest.raises(PermissionDeniedError) as caught:
        GcpCollector(gcp_settings()).check()
    assert role in str(caught.value) and "\n" not in str(caught.value)
    assert google.state.calls[route] == 1  # a 403 is not retried


def test_refused_source_stores_nothing(google: LoopbackGoogle, gcp_settings: Settings, stores) -> None:  # type: ignore[no-untyped-def]
    db_url, store = stores
    google.state.faults["bigquery.jobs.insert"] = Fault(deny="bigquery.jobs.create")

    with pytest.raises(IngestError, match="roles/bigquery.jobUser"):
        run_collector(GcpCollector(gcp_settings()), db_url=db_url, metric_store=store, until=UNTIL)
    assert stored(db_url, store)["resources"] == 0 and store.series() == []
    with session_scope(db_url) as session:
        assert "roles/bigquery.jobUser" in session.get(SourceStatusRow, "gcp-test").last_error  # type: ignore[union-attr]


def test_unknown_key_is_rejected_with_a_clear_error(
    google: LoopbackGoogle, gcp_settings: Settings, tmp_path: Path
) -> None:
    stranger = tmp_path / "stranger.json"
    write_service_account(stranger, google.state.token_uri)  # a key the cloud never registered
    collector = GcpCollector(gcp_settings(credentials_file=stranger))

    with pytest.raises(MissingCredentialsError, match=r"rejected the credential \(401\)") as self_signed:
        collector.check()  # Compute: a self-signed JWT, refused by the API with 401
    with pytest.raises(MissingCredentialsError, match="asked for a token") as token_flow:
        list(collector.collect_costs(UNTIL - timedelta(hours=1), UNTIL))  # BigQuery: the OAuth2 JWT flow, refused
    for error in (self_signed.value, token_flow.value):
        assert "GOOGLE_APPLICATION_CREDENTIALS" in str(error) and "PRIVATE KEY" not in str(error)
    assert google.state.calls["token"] == 1 and not google.state.tokens


def test_missing_credentials_file_says_what_to_set(gcp_settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(MissingCredentialsError, match="GOOGLE_APPLICATION_CREDENTIALS"):
        GcpCollector(gcp_settings(credentials_file=tmp_path / "absent.json")).check()


@pytest.mark.parametrize(
    ("setting", "api"),
    [
        ("compute_endpoint", "Compute Engine"),
        ("monitoring_endpoint", "Cloud Monitoring"),
        ("bigquery_endpoint", "BigQuery"),
    ],
)
def test_unreachable_endpoint_is_named(gcp_settings: Settings, setting: str, api: str) -> None:
    closed = "http://127.0.0.1:9"  # the discard port: nothing listens
    settings = gcp_settings(**{setting: closed}, retry=RetrySettings(max_attempts=2, max_backoff_seconds=0.2))

    with pytest.raises(EndpointUnreachableError, match=f"{api} at {closed}"):
        GcpCollector(settings).check()
