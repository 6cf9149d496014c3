"""Cost Explorer against moto's server: NextPageToken pagination, the settled-day window, tags, idempotent runs."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from aws_fault_proxy import FaultProxy, json_error, past_cost_explorer_limits
from sqlalchemy import func, select

from collector.aws import AwsCollector
from services.db.engine import session_scope
from services.db.models import CostRow
from services.ingest.ingest import run_collector
from services.metrics import SqlMetricStore

pytestmark = pytest.mark.integration
UNTIL = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def group(keys: list[str], unblended: str, amortized: str | None = None) -> dict[str, Any]:
    return {
        "Keys": keys,
        "Metrics": {
            "UnblendedCost": {"Amount": unblended, "Unit": "USD"},
            "NetAmortizedCost": {"Amount": amortized or unblended, "Unit": "USD"},
        },
    }


def day(start: date, groups: list[dict[str, Any]], estimated: bool = False) -> dict[str, Any]:
    period = {"Start": start.isoformat(), "End": (start + timedelta(days=1)).isoformat()}
    return {"TimePeriod": period, "Total": {}, "Groups": groups, "Estimated": estimated}


def queue_results(moto_url: str, results: list[dict[str, Any]]) -> None:
    """moto answers GetCostAndUsage from this queue, one result per distinct request."""
    reply = httpx.post(f"{moto_url}/moto-api/static/ce/cost-and-usage-results", json={"results": results}, timeout=10)
    assert reply.status_code == 201


def stored_costs(db_url: str) -> tuple[int, Decimal]:
    with session_scope(db_url) as session:
        count = session.scalar(select(func.count()).select_from(CostRow)) or 0
        total = session.scalar(select(func.sum(CostRow.billed_cost))) or Decimal(0)
    return count, total


def requests_seen(proxy: FaultProxy) -> list[dict[str, Any]]:
    return [json.loads(body) for body in proxy.bodies["GetCostAndUsage"]]


def test_cost_pages_are_followed_and_settled_days_never_fetched_again(
    moto_url: str, proxy: FaultProxy, make_settings: Any, sqlite_stores: tuple[str, SqlMetricStore]
) -> None:
    db_url, store = sqlite_stores
    d = date(2026, 11, 6)
    ec2, s3, support = "Amazon Elastic Compute Cloud - Compute", "Amazon Simple Storage Service", "AWS Support"
    pages: list[dict[str, Any]] = [
        {"ResultsByTime": [day(d, [group([ec2, "111111111111"], "24.50", "20.10"),
                                   group([s3, "111111111111"], "1.25")]),
                           day(d + timedelta(1), [group([ec2, "222222222222"], "3.00")])],
         "DimensionValueAttributes": [], "NextPageToken": "token-2"},
        {"ResultsByTime": [day(d + timedelta(2), [group([support, "111111111111"], "-5.00"),
                                                  group([ec2, "111111111111"], "24.00")])],
         "DimensionValueAttributes": [], "NextPageToken": "token-3"},
        {"ResultsByTime": [day(d + timedelta(3), [group(["Tax", "111111111111"], "2.40")])],
         "DimensionValueAttributes": []},
    ]  # fmt: skip
    queue_results(moto_url, pages)
    collector = AwsCollector(make_settings(proxy.url, services=[]))  # costs only

    first = run_collector(collector, db_url=db_url, metric_store=store, until=UNTIL)
    assert first.costs == 6 and proxy.seen["GetCostAndUsage"] == 3
    assert stored_costs(db_url) == (6, Decimal("50.150000"))
    sent = requests_seen(proxy)
    assert sent[0]["TimePeriod"] == {"Start": "2026-11-06", "End": "2026-11-21"}  # history_days=14, today included
    assert sent[0]["Granularity"] == "DAILY" and sent[0]["Metrics"] == ["UnblendedCost", "NetAmortizedCost"]
    assert sent[0]["GroupBy"] == [
        {"Type": "DIMENSION", "Key": "SERVICE"},
        {"Type": "DIMENSION", "Key": "LINKED_ACCOUNT"},
    ]
    assert "NextPageToken" not in sent[0] and [s["NextPageToken"] for s in sent[1:]] == ["token-2", "token-3"]
    with session_scope(db_url) as session:
        rows = {(r.charge_period_start, r.service_name, r.sub_account_id): r for r in session.scalars(select(CostRow))}
    ec2_row = rows[(d, ec2, "111111111111")]
    assert (ec2_row.billed_cost, ec2_row.effective_cost, ec2_row.list_cost) == (Decimal("24.5"), Decimal("20.1"),
                                                                                 Decimal("24.5"))  # fmt: skip
    assert (
        ec2_row.charge_category == "Usage"
        and ec2_row.provider == "aws"
        and ec2_row.charge_period_end == d + timedelta(1)
    )
    assert rows[(d + timedelta(2), support, "111111111111")].billed_cost == Decimal("-5")  # a credit keeps its sign
    assert rows[(d + timedelta(3), "Tax", "111111111111")].charge_category == "Tax"

    # the next run asks only for the days that are not settled yet, never the settled ones again
    run_collector(collector, db_url=db_url, metric_store=store, until=UNTIL + timedelta(hours=6))
    assert requests_seen(proxy)[-1]["TimePeriod"] == {"Start": "2026-11-17", "End": "2026-11-21"}
    assert proxy.seen["GetCostAndUsage"] == 4 and stored_costs(db_url) == (6, Decimal("50.150000"))
    # re-collecting the first window upserts the same lines: nothing is added
    again = run_collector(collector, db_url=db_url, metric_store=store, until=UNTIL, backfill=timedelta(days=14))
    assert again.costs == 6 and proxy.seen["GetCostAndUsage"] == 7
    assert stored_costs(db_url) == (6, Decimal("50.150000"))


def test_a_cost_allocation_tag_splits_lines_without_counting_twice(
    moto_url: str, proxy: FaultProxy, make_settings: Any
) -> None:
    d = date(2026, 11, 19)
    ec2, s3 = "Amazon Elastic Compute Cloud - Compute", "Amazon Simple Storage Service"
    by_account = {
        "ResultsByTime": [
            day(
                d,
                [
                    group([ec2, "111111111111"], "10"),
                    group([ec2, "222222222222"], "5"),
                    group([s3, "111111111111"], "2"),
                ],
            )
        ],
        "DimensionValueAttributes": [],
    }
    by_tag = {"ResultsByTime": [day(d, [group([ec2, "team$web"], "12"), group([ec2, "team$"], "3"),
                                        group([s3, "team$web"], "1.5"), group([s3, "team$"], "0.5")])],
              "DimensionValueAttributes": []}  # fmt: skip
    queue_results(moto_url, [by_account, by_tag])
    collector = AwsCollector(make_settings(proxy.url, services=[], cost_group_by_tag="team"))
    records = list(collector.collect_costs(datetime(2026, 11, 19, tzinfo=UTC), datetime(2026, 11, 20, tzinfo=UTC)))
    assert requests_seen(proxy)[1]["GroupBy"] == [
        {"Type": "DIMENSION", "Key": "SERVICE"},
        {"Type": "TAG", "Key": "team"},
    ]
    lines = {(r.service_name, r.sub_account_id, r.resource_id): (r.billed_cost, r.tags) for r in records}
    assert lines == {
        (ec2, "111111111111", ""): (Decimal("10"), {}),  # EC2 spans two accounts: its tag split is not exact
        (ec2, "222222222222", ""): (Decimal("5"), {}),
        (s3, "111111111111", "tag:team=web"): (Decimal("1.5"), {"team": "web"}),
        (s3, "111111111111", ""): (Decimal("0.5"), {}),  # untagged
    }
    assert sum(r.billed_cost for r in records) == Decimal("17")


def test_estimated_days_are_read_again_until_final_and_only_at_the_cost_cadence(
    moto_url: str, proxy: FaultProxy, make_settings: Any, sqlite_stores: tuple[str, SqlMetricStore]
) -> None:
    db_url, store = sqlite_stores
    ec2 = "Amazon Elastic Compute Cloud - Compute"
    old = date(2026, 11, 10)  # long settled by the calendar, but Cost Explorer still calls it estimated
    first = {"ResultsByTime": [day(old, [group([ec2, "111111111111"], "7.00")], estimated=True),
                               day(date(2026, 11, 19), [group([ec2, "111111111111"], "9.00")], estimated=True)],
             "DimensionValueAttributes": []}  # fmt: skip
    final = {"ResultsByTime": [day(old, [group([ec2, "111111111111"], "7.25")]),
                               day(date(2026, 11, 19), [group([ec2, "111111111111"], "9.50")])],
             "DimensionValueAttributes": []}  # fmt: skip
    queue_results(moto_url, [first, final, final])
    collector = AwsCollector(make_settings(proxy.url, services=[], cost_interval_hours=6))
    run_collector(collector, db_url=db_url, metric_store=store, until=UNTIL)
    # five minutes later costs are not due: Cost Explorer is not asked again
    skipped = run_collector(collector, db_url=db_url, metric_store=store, until=UNTIL + timedelta(minutes=5))
    assert proxy.seen["GetCostAndUsage"] == 1 and "costs" in skipped.skipped
    run_collector(collector, db_url=db_url, metric_store=store, until=UNTIL + timedelta(hours=6))
    assert requests_seen(proxy)[-1]["TimePeriod"]["Start"] == "2026-11-10"  # the estimated day is read again
    assert stored_costs(db_url) == (2, Decimal("16.75"))  # the final figures replaced the estimates
    run_collector(collector, db_url=db_url, metric_store=store, until=UNTIL + timedelta(hours=12))
    assert requests_seen(proxy)[-1]["TimePeriod"]["Start"] == "2026-11-18"  # final now: the last 3 days only


def test_a_long_first_history_stays_within_what_cost_explorer_keeps(
    moto_url: str, proxy: FaultProxy, make_settings: Any, sqlite_stores: tuple[str, SqlMetricStore]
) -> None:
    db_url, store = sqlite_stores
    proxy.fail("GetCostAndUsage", 100, json_error("ValidationException", "start date is too old"),
               when=past_cost_explorer_limits(UNTIL.date()))  # fmt: skip
    queue_results(moto_url, [{"ResultsByTime": [day(date(2025, 10, 1), [group(["Tax", "111111111111"], "1")])],
                              "DimensionValueAttributes": []}])  # fmt: skip
    collector = AwsCollector(make_settings(proxy.url, services=[], history_days=455))
    result = run_collector(collector, db_url=db_url, metric_store=store, until=UNTIL)
    assert result.failures == {} and result.costs == 1
    assert requests_seen(proxy)[0]["TimePeriod"]["Start"] == "2025-10-01"  # not 455 days back
