"""A small fleet whose every recommendation can be worked out by hand (see the expected values below).

Catalog (aws, us-east-1, family m9): large 2 vCPU/8 GiB $0.10/h, xlarge 4/16 $0.20, 2xlarge 8/32 $0.40, 4xlarge 16/64
$0.80; spot is 30% of on-demand. Ten days of hourly usage end at `now`.

- i-big (4xlarge, production, interruptible): CPU 10%, memory 20% -> CPU p95 1.6 vCPU x 1.2 = 1.92, memory 12.8 GiB
  x 1.2 = 15.36 -> m9.xlarge, saving (0.80 - 0.20) x 730 = 438.00; its spot saving (0.80 - 0.24) x 730 = 408.80 is
  superseded (the same spend).
- i-idle (large, staging): CPU 1%, almost no network -> idle, saving 0.10 x 730 = 73.00.
- i-short (xlarge): 20 hours of data -> no recommendation: "not enough data: 20.0 hours".
- i-grow (2xlarge): CPU 30% -> 50% over the ten days; stored forecast mean 50 + 2/day, 80% band +-10 -> CPU runway
  P50 = (80 - 50) / 2 = 15 days, P90 = (80 - 60) / 2 = 10 days, under the 30-day lead time: flagged.
- i-spare (2xlarge, staging, interruptible): CPU 30%, memory 50% -> right size already; spot (0.40 - 0.12) x 730 =
  204.40.
- vol-1: 100 GiB gp3 "available" -> 100 x 0.08 = 8.00.
- ctr-hpa: a container an HPA scales on CPU and memory -> skipped with the reason.
- ctr-api: container requesting 2 cores / 4 GiB using 25% / 50% flat -> calibrated headroom 5% (the floor): requests
  0.525 cores / 2.1 GiB, saving ((2 - 0.525) x 0.0232 + (4 - 2.1) x 0.0062) x 730 = 33.58.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np

from collector.catalog import COLUMNS
from collector.records import CostRecord, Resource, SampleBatch, SeriesRef
from services.db.engine import session_scope
from services.db.migrate import upgrade
from services.db.models import ForecastPointRow, ForecastRow
from services.ingest.ingest import upsert_resources
from services.metrics import open_metric_store

HOURS = 240
SIZES = {"large": (2, 8, 0.10), "xlarge": (4, 16, 0.20), "2xlarge": (8, 32, 0.40), "4xlarge": (16, 64, 0.80)}
EXPECTED_OPEN = {  # resource key -> (kind, monthly savings at list)
    "aws:i-big": ("rightsize", 438.00),
    "aws:i-idle": ("idle", 73.00),
    "aws:i-spare": ("spot", 204.40),
    "aws:vol-1": ("unattached", 8.00),
    "kubernetes:ctr-api": ("container_rightsize", 33.58),
}


def hour_now() -> datetime:
    now = datetime.now(UTC)
    return now.replace(minute=0, second=0, microsecond=0)


def write_catalog(path: Path) -> Path:
    lines = [",".join(COLUMNS)]
    for size, (vcpus, mem, price) in SIZES.items():
        lines.append(
            f"aws,m9.{size},m9,{vcpus},{mem},us-east-1,{price},USD,{price * 0.6:.4f},{price * 0.4:.4f},"
            f"{price * 0.3:.4f},test"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def _vm(rid: str, size: str, env: str, **tags: str) -> Resource:
    vcpus, mem, price = SIZES[size]
    return Resource(
        resource_id=rid,
        provider="aws",
        name=rid,
        kind="vm",
        account="acct",
        region="us-east-1",
        instance_type=f"m9.{size}",
        vcpus=vcpus,
        memory_gib=mem,
        hourly_price=price,
        environment=env,
        tags=dict(tags),
    )


def resources() -> list[Resource]:
    return [
        _vm("i-big", "4xlarge", "production", interruptible="true"),
        _vm("i-idle", "large", "staging"),
        _vm("i-short", "xlarge", "production"),
        _vm("i-grow", "2xlarge", "production"),
        _vm("i-spare", "2xlarge", "staging", interruptible="true"),
        Resource(
            resource_id="vol-1",
            provider="aws",
            name="vol-1",
            kind="volume",
            account="acct",
            region="us-east-1",
            instance_type="gp3",
            environment="staging",
            tags={"headroom:state": "available", "headroom:size_gib": "100"},
        ),
        Resource(
            resource_id="ctr-hpa",
            provider="kubernetes",
            name="shop/web/app",
            kind="container",
            account="shop",
            vcpus=1.0,
            memory_gib=2.0,
            environment="shop",
            tags={"hpa": "web", "hpa_metrics": "cpu,memory"},
        ),
        Resource(
            resource_id="ctr-api",
            provider="kubernetes",
            name="shop/api/app",
            kind="container",
            account="shop",
            vcpus=2.0,
            memory_gib=4.0,
            environment="shop",
        ),
    ]


def usage(now: datetime) -> dict[tuple[str, str], np.ndarray]:
    flat = np.ones(HOURS)
    grow = 30.0 + 20.0 * np.arange(HOURS) / (HOURS - 1)
    return {
        ("i-big", "cpu_utilization"): 10.0 * flat, ("i-big", "memory_utilization"): 20.0 * flat,
        ("i-big", "network_in_bytes"): 1e6 * flat,
        ("i-idle", "cpu_utilization"): 1.0 * flat, ("i-idle", "memory_utilization"): 10.0 * flat,
        ("i-idle", "network_in_bytes"): 100.0 * flat,
        ("i-short", "cpu_utilization"): 10.0 * flat[:20], ("i-short", "memory_utilization"): 10.0 * flat[:20],
        ("i-grow", "cpu_utilization"): grow, ("i-grow", "memory_utilization"): 80.0 * flat,
        ("i-spare", "cpu_utilization"): 30.0 * flat, ("i-spare", "memory_utilization"): 50.0 * flat,
        ("ctr-hpa", "cpu_utilization"): 50.0 * flat, ("ctr-hpa", "memory_utilization"): 50.0 * flat,
        ("ctr-api", "cpu_utilization"): 25.0 * flat, ("ctr-api", "memory_utilization"): 50.0 * flat,
    }  # fmt: skip


def build_fleet(db_url: str, now: datetime) -> None:
    """Migrate, and store the resources, ten days of hourly usage ending at `now` and i-grow's CPU forecast."""
    upgrade(db_url)
    with session_scope(db_url) as session:
        upsert_resources(session, resources())
    end = int(now.timestamp())
    batches = []
    for (rid, metric), values in usage(now).items():
        ts = end - 3600 * np.arange(len(values), 0, -1)
        batches.append(SampleBatch(SeriesRef(rid, metric, "percent"), ts, values))
    store = open_metric_store(db_url)
    try:
        store.write(batches)
    finally:
        store.close()
    days = np.arange(1, 20 * 24 + 1) / 24.0
    store_forecast(
        db_url, "i-grow/cpu_utilization", "mean", now, step=3600, mean=50.0 + 2.0 * days, band80=10.0, band95=15.0
    )


