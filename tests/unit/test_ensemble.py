"""The ensemble on short real series: weights from the backtest, conformal intervals, warm start, 5-minute and
daily input; the conformal calibration on its own."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml_engine import Ensemble, make_forecaster
from ml_engine.conformal import ConformalBands, calibrate
from ml_engine.ensemble import MEMBERS, inverse_error_weights
from ml_engine.resolution import hourly_means

FIXTURES = Path(__file__).parents[1] / "fixtures" / "nab"
CPU_FILE = FIXTURES / "realAWSCloudwatch" / "ec2_cpu_utilization_5f5533.csv"
DAILY_FILE = FIXTURES / "realKnownCause" / "nyc_taxi_daily.csv"
HORIZON = 24


def read(path: Path) -> pd.Series:
    raw = pd.read_csv(path, parse_dates=["timestamp"]).set_index("timestamp")["value"]
    raw.index = raw.index.tz_localize("UTC")
    return raw


@pytest.fixture(scope="module")
def five_minute() -> pd.Series:
    """Four days of EC2 CPU utilisation at its own 5-minute step (NAB), regular and gap-free."""
    raw = read(CPU_FILE)
    grid = pd.date_range(raw.index[0].floor("5min"), periods=4 * 288, freq="5min")
    return raw.groupby(raw.index.floor("5min")).mean().reindex(grid).interpolate(limit_direction="both")


@pytest.fixture(scope="module")
def hourly(five_minute: pd.Series) -> pd.Series:
    raw = read(CPU_FILE)
    y = raw.resample("h").mean().interpolate()
    return y.iloc[-10 * 24 :]


@pytest.fixture(scope="module")
def hourly_forecast(hourly: pd.Series):  # noqa: ANN201 - a Forecast
    return Ensemble(24).fit(hourly).predict(HORIZON, (80, 95))


def test_weights_come_from_the_backtest(hourly_forecast) -> None:  # noqa: ANN001
    params = hourly_forecast.params
    weights = params["members"]
    assert set(weights) >= {"seasonal_naive", "auto_ets", "auto_arima", "mstl", "theta", "prophet"}
    assert sum(weights.values()) == pytest.approx(1.0, abs=1e-3)
    loss = {k: v for k, v in params["backtest"]["loss"].items() if k != "ensemble"}  # robust: capped errors
    best = min(loss, key=loss.get)
    assert weights[best] == max(weights.values())  # the member with the lowest backtest loss weighs most
    for name, error in loss.items():  # a member far worse than the best gets nothing
        if error > 1.5 * loss[best]:
            assert weights[name] == 0.0
    assert params["guard"]["served"] in {"ensemble", *weights}
    coverage = params["backtest"]["coverage"]  # leave-one-origin-out coverage, scored beside MASE by training
    assert set(coverage) == {"80", "95"} and 0.0 <= coverage["80"] <= coverage["95"] <= 1.0
    assert params["backtest"]["origins"] == 5 and params["intervals"]["method"] == "conformal"
    json.dumps(params)  # stored as JSON by training


def test_intervals_are_ordered_and_cover_the_holdout(hourly: pd.Series) -> None:
    train, test = hourly.iloc[:-HORIZON], hourly.iloc[-HORIZON:].to_numpy()
    forecast = make_forecaster("ensemble", 24).fit(train).predict(HORIZON, (80, 95))
    frame = forecast.to_frame()
    assert (frame["lo95"] <= frame["lo80"]).all() and (frame["lo80"] <= frame["mean"]).all()
    assert (frame["mean"] <= frame["hi80"]).all() and (frame["hi80"] <= frame["hi95"]).all()
    inside = np.mean((test >= frame["lo95"].to_numpy()) & (test <= frame["hi95"].to_numpy()))
    assert inside >= 0.8


def test_warm_start_reuses_weights_intervals_and_orders(hourly: pd.Series, hourly_forecast) -> None:  # noqa: ANN001
    state = json.loads(json.dumps(hourly_forecast.params["state"]))  # as stored and read back
    tomorrow = hourly.iloc[24:]  # same length, one day later (no new data needed to test the contract)
    warm = Ensemble(24).warm_start(state).fit(tomorrow).predict(HORIZON, (80, 95))
    assert warm.params["warm"] is True
    assert warm.params["members"] == pytest.approx(hourly_forecast.params["members"], abs=1e-3)
    assert warm.params["intervals"]["edges"] == hourly_forecast.params["intervals"]["edges"]
    if "auto_arima" in state["members"]:
        assert warm.params["state"]["members"]["auto_arima"]["order"] == state["members"]["auto_arima"]["order"]
    assert warm.mean.index[0] == tomorrow.index[-1] + pd.Timedelta(hours=1)


def test_a_state_it_cannot_use_is_ignored(hourly: pd.Series) -> None:
    cold = Ensemble(24).warm_start({"model": "auto_ets", "ets": "AAAn"}).fit(hourly.iloc[:-24]).predict(12)
    assert cold.params["warm"] is False
    stale = dict(cold.params["state"], backtested_at="2000-01-01T00:00:00+00:00")
    assert Ensemble(24).warm_start(stale).fit(hourly.iloc[:-24]).predict(12).params["warm"] is False
    assert Ensemble(24).warm_start(None).fit(hourly.iloc[:-24]).predict(12).params["warm"] is False


def test_five_minute_input_is_modelled_hourly_and_read_back_at_five_minutes(five_minute: pd.Series) -> None:
    forecast = Ensemble(288, members=["seasonal_naive", "auto_ets", "mstl"]).fit(five_minute).predict(288)
    assert forecast.params["resolution"] == "hourly"
    assert len(forecast.mean) == 288 and forecast.mean.index.freq == pd.Timedelta(minutes=5)
    assert forecast.mean.index[0] == five_minute.index[-1] + pd.Timedelta(minutes=5)
    assert np.isfinite(forecast.to_frame().to_numpy()).all()


def test_daily_series_with_a_year_ahead(hourly: pd.Series) -> None:
    daily = read(DAILY_FILE).asfreq("D")
    forecast = Ensemble(7).fit(daily).predict(365, (80, 95))
    assert len(forecast.mean) == 365 and forecast.params["resolution"] == "native"
    assert forecast.params["backtest"]["horizon"] < 365  # 215 days: the backtest is as long as the data allows
    assert np.isfinite(forecast.to_frame().to_numpy()).all()
    width = (forecast.upper[95] - forecast.lower[95]).to_numpy()
    assert width[-1] > width[0]  # beyond the backtested horizon the band keeps widening
    for reason in forecast.params["dropped"].values():
        assert reason  # a member that could not take part says why


def test_hourly_means_are_aligned_to_the_end(five_minute: pd.Series) -> None:
    cut = five_minute.iloc[:-5]  # ends 5 steps into an hour
    means = hourly_means(cut, 12)
    assert means.iloc[-1] == pytest.approx(cut.iloc[-12:].mean())
    assert len(means) == len(cut) // 12


def test_inverse_error_weights() -> None:
    weights = inverse_error_weights({"a": 1.0, "b": 1.2, "c": 2.0, "d": float("nan")})
    assert weights["c"] == 0.0 and weights["d"] == 0.0
    assert weights["a"] / weights["b"] == pytest.approx(1.44)
    assert inverse_error_weights({"a": 0.0, "b": 1.0}) == {"a": 1.0, "b": 0.0}


def test_conformal_bands_hold_their_level_on_exchangeable_residuals() -> None:
    rng = np.random.default_rng(0)
    bands = calibrate(rng.normal(0, 1, (60, 96)), (80, 95), adaptive=False)
    assert bands.edges[0] == 0 and bands.edges[-1] == 96
    fresh = rng.normal(0, 1, (200, 96))
    lower, upper = bands.bands(np.zeros(96), (80, 95))
    inside = {lvl: np.mean((fresh >= lower[lvl]) & (fresh <= upper[lvl])) for lvl in (80, 95)}
    # each level calibrated on its own pooled quantiles: close to nominal, neither band a widened copy of the other
    assert 0.76 <= inside[80] <= 0.85 and 0.92 <= inside[95] <= 0.98
    again = ConformalBands.from_state(json.loads(json.dumps(bands.to_state())))
    assert again.quantiles == bands.quantiles
    lo, hi = bands.bands(np.zeros(200), (95,))
    assert hi[95][-1] > hi[95][95]  # past the calibrated horizon the band widens like a random walk


def test_adaptive_conformal_widens_when_one_origin_is_unlike_the_others() -> None:
    rng = np.random.default_rng(2)
    alike = rng.normal(0, 1, (5, 96))
    drifted = alike.copy()
    drifted[-1] += 1.5  # the last backtest window missed by a level the others never did
    calm, wary = calibrate(alike, (80, 95)), calibrate(drifted, (80, 95))
    assert wary.nominal[80] > calm.nominal[80] and wary.nominal[95] >= calm.nominal[95]
    assert 75.0 <= calm.nominal[80] <= 86.0  # exchangeable windows: close to the level asked for
    assert not calm.center and not calm.offset(96).any()  # errors centred on 0: the point forecast stays


def test_the_point_forecast_moves_to_the_median_when_the_errors_are_skewed() -> None:
    # a forecaster of hourly means on a spiky series: 1 above the actual most of the time, 10 below it now and then
    rng = np.random.default_rng(3)
    residuals = np.where(rng.random((5, 96)) < 0.1, 10.0, -1.0) + rng.normal(0, 0.2, (5, 96))
    bands = calibrate(residuals, (80, 95))
    assert bands.center and all(c == pytest.approx(-1.0, abs=0.15) for c in bands.center)
    mean = np.full(96, 50.0)
    moved = mean + bands.offset(96)
    assert np.abs(residuals - bands.offset(96)).mean() < 0.8 * np.abs(residuals).mean()  # a lower absolute error
    lower, upper = bands.bands(moved, (80, 95))
    assert (lower[95] <= moved).all() and (moved <= upper[95]).all()
    assert upper[95].max() > 55.0  # the band edges stay where the residuals put them: the spikes are inside
    again = ConformalBands.from_state(json.loads(json.dumps(bands.to_state())))
    assert again.center == bands.center and again.offset(200)[-1] == bands.center[-1]  # past the horizon: the last


def test_global_nn_trains_once_saves_loads_and_joins_the_ensemble(hourly: pd.Series, tmp_path: Path) -> None:
    pytest.importorskip("tensorflow")
    from ml_engine.nn import GlobalNN

    series = [
        read(f).resample("h").mean().interpolate() for f in sorted((FIXTURES / "realAWSCloudwatch").glob("*.csv"))[:4]
    ]
    nn = GlobalNN(season_length=24, input_seasons=2, hidden=(8,), epochs=2).fit(series)
    assert nn.training["series"] == 4 and nn.training["windows"] > 100
    ahead = nn.forecast(hourly, 30)
    assert ahead.shape == (30,) and np.isfinite(ahead).all()
    again = GlobalNN(season_length=24, input_seasons=2, hidden=(8,), epochs=2).fit(series)
    np.testing.assert_allclose(again.forecast(hourly, 30), ahead, rtol=1e-5)  # seeded: the same network
    loaded = GlobalNN.load(nn.save(tmp_path / "nn"))
    np.testing.assert_allclose(loaded.forecast(hourly, 30), ahead, rtol=1e-6)
    forecast = Ensemble(24, global_nn=loaded, members=["seasonal_naive", "theta"]).fit(hourly).predict(HORIZON)
    assert "global_nn" in forecast.params["members"] and "global_nn" in forecast.params["backtest"]["mae"]


@pytest.mark.parametrize("name", ["auto_ets", "auto_arima", "mstl", "prophet"])
def test_members_warm_start_from_their_own_state(name: str, hourly: pd.Series) -> None:
    cold = MEMBERS[name](24).fit(hourly)
    state = json.loads(json.dumps(cold.fit_state()))  # stored as JSON between daily refits
    warm = MEMBERS[name](24).warm_start(state).fit(hourly)
    if name == "prophet":  # started from yesterday's optimum: lands on (almost) the same fit
        spread = float(hourly.max() - hourly.min())
        gap = np.abs(warm.predict(24, ()).mean.to_numpy() - cold.predict(24, ()).mean.to_numpy())
        assert gap.max() < 0.05 * spread
    else:  # the chosen model form is reused, not searched again
        assert warm.fit_state() == state


def test_global_nn_windows_stay_bounded_on_a_large_fleet() -> None:
    """However many series, at most 2 x MAX_WINDOWS windows are built (then MAX_WINDOWS kept), each series giving
    some; a small fleet keeps every window of every series."""
    pytest.importorskip("tensorflow")
    from ml_engine.nn import MAX_WINDOWS, GlobalNN

    index = pd.date_range("2026-11-01", periods=15 * 24, freq="h", tz="UTC")
    rng = np.random.default_rng(3)
    fleet = [pd.Series(50 + 10 * np.sin(np.arange(index.size) / 3.8) + rng.normal(0, 1, index.size), index=index)
             for _ in range(400)]
    network = GlobalNN(season_length=24)
    per_series = index.size - network.window - 24 + 1
    x, t = network.windows(fleet)
    assert len(x) == len(t) == MAX_WINDOWS and 400 * per_series > 2 * MAX_WINDOWS
    small_x, _ = network.windows(fleet[:3])
    assert len(small_x) == 3 * per_series  # nothing dropped below the cap


def test_a_member_that_runs_away_is_left_out_of_the_combination() -> None:
    from ml_engine.guard import envelope, runaways

    rng = np.random.default_rng(3)
    history = 20.0 + 5.0 * np.sin(np.arange(28 * 24) * 2 * np.pi / 24) + rng.normal(0, 1, 28 * 24)
    env = envelope(history, 24, 1)
    steady = np.tile(history[-24:], 7)
    runaway = steady * np.repeat(np.linspace(1.0, 8.0, 7), 24)  # a recursive forecast feeding on itself
    forecasts = {"seasonal_naive": steady, "theta": steady + 1.0, "global_nn": runaway}
    weights = {"seasonal_naive": 0.3, "theta": 0.3, "global_nn": 0.4}
    left_out = runaways(forecasts, weights, env)
    assert list(left_out) == ["global_nn"]
    assert [reason.split(":")[0] for reason in left_out["global_nn"]] == ["range", "level"]
    # a member without weight is not judged, and when every weighted member breaks a rule none is left out
    assert runaways(forecasts, {"global_nn": 1.0}, env) == {}
    assert runaways(forecasts, {"seasonal_naive": 1.0, "global_nn": 0.0}, env) == {}


def test_weekly_naive_repeats_the_last_week_once_two_are_there() -> None:
    from ml_engine.naive import WeeklyNaive

    index = pd.date_range("2024-01-01", periods=15 * 24, freq="h", tz="UTC")
    y = pd.Series(np.arange(index.size, dtype=float) % 168, index=index)  # a pattern that repeats weekly
    forecast = WeeklyNaive(season_length=24).fit(y).predict(168, (80,))
    assert forecast.mean.tolist() == y.iloc[-168:].tolist()
    short = WeeklyNaive(season_length=24).fit(y.iloc[-10 * 24 :]).predict(48, (80,))  # under two weeks: the last day
    assert short.mean.tolist() == y.iloc[-24:].tolist() * 2


def test_weekly_naive_is_a_candidate_for_forecasts_a_week_long_only(hourly: pd.Series) -> None:
    day = Ensemble(24).fit(hourly).predict(24, (80, 95))
    week = Ensemble(24).fit(hourly).predict(168, (80, 95))
    assert "weekly_naive" not in day.params["backtest"]["mae"] and "weekly_naive" not in day.params["members"]
    assert "weekly_naive" in week.params["backtest"]["mae"]


def test_weekly_naive_is_not_a_candidate_for_daily_series() -> None:
    daily = read(DAILY_FILE)
    forecast = Ensemble(7).fit(daily.iloc[-120:]).predict(60, (80, 95))  # 60 days ahead of a daily series
    assert "weekly_naive" not in forecast.params["backtest"]["mae"]
