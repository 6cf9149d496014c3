"""Idle machines by Advisor-like thresholds, unattached volumes and addresses, on hand-built and demo inputs."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from collector.catalog import Catalog
from collector.config import DemoSourceSettings
from collector.demo import DemoCollector
from collector.records import Resource
from services.recommend.base import HOURS_PER_MONTH, Recommendation, Skipped
from services.recommend.idle import IdleSettings, UnattachedSettings, idle_machine, unattached_resources

END = pd.Timestamp("2026-03-02 00:00", tz="UTC")
VM = Resource(resource_id="i-1", provider="aws", name="box", instance_type="m4.large", hourly_price=0.1)


def hourly(values: np.ndarray) -> pd.Series:
    return pd.Series(values, index=pd.date_range(end=END - pd.Timedelta(hours=1), periods=len(values), freq="h"))


def cpu_with_bursts(hours: int, bursts: int, burst_value: float) -> pd.Series:
    values = np.full(hours, 1.0)
    values[:: hours // bursts][:bursts] = burst_value
    return hourly(values)


def test_idle_when_cpu_p95_and_network_are_low_and_savings_are_the_whole_cost() -> None:
    # 8 days = 192 hours; 8 hours (4%) at 20% CPU: the p95 position 0.95 * 191 = 181.45 lies among the 184 ones
    cpu = cpu_with_bursts(192, 8, 20.0)
    network = hourly(np.full(192, 100_000.0 * 3600))  # 100 kB/s, under the 2.5 MB/s limit
    rec = idle_machine(resource=VM, cpu=cpu, network_bytes=network, effective_hourly=0.062)
    assert isinstance(rec, Recommendation)
    assert rec.kind == "idle" and rec.finding == "idle"
    assert rec.evidence.observed["cpu_p95"] == pytest.approx(1.0)
    assert rec.evidence.observed["network_p95_bytes_per_second"] == pytest.approx(100_000.0)
    assert rec.monthly_savings_list == pytest.approx(0.1 * 730)
    assert rec.monthly_savings_effective == pytest.approx(0.062 * 730)
    assert rec.evidence.coverage_hours == 7 * 24  # the 7-day lookback, not the 8 days supplied
    assert any("below the 5% limit" in r for r in rec.evidence.reasons)


def test_busy_tenth_of_the_time_is_not_idle() -> None:
    # 20 of 192 hours (>5%) at 6%: the p95 position 181.45 falls among them, so p95 = 6% >= 5%
    cpu = hourly(np.r_[np.full(172, 1.0), np.full(20, 6.0)])
    out = idle_machine(resource=VM, cpu=cpu, network_bytes=None, settings=IdleSettings(lookback_days=8))
    assert isinstance(out, Skipped)
    assert "6.0%" in out.reason and "5% limit" in out.reason


def test_network_traffic_keeps_a_quiet_cpu_machine_busy() -> None:
    cpu = hourly(np.full(192, 1.0))
    network = hourly(np.full(192, 3_000_000.0 * 3600))  # 3 MB/s
    out = idle_machine(resource=VM, cpu=cpu, network_bytes=network)
    assert isinstance(out, Skipped) and "serves traffic" in out.reason


def test_thresholds_are_configurable() -> None:
    cpu = hourly(np.full(192, 3.0))
    assert isinstance(idle_machine(resource=VM, cpu=cpu, network_bytes=None), Recommendation)
    strict = IdleSettings(cpu_threshold_percent=2.0)
    assert isinstance(idle_machine(resource=VM, cpu=cpu, network_bytes=None, settings=strict), Skipped)
    with pytest.raises(ValueError):
        IdleSettings(cpu_threshold_percent=0.0)


def test_not_enough_data_gives_a_reason_and_no_recommendation() -> None:
    out = idle_machine(resource=VM, cpu=hourly(np.full(48, 0.5)), network_bytes=None)
    assert isinstance(out, Skipped)
    assert out.reason.startswith("not enough data: 48 hours")


def test_unattached_volumes_and_addresses_cost_their_whole_month() -> None:
    resources = [
        Resource(
            "vol-1",
            "aws",
            "old",
            kind="volume",
            instance_type="gp3",
            tags={"headroom:state": "available", "headroom:size_gib": "100", "headroom:attached_to": ""},
        ),  # fmt: skip
        Resource(
            "vol-2",
            "aws",
            "used",
            kind="volume",
            instance_type="gp3",
            tags={"headroom:state": "in-use", "headroom:size_gib": "100", "headroom:attached_to": "i-1"},
        ),  # fmt: skip
        Resource("vol-3", "gcp", "priced", kind="volume", hourly_price=0.01, tags={"headroom:attached_to": ""}),
        Resource("eip-1", "aws", "spare-ip", kind="address", tags={"headroom:associated_to": ""}),
        Resource("eip-2", "aws", "used-ip", kind="address", tags={"headroom:associated_to": "eni-1"}),
        VM,
    ]
    found = {r.resource_id: r for r in unattached_resources(resources=resources)}
    assert set(found) == {"vol-1", "vol-3", "eip-1"}
    assert found["vol-1"].monthly_savings_list == pytest.approx(100 * 0.08)  # 100 GiB gp3 at $0.08/GiB-month
    assert found["vol-3"].monthly_savings_list == pytest.approx(0.01 * HOURS_PER_MONTH)
    assert found["eip-1"].monthly_savings_list == pytest.approx(0.005 * 730)
    assert found["eip-1"].proposed == {"action": "release"} and found["vol-1"].proposed == {"action": "delete"}
    cheap = UnattachedSettings(volume_gib_month={"gp3": 0.05})
    assert unattached_resources(resources=resources[:1], settings=cheap)[0].monthly_savings_list == pytest.approx(5.0)


def test_demo_fleet_idle_machines_are_found_and_busy_ones_are_not() -> None:
    catalog = Catalog.load()
    now = datetime(2026, 3, 4, tzinfo=UTC)
    demo = DemoCollector(DemoSourceSettings(resources=20, days=8, step_minutes=15), catalog, now=now)
    resources = {r.resource_id: r for r in demo.discover()}
    series: dict[tuple[str, str], pd.Series] = {}
    for batch in demo.collect_metrics(None, now):
        index = pd.to_datetime(batch.timestamps, unit="s", utc=True)
        series[(batch.series.resource_id, batch.series.metric)] = pd.Series(batch.values, index=index)
    verdicts = {}
    for machine in demo.fleet:
        rid = machine.resource_id
        out = idle_machine(
            resource=resources[rid],
            cpu=series[(rid, "cpu_utilization")],
            network_bytes=series.get((rid, "network_in_bytes")),
        )
        verdicts[machine.behaviour, rid] = isinstance(out, Recommendation)
    assert all(v for (behaviour, _), v in verdicts.items() if behaviour == "idle")
    assert not any(v for (behaviour, _), v in verdicts.items() if behaviour != "idle")