def store_forecast(
    db_url: str, series_id: str, stat: str, now: datetime, *, step: int, mean: np.ndarray, band80: float, band95: float
) -> None:
    with session_scope(db_url) as session:
        row = ForecastRow(series_id=series_id, stat=stat, as_of=now.date(), model_name="test", step_seconds=step)
        row.points = [
            ForecastPointRow(
                ts=now + timedelta(seconds=step * (i + 1)),
                mean=float(m),
                lo80=float(m - band80),
                hi80=float(m + band80),
                lo95=float(m - band95),
                hi95=float(m + band95),
            )
            for i, m in enumerate(mean)
        ]
        session.add(row)


def cost_line(day: date, amount: str, rid: str = "i-big", *, effective: str | None = None) -> CostRecord:
    """One day's usage line of an aws resource (effective = billed = list unless given)."""
    return CostRecord(
        provider="aws",
        charge_period_start=day,
        charge_period_end=day + timedelta(days=1),
        billed_cost=Decimal(amount),
        effective_cost=Decimal(effective or amount),
        list_cost=Decimal(amount),
        resource_id=rid,
    )


def credit_line(day: date, amount: str) -> CostRecord:
    """A credit of an aws account on `day` (negative amount, no resource)."""
    value = Decimal(amount)
    return CostRecord(provider="aws", charge_period_start=day, charge_period_end=day + timedelta(days=1),
                      billed_cost=value, effective_cost=value, list_cost=Decimal("0"), charge_category="Credit")
