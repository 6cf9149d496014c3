"""Headroom's predictive policy: no peeking, risk calibrated on generated demand, the plan from a stored forecast."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml_engine.base import Forecast
from services.autoscaling.baselines import reactive, seasonal_predictive
from services.autoscaling.plan import capacity_plan, demand_quantile, hourly_instances
from services.autoscaling.predictive import candidate_plans, choose_plan, guarded, predictive
from services.autoscaling.settings import ScalingSettings
from services.autoscaling.simulator import score
from services.autoscaling.trace import Trace, split_trace

DAY = 288


def generated_demand(days: int = 21, *, seed: int = 7, noise: float = 0.08) -> pd.Series:
    """A daily cycle (night 30, day 100) with multiplicative Gaussian noise, at 5-minute steps."""
    rng = np.random.default_rng(seed)
    t = np.arange(days * DAY)
    cycle = 65 - 35 * np.cos(2 * np.pi * t / DAY)
    values = cycle * (1 + noise * rng.standard_normal(t.size))
    return pd.Series(values, index=pd.date_range("2024-03-04", periods=t.size, freq="5min", tz="UTC"))


def test_decisions_use_only_data_observed_before_them() -> None:
    y = generated_demand()
    trace = split_trace("g", y)
    settings = ScalingSettings()
    before = predictive(trace, settings)
    cut = trace.start + 500
    changed = y.copy()
    changed.iloc[cut + 1 :] *= 3.0  # everything after step `cut` triples
    after = predictive(split_trace("g", changed), settings)
    # the count at k is decided at k - 1 (scale-in) or earlier (scale-out): nothing up to cut + 1 may change
    np.testing.assert_array_equal(before[: cut + 2], after[: cut + 2])
    assert not np.array_equal(before, after)


def test_the_plan_is_chosen_on_history_and_holds_its_risk_on_the_next_week() -> None:
    trace = split_trace("g", generated_demand())
    settings = ScalingSettings()
    choice, instances = choose_plan(trace, settings)
    ours = score(trace.window, instances[trace.start :], trace.unit)
    fast = score(trace.window, reactive(trace, settings)[trace.start :], trace.unit)
    safe = score(trace.window, seasonal_predictive(trace, settings)[trace.start :], trace.unit)
    assert choice.replay_under <= 0.05
    assert ours.under_provisioned <= max(2 * choice.replay_under, 0.02)  # the stated risk carries over
    assert ours.cost < fast.cost and ours.cost < safe.cost  # a forecastable cycle is where planning pays


def test_a_higher_shortfall_penalty_buys_safety_with_capacity() -> None:
    trace = split_trace("g", generated_demand(seed=11, noise=0.15))
    choices = [choose_plan(trace, ScalingSettings(shortfall_penalty=p))[0] for p in (0.0, 5.0, 20.0, 200.0)]
    unders = [c.replay_under for c in choices]
    sizes = [c.replay_instances for c in choices]
    assert unders == sorted(unders, reverse=True) and sizes == sorted(sizes)
    assert unders[0] > unders[-1]


def test_the_miss_guard_falls_back_to_the_target_for_its_hours_from_the_next_launch() -> None:
    demand = np.array([5.0, 5.0, 12.0, 5.0, 5.0, 5.0, 5.0, 5.0])  # C = 1: step 2 needs 12 instances
    index = pd.date_range("2024-03-04", periods=demand.size, freq="1h", tz="UTC")
    trace = Trace(name="g", demand=demand, start=4, unit=1.0, step=pd.Timedelta(hours=1), index=index)
    plan, fallback = np.full(demand.size, 10.0), np.full(demand.size, 15.0)
    # short at step 2 only; known at its end, the fallback's launch serves from step 2 + lag for `steps` steps
    np.testing.assert_array_equal(guarded(plan, fallback, trace, steps=0, lag=1), plan)
    np.testing.assert_array_equal(guarded(plan, fallback, trace, steps=2, lag=1), [10, 10, 10, 15, 15, 10, 10, 10])
    np.testing.assert_array_equal(guarded(plan, fallback, trace, steps=3, lag=2), [10, 10, 10, 10, 15, 15, 15, 10])


def test_the_release_check_only_ever_releases_capacity() -> None:
    trace = split_trace("g", generated_demand())
    plans = candidate_plans(trace, ScalingSettings())  # 10-minute start-up at 5-minute steps: lead 2 > 1
    released = [key for key in plans if key[-1]]
    assert released and len(released) * 2 == len(plans)
    for key in released:
        assert (plans[key] <= plans[(*key[:-1], False)]).all()
    assert any((plans[key] < plans[(*key[:-1], False)]).any() for key in released)
    hourly = split_trace("h", generated_demand().resample("1h").mean())
    assert not any(key[-1] for key in candidate_plans(hourly, ScalingSettings()))  # lead 1: nothing to re-check


def _forecast(hours: int = 48) -> Forecast:
    index = pd.date_range("2026-12-07", periods=hours, freq="1h", tz="UTC")
    mean = pd.Series(np.where(index.hour.isin(range(9, 18)), 80.0, 20.0), index=index)
    return Forecast(model="test", mean=mean, lower={95: mean * 0.8}, upper={95: mean + 19.6})  # sigma = 10


def test_demand_quantile_reads_sigma_from_the_band() -> None:
    q = demand_quantile(_forecast(), risk=0.025)
    assert q.iloc[0] == pytest.approx(20 + 19.6, rel=1e-3)
    assert demand_quantile(_forecast(), risk=0.5).iloc[0] == pytest.approx(20.0)


def test_hourly_instances_and_the_plan_for_the_emitters() -> None:
    settings = ScalingSettings(risk=0.025, min_instances=2, max_instances=12)
    counts = hourly_instances(_forecast(), unit=10.0, settings=settings)
    assert len(counts) == 48 and counts.iloc[0] == 4 and counts.iloc[9] == 10  # ceil(39.6 / 10), ceil(99.6 / 10)
    plan = capacity_plan("web", counts, settings, max_size=12, target_utilisation=0.7)
    assert plan.warmup_seconds == 600 and plan.blocks()[1].instances == 10 and not plan.reaches_max
