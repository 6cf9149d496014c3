"""API spend against moto's server: `collect --estimate` on 100- and 1,000-instance accounts, and the monthly budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from aws_fault_proxy import FaultProxy

from collector.aws import AwsCollector
from services.db.engine import session_scope
from services.db.models import IngestStreamRow
from services.ingest.ingest import run_collector
from services.metrics import SqlMetricStore
from tests.integration.estimate_cli import collect_estimate

pytestmark = pytest.mark.integration
UNTIL = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def run_instances(aws: Any, count: int) -> None:
    ec2 = aws("ec2")
    image = ec2.describe_images()["Images"][0]["ImageId"]
    for start in range(0, count, 500):
        n = min(500, count - start)
        ec2.run_instances(ImageId=image, MinCount=n, MaxCount=n, InstanceType="m5.large")


@pytest.mark.parametrize(("instances", "metric_calls", "metric_usd", "total"), [
    (100, 1, (Decimal("0.005"), Decimal("43.80")), "45.19"),
    (1000, 10, (Decimal("0.05"), Decimal("438.00")), "439.39"),
])  # fmt: skip
def test_estimate_on_a_moto_account_matches_the_hand_worked_figure(
    aws: Any,
    moto_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    instances: int,
    metric_calls: int,
    metric_usd: tuple[Decimal, Decimal],
    total: str,
) -> None:
    run_instances(aws, instances)
    aws_source = {"enabled": True, "endpoint_url": moto_url, "regions": ["us-east-1"], "services": ["ec2"],
                  "pricing": False, "monthly_budget_usd": 500}  # fmt: skip
    shown = collect_estimate("aws", "aws", aws_source, tmp_path, monkeypatch)
    rows = shown.rows
    # by hand, 1,000 instances: x 5 EC2 metrics = 5,000 metrics a run, 500 a call = 10 calls, $0.01 per 1,000
    # metrics = $0.05 a run; every 5 minutes = 8,760 runs in a 730-hour month = 87,600 calls, $438.00 (100: a tenth)
    metric = rows["cloudwatch:GetMetricData"]
    assert (metric["stream"], metric["calls_per_run"], metric["calls_per_month"]) == (
        "metrics", metric_calls, metric_calls * 8_760)  # fmt: skip
    assert (Decimal(metric["usd_per_run"]), Decimal(metric["usd_per_month"])) == metric_usd
    # ListMetrics for the two CloudWatch agent metrics: 2 requests a run at $0.01 per 1,000 = 17,520, $0.18
    listed = rows["cloudwatch:ListMetrics"]
    assert (listed["calls_per_run"], listed["calls_per_month"], Decimal(listed["usd_per_month"])) == (
        2, 17_520, Decimal("0.18"))  # fmt: skip
    # Cost Explorer: one $0.01 request every 6 hours = 121.7 runs = $1.22, not 8,760 runs = $87.60
    ce = rows["ce:GetCostAndUsage"]
    assert (ce["stream"], ce["calls_per_run"], ce["calls_per_month"], Decimal(ce["usd_per_month"])) == (
        "costs", 1, 122, Decimal("1.22"))  # fmt: skip
    assert all(r["monthly_budget_usd"] == 500 for r in rows.values())
    assert f"aws: about ${total} a month" in shown.table  # GetMetricData + 0.1752 + 1.2167


def test_the_monthly_budget_slows_then_refuses_a_paid_stream_with_one_line(
    aws: Any, proxy: FaultProxy, make_settings: Any, sqlite_stores: tuple[str, SqlMetricStore]
) -> None:
    db_url, store = sqlite_stores
    run_instances(aws, 100)  # EC2: 500 metrics in one GetMetricData call, $0.005 a run (ListMetrics: the agent's)

    def source(name: str, budget: float) -> AwsCollector:
        return AwsCollector(make_settings(proxy.url, name=name, services=["ec2"], cost_explorer=False,
                                          history_days=1, monthly_budget_usd=budget))  # fmt: skip

    def spent(name: str) -> Decimal:
        with session_scope(db_url) as session:
            row = session.get(IngestStreamRow, (name, "metrics:ec2"))
            assert row is not None and row.spend_month == "2026-11"
            return Decimal(row.spend_usd)

    roomy = source("roomy", 0.05)
    assert run_collector(roomy, db_url=db_url, metric_store=store, until=UNTIL).failures == {}
    assert spent("roomy") == Decimal("0.01")  # the first day: 2 chunks x 500 EC2 metrics, as metered on the requests
    run_collector(roomy, db_url=db_url, metric_store=store, until=UNTIL + timedelta(minutes=5))
    assert spent("roomy") == Decimal("0.015")  # one scheduled run: $0.005
    # $0.035 left pays 6 more runs, not a run every 5 minutes for the rest of November: the stream slows down
    slowed = run_collector(roomy, db_url=db_url, metric_store=store, until=UNTIL + timedelta(minutes=10))
    assert slowed.failures == {} and "slowed to one run every 2" in slowed.skipped["metrics:ec2"]  # ~40 hours
    assert spent("roomy") == Decimal("0.015")

    tight = source("tight", 0.016)
    run_collector(tight, db_url=db_url, metric_store=store, until=UNTIL)
    run_collector(tight, db_url=db_url, metric_store=store, until=UNTIL + timedelta(minutes=5))
    refused = run_collector(tight, db_url=db_url, metric_store=store, until=UNTIL + timedelta(minutes=10))
    message = refused.failures["metrics:ec2"]
    assert message.startswith("metrics:ec2 refused: a run costs about $0.0050") and "monthly_budget_usd" in message
    assert "\n" not in message and spent("tight") == Decimal("0.015") < Decimal("0.016")
