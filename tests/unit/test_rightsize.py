"""VM right-sizing and the usage statistics under it, on usage built so every answer can be worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from collector.catalog import Catalog, CatalogEntry
from services.recommend.base import Recommendation, Skipped
from services.recommend.rightsize import VMFacts, VMRightsizeSettings, performance_risk, rightsize_instance
from services.recommend.usage import (
    DecayingHistogram,
    calibrated_headroom,
    mann_kendall_z,
    required_capacity,
    statistic,
    trend_peak,
)

START = pd.Timestamp("2026-01-05T00:00:00Z")


def hourly(values: list[float] | np.ndarray) -> pd.Series:
    return pd.Series(np.asarray(values, dtype=float), index=pd.date_range(START, periods=len(values), freq="h"))


def entry(instance_type: str, vcpus: float, memory: float, price: float) -> CatalogEntry:
    return CatalogEntry("aws", instance_type, instance_type.split(".")[0], vcpus, memory, "us-east-1", price)


@pytest.fixture()
def catalog() -> Catalog:
    return Catalog([
        entry("m5.large", 2, 8, 0.096), entry("m5.xlarge", 4, 16, 0.192), entry("m5.2xlarge", 8, 32, 0.384),
        entry("m5.4xlarge", 16, 64, 0.768), entry("c5.xlarge", 4, 8, 0.17), entry("r5.large", 2, 16, 0.126),
        CatalogEntry("aws", "m5.large", "m5", 2, 8, "eu-west-1", 0.01),  # another region never counts
    ])  # fmt: skip


FACTS = VMFacts("i-1", "aws", "us-east-1", "m5.4xlarge", 16, 64, hourly_price=0.768, effective_hourly=0.5)


def test_over_provisioned_vm_gets_the_cheapest_same_family_fit_and_the_cross_family_alternative(
    catalog: Catalog,
) -> None:
    # CPU 10% of 16 vCPU = 1.6 cores, x1.2 = 1.92 vCPU; memory 20% of 64 GiB = 12.8, x1.2 = 15.36 GiB
    rec = rightsize_instance(
        facts=FACTS, cpu_percent=hourly([10.0] * 48), memory_percent=hourly([20.0] * 48), catalog=catalog
    )
    assert isinstance(rec, Recommendation)
    assert rec.finding == "over_provisioned"
    assert rec.proposed["instance_type"] == "m5.xlarge"  # m5.large lacks memory; c5.xlarge too
    assert rec.proposed["required_vcpus"] == pytest.approx(1.92)
    assert rec.proposed["required_memory_gib"] == pytest.approx(15.36)
    assert rec.monthly_savings_list == pytest.approx((0.768 - 0.192) * 730)  # 420.48
    assert rec.monthly_savings_effective == pytest.approx(420.48 * 0.5 / 0.768)  # same discount on the new type
    assert rec.alternatives[0]["instance_type"] == "r5.large"
    assert rec.alternatives[0]["monthly_savings_list"] == pytest.approx((0.768 - 0.126) * 730)
    assert rec.evidence.projected_utilisation == pytest.approx({"cpu": 40.0, "memory": 80.0})
    assert rec.evidence.risk == 2  # 80% reaches the 60% and 75% bands; steady CPU adds nothing
    assert rec.evidence.coverage_hours == pytest.approx(48.0)
    assert rec.evidence.reasons[0] == "CPU p95 was 10.0% of 16 vCPU over 14 days; with 20% headroom 1.9 vCPU are needed"
    assert "m5.xlarge (4 vCPU, 16 GiB) fits at 40% projected CPU" in rec.evidence.reasons[2]


def test_under_provisioned_vm_shows_a_cost_increase_never_a_negative_saving(catalog: Catalog) -> None:
    small = VMFacts("i-2", "aws", "us-east-1", "m5.large", 2, 8, hourly_price=0.096)
    rec = rightsize_instance(
        facts=small,
        cpu_percent=hourly([90.0] * 48),
        memory_percent=hourly([50.0] * 48),
        catalog=catalog,
        settings=VMRightsizeSettings(headroom=0.15),
    )
    assert isinstance(rec, Recommendation)
    # 1.8 cores x1.15 = 2.07 vCPU, 4 GiB x1.15 = 4.6 GiB: m5.xlarge, 0.096 USD/h more
    assert rec.finding == "under_provisioned" and rec.proposed["instance_type"] == "m5.xlarge"
    assert rec.monthly_savings_list == 0.0 and rec.monthly_savings_effective == 0.0
    assert rec.proposed["monthly_cost_change_list"] == pytest.approx(0.096 * 730)


def test_a_stored_forecast_peak_above_the_percentile_sizes_the_machine(catalog: Catalog) -> None:
    rec = rightsize_instance(
        facts=FACTS,
        cpu_percent=hourly([10.0] * 48),
        memory_percent=hourly([20.0] * 48),
        catalog=catalog,
        cpu_forecast_peak_percent=25.0,
    )
    assert isinstance(rec, Recommendation)
    assert rec.proposed["required_vcpus"] == pytest.approx(4.0 * 1.2)  # 25% of 16 = 4 cores
    assert rec.proposed["instance_type"] == "m5.2xlarge"


def test_not_enough_data_is_skipped_naming_the_hours(catalog: Catalog) -> None:
    out = rightsize_instance(
        facts=FACTS, cpu_percent=hourly([10.0] * 20), memory_percent=hourly([20.0] * 20), catalog=catalog
    )
    assert isinstance(out, Skipped)
    assert "20.0 hours of usage" in out.reason and "at least 30 hours" in out.reason


def test_decaying_histogram_percentile_by_hand() -> None:
    series = hourly([1.0, 2.0, 3.0, 4.0])
    # half-life 1 h: weights 1/8, 1/4, 1/2, 1 (total 1.875); cumulative 0.125, 0.375, 0.875, 1.875
    decayed = DecayingHistogram.from_series(series, half_life_hours=1.0)
    assert decayed.total_weight == pytest.approx(1.875)
    assert decayed.percentile(40) == 3.0  # 0.75 of weight is reached at 3
    assert decayed.percentile(50) == 4.0  # 0.9375 only at 4
    assert statistic(series, "p50") == 2.0 and statistic(series, "max") == 4.0
    with pytest.raises(ValueError, match="p95"):
        statistic(series, "median")


def test_trend_is_projected_only_when_it_is_significant() -> None:
    days = np.repeat(np.arange(7.0), 24)  # daily maximum rises by 1 a day: 10, 11, ..., 16
    rising = trend_peak(hourly(10.0 + days), stat="max", horizon_hours=72)
    assert rising is not None and rising.slope_per_day == pytest.approx(1.0)
    assert rising.peak == pytest.approx(16.0 + 3.0)
    assert trend_peak(hourly([5.0, 6.0] * 84), stat="max", horizon_hours=72) is None  # level
    assert mann_kendall_z(np.array([1.0, 2.0, 3.0, 4.0])) == pytest.approx(5 / np.sqrt(4 * 3 * 13 / 18))


def test_calibrated_headroom_is_the_largest_excess_of_later_over_earlier_days() -> None:
    series = hourly([10.0] * 24 + [12.0] * 24 + [11.0] * 24)  # cuts: 12/10 - 1 = 0.2, 11/12 - 1 < 0
    assert calibrated_headroom(series, stat="max", floor=0.05, cap=1.0) == pytest.approx(0.2)
    assert calibrated_headroom(hourly([10.0] * 72), stat="max", floor=0.05, cap=1.0) == 0.05
    assert calibrated_headroom(hourly([10.0] * 20), stat="max", floor=0.05, cap=1.0) is None
    req = required_capacity(
        usage=series, stat="max", headroom=0.15, half_life_hours=None, horizon_hours=24, calibrate=(0.05, 1.0)
    )
    assert req.required == pytest.approx(12.0 * 1.2) and req.headroom_source == "calibrated"


def test_performance_risk_bands_and_burstiness() -> None:
    steady = pd.Series([1.0] * 10)
    assert [performance_risk(p, steady) for p in (10, 60, 80, 90, 99)] == [0, 1, 2, 3, 4]
    bursty = pd.Series([0.1] * 9 + [10.0])
    assert performance_risk(10, bursty) == 1 and performance_risk(99, bursty) == 4


def test_fleet_margins_size_a_vm_for_the_stated_risk_and_give_the_next_smaller_types_risk(catalog: Catalog) -> None:
    from services.recommend.fleet_margins import learn_margins

    rng = np.random.default_rng(2)
    hours = 14 * 24
    fleet = [  # percent of an m5.4xlarge: about 4 busy cores and 20 GiB
        (hourly(25 * np.exp(0.2 * rng.standard_normal(hours))), hourly(30 + 0.5 * rng.random(hours)), 16.0, 64.0)
        for _ in range(60)
    ]
    settings = VMRightsizeSettings(risk_reference_guard=False)  # the stated risk alone; the guard is tested apart
    margins = learn_margins(fleet, settings=settings, lookback_days=14, horizon_hours=settings.lead_time_hours)
    assert margins is not None and margins.backed
    rec = rightsize_instance(
        facts=FACTS, cpu_percent=fleet[0][0], memory_percent=fleet[0][1], catalog=catalog, margins=margins
    )
    assert isinstance(rec, Recommendation) and rec.finding == "over_provisioned"
    assert rec.proposed["instance_type"] == "m5.2xlarge"  # 8 vCPU / 32 GiB: the 4 vCPU types are too small
    reasons = " ".join(rec.evidence.reasons)
    assert "sized for the stated risk" in reasons and "expected at m5.2xlarge" in reasons
    assert "expected at the next smaller type m5.xlarge" in reasons and "% of samples" in reasons
    # by default the steady fleet's own cuts show p99.5 + 20% letting less through than 0.5%: that rule is the floor,
    # and 1.2 x p99.5 of about 4 busy cores with this noise is just over 8 vCPU
    guarded = learn_margins(fleet, settings=VMRightsizeSettings(), lookback_days=14, horizon_hours=14 * 24)
    assert guarded is not None and guarded.cpu_reference_floor
    kept = rightsize_instance(
        facts=FACTS, cpu_percent=fleet[0][0], memory_percent=fleet[0][1], catalog=catalog, margins=guarded
    )
    assert isinstance(kept, Recommendation) and kept.finding == "optimized"
