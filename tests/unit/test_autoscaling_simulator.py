"""The autoscaling simulator and baselines against hand-worked cases: start-up lag, stabilisation, floor, scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from services.autoscaling.baselines import (
    perfect_foresight,
    reactive,
    seasonal_predictive,
    seasonal_profile,
    static_peak,
)
from services.autoscaling.settings import ScalingSettings, steps_of
from services.autoscaling.simulator import in_service, score, stabilise
from services.autoscaling.trace import Trace, TraceError, split_trace

FIVE_MINUTES = pd.Timedelta(minutes=5)


def make_trace(demand: list[float] | np.ndarray, *, start: int = 0, unit: float = 1.0,
               step: pd.Timedelta = FIVE_MINUTES) -> Trace:
    values = np.asarray(demand, dtype=np.float64)
    index = pd.date_range("2024-01-01", periods=values.size, freq=step, tz="UTC")
    return Trace(name="t", demand=values, start=start, unit=unit, step=step, index=index)


def test_ten_minutes_is_two_five_minute_steps_and_at_least_one_hourly_step() -> None:
    assert steps_of(10, FIVE_MINUTES, at_least=1) == 2
    assert steps_of(10, pd.Timedelta(hours=1), at_least=1) == 1
    assert steps_of(15, FIVE_MINUTES) == 3
    assert steps_of(0, FIVE_MINUTES, at_least=1) == 1


def test_stabilise_keeps_the_highest_request_of_the_window() -> None:
    assert stabilise(np.array([1, 3, 1, 1, 1, 1]), 3).tolist() == [1, 3, 3, 3, 1, 1]
    assert stabilise(np.array([1, 3, 1]), 1).tolist() == [1, 3, 1]


def test_scale_out_serves_after_the_lag_and_scale_in_at_the_next_step() -> None:
    # decided at the end of step j: the 5 requested at step 2 serves from step 4, the 1 requested at 5 from 6
    assert in_service(np.array([2, 2, 5, 5, 5, 1, 1]), lag=2).tolist() == [2, 2, 2, 2, 5, 5, 1]


def test_a_launch_no_longer_wanted_during_start_up_never_serves() -> None:
    assert in_service(np.array([1, 3, 1, 1]), lag=2).tolist() == [1, 1, 1, 1]


def test_reactive_target_tracking_is_late_by_the_start_up_and_holds_for_the_stabilisation_window() -> None:
    demand = [1.0] * 10 + [10.0] * 10 + [1.0] * 10
    n = reactive(make_trace(demand), ScalingSettings())
    # desired = ceil(d / 0.7): 2 at demand 1, 15 at demand 10
    assert n[11] == 2 and n[12] == 15  # the load arrives at step 10; capacity 10 minutes (2 steps) later
    assert n[22] == 15 and n[23] == 2  # the load leaves at 20; 15 minutes of desired 15 keep it to step 22


def test_reactive_on_hourly_steps_is_one_step_late() -> None:
    n = reactive(make_trace([1.0] * 5 + [10.0] * 5, step=pd.Timedelta(hours=1)), ScalingSettings())
    assert n[5] == 2 and n[6] == 15


def test_seasonal_predictive_launches_the_daily_peak_in_time_with_the_reactive_floor_under_it() -> None:
    day = 288
    profile = np.where((np.arange(day) >= 100) & (np.arange(day) < 120), 10.0, 1.0)
    demand = np.tile(profile, 8)
    demand[-50] = 30.0  # a spike no day before had: only the floor answers, two steps late
    trace = make_trace(demand, start=7 * day)
    n = seasonal_predictive(trace, ScalingSettings())
    last_day = 7 * day
    assert n[last_day + 100] == 15  # the peak's first step is covered: planned from the previous days
    assert n[last_day + 99] == 2
    spike = demand.size - 50
    assert n[spike] == 2 and n[spike + 2] == np.ceil(30 / 0.7)
    assert np.all(n >= reactive(trace, ScalingSettings()))


def test_seasonal_profile_uses_only_previous_days() -> None:
    observed = np.arange(10, dtype=float)
    profile = seasonal_profile(observed, season=2, days=2)
    assert np.isnan(profile[:2]).all()
    assert profile[2] == 0.0 and profile[5] == pytest.approx((3 + 1) / 2)


def test_static_and_oracle() -> None:
    trace = make_trace([1.0, 7.0, 3.0, 0.0, 2.0], start=3)
    settings = ScalingSettings()
    assert static_peak(trace, settings).tolist() == [10.0] * 5  # ceil(7 / 0.7)
    assert perfect_foresight(trace, settings).tolist() == [1.0, 7.0, 3.0, 0.0, 2.0]


def test_scores_hand_worked() -> None:
    scores = score(np.array([0.0, 5.0, 10.0, 20.0]), np.array([1.0, 1.0, 1.0, 1.0]), unit=10.0, before=2.0)
    assert scores.cost == pytest.approx(4 / 4)  # oracle: 0 + 1 + 1 + 2
    assert scores.under_provisioned == pytest.approx(0.25)  # only 20 > 10
    assert scores.unserved == pytest.approx(10 / 35)
    assert scores.utilisation == pytest.approx((0 + 0.5 + 1 + 1) / 4)
    assert scores.actions == 1  # 2 before the window, 1 from its first step


def test_split_trace_takes_the_last_week_and_sizes_an_instance_from_the_history() -> None:
    index = pd.date_range("2024-01-01", periods=14 * 24, freq="1h", tz="UTC")
    values = np.linspace(-5, 100, index.size)
    trace = split_trace("s", pd.Series(values, index=index))
    assert trace.start == 7 * 24 and trace.window.size == 7 * 24
    assert trace.demand.min() == 0.0  # values below 0 count as 0
    assert trace.unit == pytest.approx(np.percentile(np.maximum(values[: 7 * 24], 0), 99) / 10)


def test_split_trace_refuses_less_than_two_weeks() -> None:
    index = pd.date_range("2024-01-01", periods=10 * 24, freq="1h", tz="UTC")
    with pytest.raises(TraceError, match="7 days of history"):
        split_trace("short", pd.Series(np.ones(index.size), index=index))
