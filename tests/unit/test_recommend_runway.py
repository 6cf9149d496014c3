"""Capacity runway: analytic answers on linear series, forecast bands, groups, budgets and the lead-time flag."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from ml_engine.base import Forecast
from services.recommend.base import Recommendation, Skipped
from services.recommend.runway import RunwaySettings, budget_runway, capacity_runway, group_runway

NOW = pd.Timestamp("2026-03-01 00:00", tz="UTC")


def linear_history(start_value: float, per_day: float, days: int = 60, noise: float = 0.0) -> pd.Series:
    """Hourly samples ending at NOW, where the value is `start_value`, changing `per_day` a day."""
    index = pd.date_range(end=NOW, periods=days * 24 + 1, freq="h")
    t = ((index - NOW) / pd.Timedelta(days=1)).to_numpy()
    wiggle = noise * np.where(np.arange(len(t)) % 2 == 0, 1.0, -1.0)
    return pd.Series(start_value + per_day * t + wiggle, index=index)


def linear_forecast(start_value: float, per_day: float, band: float, days: int = 90) -> Forecast:
    index = pd.date_range(start=NOW + pd.Timedelta(hours=1), periods=days * 24, freq="h")
    t = ((index - NOW) / pd.Timedelta(days=1)).to_numpy()
    mean = pd.Series(start_value + per_day * t, index=index)
    return Forecast(model="test", mean=mean, lower={80: mean - band}, upper={80: mean + band})


def test_linear_growth_from_50_at_1_percent_a_day_reaches_80_in_30_days() -> None:
    rec = capacity_runway(resource_id="vm-1", metric="cpu_utilization", history=linear_history(50.0, 1.0))
    assert isinstance(rec, Recommendation)
    assert rec.proposed["method"] == "trend"
    assert rec.proposed["p50_days"] == pytest.approx(30.0, abs=1e-6)  # (80 - 50) / 1
    assert rec.proposed["p90_days"] == pytest.approx(30.0, abs=1e-3)  # a perfect line has no spread
    memory = capacity_runway(resource_id="vm-1", metric="memory_utilization", history=linear_history(50.0, 1.0))
    assert isinstance(memory, Recommendation) and memory.proposed["p50_days"] == pytest.approx(40.0)  # (90-50)/1
    assert any("linear trend" in r for r in rec.evidence.reasons)


def test_noise_makes_p90_come_before_p50() -> None:
    rec = capacity_runway(resource_id="vm-1", metric="cpu_utilization", history=linear_history(50.0, 1.0, noise=2.0))
    assert isinstance(rec, Recommendation)
    p50, p90 = rec.proposed["p50_days"], rec.proposed["p90_days"]
    assert p50 == pytest.approx(30.0, abs=0.1)
    # alternating +-2 leaves residual sd ~2; the 80% band's upper edge is ~1.28 * 2 above the line: ~2.6 days sooner
    assert p90 == pytest.approx(30.0 - 1.2816 * 2.0, abs=0.1)


def test_forecast_mean_gives_p50_and_upper_80_band_gives_p90_and_flags_lead_time() -> None:
    forecast = linear_forecast(50.0, 1.0, band=10.0)
    history = linear_history(50.0, 1.0)
    short = RunwaySettings(lead_time_days=25.0)
    rec = capacity_runway(
        resource_id="vm-1", metric="cpu_utilization", history=history, forecast=forecast, settings=short
    )
    assert isinstance(rec, Recommendation)
    assert rec.proposed["method"] == "forecast"
    assert rec.proposed["p50_days"] == pytest.approx(30.0)  # 50 + t = 80
    assert rec.proposed["p90_days"] == pytest.approx(20.0)  # 60 + t = 80
    assert rec.finding == "at_risk" and rec.proposed["flagged"] and rec.evidence.risk == 3
    relaxed = capacity_runway(
        resource_id="vm-1", metric="cpu_utilization", history=history, forecast=forecast,
        settings=RunwaySettings(lead_time_days=14.0),
    )  # fmt: skip
    assert isinstance(relaxed, Recommendation) and relaxed.finding == "optimized"


def test_threshold_beyond_the_horizon_or_never_reached() -> None:
    flat = capacity_runway(resource_id="vm-1", metric="cpu_utilization", history=linear_history(30.0, 0.0))
    assert isinstance(flat, Recommendation)
    assert flat.proposed["p50_days"] is None and flat.finding == "optimized"
    far = capacity_runway(
        resource_id="vm-1", metric="cpu_utilization", forecast=linear_forecast(20.0, 0.1, band=1.0, days=30)
    )
    assert isinstance(far, Recommendation) and far.proposed["p90_days"] is None
    assert any("beyond 30 days" in r for r in far.evidence.reasons)


def test_already_over_the_threshold_is_zero_days() -> None:
    rec = capacity_runway(resource_id="vm-1", metric="disk_utilization", history=linear_history(100.0, 0.5))
    assert isinstance(rec, Recommendation) and rec.proposed["p50_days"] == 0.0 and rec.evidence.risk == 4


def test_custom_quota_threshold_and_missing_data() -> None:
    quota = capacity_runway(resource_id="acct", metric="vcpus", history=linear_history(200.0, 4.0), threshold=256.0)
    assert isinstance(quota, Recommendation) and quota.proposed["p50_days"] == pytest.approx(14.0)  # 56 / 4
    unknown = capacity_runway(resource_id="vm-1", metric="vcpus", history=linear_history(1.0, 1.0))
    assert isinstance(unknown, Skipped) and "no threshold" in unknown.reason
    short = capacity_runway(resource_id="vm-1", metric="cpu_utilization", history=linear_history(50.0, 1.0, days=1))
    assert isinstance(short, Skipped) and "not enough history" in short.reason


def test_group_runway_weights_members_by_capacity() -> None:
    histories = {"small": linear_history(20.0, 0.0), "big": linear_history(60.0, 1.0)}
    # 1/4 * 20 + 3/4 * (60 + t) = 50 + 0.75 t reaches 80 at t = 40
    rec = group_runway(group_id="web", metric="cpu_utilization", histories=histories, capacities={"small": 1, "big": 3})
    assert isinstance(rec, Recommendation) and rec.resource_id == "web"
    assert rec.proposed["p50_days"] == pytest.approx(40.0)
    forecasts = {"small": linear_forecast(20.0, 0.0, 4.0), "big": linear_forecast(60.0, 1.0, 4.0)}
    banded = group_runway(
        group_id="web", metric="cpu_utilization", histories=histories, capacities={"small": 1, "big": 3},
        forecasts=forecasts,
    )  # fmt: skip
    assert isinstance(banded, Recommendation) and banded.proposed["method"] == "forecast"
    # upper: 54 + 0.75 t reaches 80 at t = 34.67
    assert banded.proposed["p90_days"] == pytest.approx(26.0 / 0.75)


def test_budget_runway_from_spend_trend_and_from_a_spend_forecast() -> None:
    start = date(2026, 2, 10)
    daily = pd.Series(100.0, index=pd.date_range(start=pd.Timestamp(start, tz="UTC"), periods=20, freq="D"))
    rec = budget_runway(scope="team-a", daily_spend=daily, budget=5000.0, period_start=start)
    assert isinstance(rec, Recommendation)
    assert rec.proposed["p50_days"] == pytest.approx(30.0)  # 2000 spent, 100 a day, 3000 left
    index = pd.date_range(start=daily.index[-1] + pd.Timedelta(days=1), periods=60, freq="D")
    mean = pd.Series(100.0, index=index)
    forecast = Forecast(model="test", mean=mean, lower={80: mean * 0.5}, upper={80: mean * 1.5})
    banded = budget_runway(scope="team-a", daily_spend=daily, budget=5000.0, period_start=start, forecast=forecast)
    assert isinstance(banded, Recommendation)
    assert (banded.proposed["p50_days"], banded.proposed["p90_days"]) == (pytest.approx(30.0), pytest.approx(20.0))


def test_a_forecast_made_before_now_never_gives_a_negative_runway() -> None:
    # the forecast was made half an hour before the latest sample; its first point, already past, is over
    index = pd.date_range(start=NOW - pd.Timedelta(minutes=30), periods=48, freq="h")
    mean = pd.Series(np.where(np.arange(48) == 0, 85.0, 60.0 + 0.5 * np.arange(48)), index=index)
    forecast = Forecast(model="test", mean=mean, lower={80: mean - 2.0}, upper={80: mean + 2.0})
    rec = capacity_runway(
        resource_id="vm-1", metric="cpu_utilization", history=linear_history(60.0, 0.0), forecast=forecast, now=NOW
    )
    assert isinstance(rec, Recommendation)
    # 60 + 0.5 h reaches 80 at h = 40 (the point 39.5 hours after now); its upper edge, 2 higher, at h = 36
    assert rec.proposed["p50_days"] == pytest.approx(39.5 / 24.0, abs=1e-4)  # stored to 4 decimals
    assert rec.proposed["p90_days"] == pytest.approx(35.5 / 24.0, abs=1e-4)
