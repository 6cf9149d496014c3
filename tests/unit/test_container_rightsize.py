"""Container right-sizing: requests and limits by hand, HPA-owned resources skipped with a reason."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from services.recommend.base import Recommendation, Skipped
from services.recommend.containers import ContainerFacts, ContainerSettings, rightsize_container

START = pd.Timestamp("2026-01-05T00:00:00Z")


def hourly(values: list[float]) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float), index=pd.date_range(START, periods=len(values), freq="h"))


CPU = hourly([0.5] * 48)  # a steady half core
MEM = hourly([1.0] * 48)  # a steady GiB
FIXED = ContainerSettings(calibrate_headroom=False, cpu_limit_ratio=2.0)


def test_requests_and_limits_from_usage_by_hand() -> None:
    facts = ContainerFacts("ns/web", cpu_request=2.0, memory_request=4.0)
    rec = rightsize_container(facts=facts, cpu_cores=CPU, mem_gib=MEM, settings=FIXED)
    assert isinstance(rec, Recommendation)
    # p90 of a steady 0.5 core +15% = 0.575; max 1 GiB +15% = 1.15; CPU limit 2x request; memory limit = request
    assert rec.proposed == pytest.approx(
        {"cpu_request": 0.575, "memory_request": 1.15, "cpu_limit": 1.15, "memory_limit": 1.15}
    )
    assert rec.finding == "over_provisioned"
    saving = ((2.0 - 0.575) * FIXED.vcpu_hour + (4.0 - 1.15) * FIXED.gib_hour) * 730
    assert rec.monthly_savings_list == pytest.approx(saving)


def test_calibrated_headroom_uses_the_floor_on_steady_usage() -> None:
    facts = ContainerFacts("ns/web", cpu_request=2.0, memory_request=4.0)
    rec = rightsize_container(facts=facts, cpu_cores=CPU, mem_gib=MEM)  # defaults: calibrated, floor 5%
    assert isinstance(rec, Recommendation)
    assert rec.proposed["cpu_request"] == pytest.approx(0.525) and rec.proposed["memory_request"] == 1.05


def test_peak_limits() -> None:
    facts = ContainerFacts("ns/web", cpu_request=0.1, memory_request=0.5)
    spiky = hourly([0.5] * 47 + [2.0])
    rec = rightsize_container(
        facts=facts, cpu_cores=spiky, mem_gib=MEM, settings=FIXED.model_copy(update={"limit_mode": "peak"})
    )
    assert isinstance(rec, Recommendation)
    assert rec.proposed["cpu_limit"] == pytest.approx(2.0 * 1.15)  # the observed peak + headroom
    assert rec.finding == "under_provisioned"


def test_a_workload_scaled_by_an_hpa_on_cpu_and_memory_is_skipped_with_a_reason() -> None:
    facts = ContainerFacts("ns/api", 1.0, 2.0, hpa_name="api", hpa_metrics=("cpu", "memory"))
    out = rightsize_container(facts=facts, cpu_cores=CPU, mem_gib=MEM)
    assert isinstance(out, Skipped)
    assert "HPA api scales this workload on CPU and memory" in out.reason


def test_an_hpa_on_cpu_leaves_the_cpu_request_alone_and_says_why() -> None:
    facts = ContainerFacts("ns/api", 1.0, 2.0, hpa_name="api", hpa_metrics=("cpu",))
    rec = rightsize_container(facts=facts, cpu_cores=CPU, mem_gib=MEM, settings=FIXED)
    assert isinstance(rec, Recommendation)
    assert rec.proposed["cpu_request"] == 1.0 and rec.proposed["memory_request"] == pytest.approx(1.15)
    assert any("HPA api scales this workload on cpu" in r for r in rec.evidence.reasons)


def test_too_little_history_is_skipped() -> None:
    out = rightsize_container(
        facts=ContainerFacts("ns/x", 1.0, 1.0), cpu_cores=hourly([0.5] * 10), mem_gib=hourly([1.0] * 10)
    )
    assert isinstance(out, Skipped) and "10.0 hours" in out.reason and "30 hours" in out.reason


def test_fleet_margins_size_requests_for_the_stated_risk_and_say_the_risk_of_the_next_smaller_size() -> None:
    from services.recommend.risk_sizing import UsageWindow, calibrate, size_for_risk

    rng = np.random.default_rng(4)
    days = 14 * 24
    fleet = [
        (hourly(list(0.5 * np.exp(0.3 * rng.standard_normal(days)))), hourly(list(1.0 + 0.02 * rng.random(days))))
        for _ in range(60)  # enough containers to back a 1 in 20 statement
    ]
    frames = [
        pd.DataFrame({"cpu_used_cores": c, "mem_used_gib": m, "cpu_provisioned_cores": 2.0, "mem_provisioned_gib": 4.0})
        for c, m in fleet
    ]
    settings = ContainerSettings()
    margins = calibrate([UsageWindow.from_frame(f) for f in frames], target=settings.risk_target(), horizon_days=14)
    assert margins.backed
    facts = ContainerFacts("ns/web", cpu_request=2.0, memory_request=4.0)
    rec = rightsize_container(facts=facts, cpu_cores=fleet[0][0], mem_gib=fleet[0][1], margins=margins)
    assert isinstance(rec, Recommendation)
    expected = size_for_risk(UsageWindow.from_frame(frames[0]), margins, horizon_days=14)
    assert rec.proposed["cpu_request"] == pytest.approx(expected.cpu_cores, abs=1e-3)
    assert rec.proposed["memory_request"] == pytest.approx(expected.mem_gib, abs=1e-3)
    reasons = " ".join(rec.evidence.reasons)
    assert "sized for the stated risk" in reasons and "next smaller size" in reasons and "% of samples" in reasons
