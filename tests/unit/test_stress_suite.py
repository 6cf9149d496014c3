"""The adversarial suite (ml_engine.stress): every generated case stays in its domain and does not blow up; and the
guard's parts on their own: domain inference, the persisted level-shift rule, the robust loss, a member that
blows up only at the final fit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml_engine import Domain, Ensemble, WithFallback, domain_for
from ml_engine import ensemble as ensemble_module
from ml_engine.guard import level_shift
from ml_engine.naive import SeasonalNaive
from ml_engine.serving import serving_order
from ml_engine.stress import CASES, judge
from ml_engine.weights import inverse_error_weights, robust_losses

FAST_MEMBERS = ["seasonal_naive", "theta", "auto_ets"]  # the guard does not depend on which members there are


@pytest.mark.parametrize("name", sorted(CASES))
def test_generated_case_stays_in_its_domain_without_blow_up(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    case = CASES[name]()
    model = WithFallback(Ensemble(case.season_length, members=FAST_MEMBERS), bounded=True)
    forecast = model.fit(case.history).predict(len(case.actual), (80, 95))
    verdict = judge(case, forecast)
    with capsys.disabled():  # shown in every run of `make test`: which guard acted on which case
        acted = ", ".join(verdict.acted) or "none"
        print(f"\n  {name}: acted: {acted}; MASE / seasonal naive {verdict.mase_ratio:.2f}")
    assert verdict.passed, verdict.problems


def test_domain_from_name_unit_capacity_and_history() -> None:
    assert domain_for(np.array([3.0, 40.0]), name="ec2_cpu_utilization_x") == Domain(0.0, 100.0)
    assert domain_for(np.array([3.0, 40.0]), unit="percent") == Domain(0.0, 100.0)
    assert domain_for(np.array([3.0, 400.0]), name="cpu_utilization") == Domain(0.0, None)  # 400%: many cores
    assert domain_for(np.array([0.0, 7.0]), name="requests") == Domain(0.0, None)
    assert domain_for(np.array([-1.0, 7.0]), name="balance") == Domain(None, None)
    assert domain_for(np.array([1.0, 3.5]), capacity=4.0) == Domain(0.0, 4.0)
    with pytest.raises(ValueError, match="above its upper bound"):
        Domain(5.0, 1.0)


def test_level_shift_needs_a_persisted_shift_never_a_spike_in_the_last_minutes() -> None:
    rng = np.random.default_rng(0)
    history = 20 + rng.normal(0, 0.5, 12 * 24 * 3)  # three days at 5 minutes, flat
    spike = history.copy()
    spike[-3:] = 95.0  # the last 15 minutes
    assert level_shift(spike, np.full(12, 20.0), per_hour=12) is None
    shifted = history.copy()
    shifted[-4:] = 80 + rng.normal(0, 0.5, 4)  # the last 20 minutes, every point of them
    correction = level_shift(shifted, np.full(12, 20.0), per_hour=12)
    partly = shifted.copy()
    partly[-2] = 20.0  # one point of them back at the old level: a spike, not a shift
    assert level_shift(partly, np.full(12, 20.0), per_hour=12) is None
    assert correction == pytest.approx(60.0, abs=1.0)


def test_one_spike_in_one_window_does_not_decide_the_weights() -> None:
    rng = np.random.default_rng(1)
    steady = rng.normal(0, 1.0, (5, 48))
    chaser = rng.normal(0, 0.8, (5, 48))  # better everywhere ...
    chaser[2, 10:14] = 300.0  # ... except that it copied one spike into one window
    loss = robust_losses({"steady": steady, "chaser": chaser})
    assert loss["chaser"] < loss["steady"]  # with a plain MAE the spike alone would make it the worst
    assert np.mean(np.abs(chaser)) > np.mean(np.abs(steady))
    weights = inverse_error_weights(loss)
    assert weights["chaser"] > weights["steady"]


def test_the_ensemble_is_served_unless_a_member_clearly_beats_it_on_the_backtest() -> None:
    weights = {"a": 0.6, "b": 0.4, "seasonal_naive": 0.0}
    order, why = serving_order({"a": 1.0, "b": 1.2, "seasonal_naive": 2.0}, 0.9, weights)
    assert order == ["ensemble", "a", "b", "seasonal_naive"] and "at least as good" in why
    order, why = serving_order({"a": 1.0, "b": 1.2, "seasonal_naive": 2.0}, 1.02, weights)
    assert order[0] == "ensemble"  # a hair better on the backtest the weights were fitted on: noise
    order, why = serving_order({"a": 1.0, "b": 1.2, "seasonal_naive": 2.0}, 1.2, weights)
    assert order == ["a", "ensemble", "b", "seasonal_naive"] and "beats" in why


class Treacherous(SeasonalNaive):
    """Seasonal naive in every backtest window; at the final fit (the full history) it forecasts a 10x level."""

    name = "treacherous"
    full_length = 0

    def predict(self, horizon: int, levels=(80, 95)):  # noqa: ANN001, ANN201 - as the parent's
        forecast = super().predict(horizon, levels)
        if len(self._residuals) + self.lag == Treacherous.full_length:
            forecast.mean = forecast.mean * 10.0 + 50.0
        return forecast


def test_a_member_that_blows_up_at_the_final_fit_is_replaced(monkeypatch: pytest.MonkeyPatch) -> None:
    case = CASES["spike_at_origin"]()
    hourly_history = case.history
    monkeypatch.setitem(ensemble_module.MEMBERS, "treacherous", lambda m: Treacherous(season_length=m))
    Treacherous.full_length = len(hourly_history)
    forecast = Ensemble(24, members=["treacherous"]).fit(hourly_history).predict(24, (80, 95))
    guard = forecast.params["guard"]
    assert guard["served"] != "treacherous"  # left out of the combination, and never served alone
    assert any(reason.startswith(("range", "level")) for reason in guard["left_out"]["treacherous"])
    assert forecast.params["members"]["treacherous"] == 0.0 and forecast.params["state"]["weights"]["treacherous"] > 0
    assert forecast.mean.max() < 100.0 and judge(case, forecast).passed
    assert isinstance(forecast.mean, pd.Series)


def test_backtest_windows_cover_the_whole_horizon_when_the_history_allows() -> None:
    from ml_engine.ensemble import backtest_windows

    assert backtest_windows(100_000, 288, 5) == (288, 288)  # long history: 5 windows side by side
    span, stride = backtest_windows(840, 288, 5)  # 5 days of 5-minute data before the origin: windows overlap
    assert span == 288 and span / 4 <= stride < span and span + 4 * stride <= 840
    assert backtest_windows(22, 24, 5)[0] < 24  # too short for one whole horizon: the longest span that fits
    assert backtest_windows(0, 24, 5) == (0, 0)


def test_the_ensemble_is_bounded_and_a_baseline_only_when_asked() -> None:
    from ml_engine import make_forecaster

    case = CASES["zero_inflated"]()
    naive = make_forecaster("seasonal_naive", 24).fit(case.history).predict(24, (80, 95))
    assert naive.lower[95].min() < 0.0 and "domain" not in naive.params  # scored as it is, as a baseline
    bounded = make_forecaster("seasonal_naive", 24, domain=Domain(0.0, None)).fit(case.history).predict(24)
    assert bounded.lower[95].min() >= 0.0 and bounded.params["domain"] == {"lower": 0.0, "upper": None}


def test_a_band_reaches_a_bound_the_history_sits_on_more_often_than_its_tail_share() -> None:
    lower = {80: np.full(3, 2.0), 95: np.full(3, 1.0)}
    upper = {80: np.full(3, 60.0), 95: np.full(3, 90.0)}
    recent = np.r_[np.zeros(15), np.full(80, 30.0), np.full(5, 100.0)]  # 15% on 0, 5% on 100
    moved = Domain(0.0, 100.0).hold_bound_mass(recent, lower, upper)
    assert moved == {"lower": [80, 95], "upper": [95]}  # 15% > 10% and > 2.5%; 5% > 2.5% only
    assert lower[80].tolist() == [0.0] * 3 and lower[95].tolist() == [0.0] * 3
    assert upper[80].tolist() == [60.0] * 3 and upper[95].tolist() == [100.0] * 3
    few = {80: np.full(3, 2.0)}
    assert Domain(0.0, None).hold_bound_mass(np.r_[np.zeros(5), np.ones(95)], few, {80: np.full(3, 9.0)}) == {}
    assert few[80].tolist() == [2.0] * 3  # 5% on the bound: inside the 80% band's 10% tail, the edge stays


def test_a_mostly_zero_series_gets_bands_that_hold_its_zeros() -> None:
    case = CASES["zero_inflated"]()  # 85% zeros
    model = Ensemble(case.season_length, members=FAST_MEMBERS)
    forecast = model.fit(case.history).predict(len(case.actual), (80, 95))
    on_bounds = forecast.params["guard"]["on_bounds"]
    assert on_bounds["lower"] == [80, 95]
    assert len(on_bounds["mean"]) >= 20 and (forecast.mean == 0.0).mean() >= 20 / 24  # zero most hours: the median
    assert (forecast.lower[80] == 0.0).all() and (forecast.lower[95] == 0.0).all()
    inside = (case.actual >= forecast.lower[80].to_numpy()) & (case.actual <= forecast.upper[80].to_numpy())
    assert inside.mean() >= 0.8


def test_the_point_forecast_sits_on_a_bound_only_at_the_hours_the_history_mostly_sat_on_it() -> None:
    per_hour, days = 12, 7
    hour = (np.arange(days * 24 * per_hour) // per_hour) % 24
    rng = np.random.default_rng(3)
    night = (hour < 6) & (rng.random(hour.size) < 0.8)  # 80% zeros from midnight to 6, none in the day
    recent = np.where(night, 0.0, 50.0 + rng.random(hour.size))
    mean = np.full(24 * per_hour, 40.0)
    hours = Domain(0.0, None).median_on_bound(recent, mean, per_hour, start=0)
    assert hours == [0, 1, 2, 3, 4, 5]
    assert (mean[: 6 * per_hour] == 0.0).all() and (mean[6 * per_hour :] == 40.0).all()
