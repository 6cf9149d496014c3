"""One contract suite run against every forecaster the factory builds, on a real AWS CloudWatch trace."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ml_engine import FORECASTERS, Forecaster, ForecastError, make_forecaster, mase, regularize_hourly
from ml_engine.base import Forecast

NAB_FILE = Path(__file__).parents[1] / "fixtures" / "nab" / "realAWSCloudwatch" / "ec2_cpu_utilization_5f5533.csv"
SEASON = 24
HORIZON = 48


@pytest.fixture(scope="module")
def cpu() -> pd.Series:
    """Two weeks of EC2 CPU utilisation (NAB realAWSCloudwatch), as hourly means."""
    raw = pd.read_csv(NAB_FILE, parse_dates=["timestamp"]).set_index("timestamp")["value"]
    hourly, _ = regularize_hourly(raw)
    return hourly


@pytest.fixture(params=sorted(FORECASTERS))
def forecaster(request: pytest.FixtureRequest) -> Forecaster:
    return make_forecaster(request.param, SEASON)


_FITTED: dict[str, Forecaster] = {}


@pytest.fixture
def fitted(forecaster: Forecaster, cpu: pd.Series) -> Forecaster:
    """The forecaster fitted on cpu, fitted once per model for the tests that only predict (AutoARIMA takes seconds)."""
    if forecaster.name not in _FITTED:
        _FITTED[forecaster.name] = forecaster.fit(cpu)
    return _FITTED[forecaster.name]


def assert_well_formed(forecast: Forecast, history: pd.Series, horizon: int, levels: tuple[int, ...]) -> None:
    """Length, index continuing the history at its step, NaN-free, levels as asked, bands nested around the mean."""
    step = history.index[1] - history.index[0]
    expected = pd.date_range(history.index[-1] + step, periods=horizon, freq=step)
    pd.testing.assert_index_equal(forecast.mean.index, expected, check_names=False)
    assert set(forecast.lower) == set(forecast.upper) == set(levels)
    frame = forecast.to_frame()
    assert np.isfinite(frame.to_numpy()).all()
    bounds = [frame[f"lo{lvl}"] for lvl in sorted(levels, reverse=True)]
    bounds += [frame["mean"]] + [frame[f"hi{lvl}"] for lvl in sorted(levels)]
    for narrower, wider in zip(bounds, bounds[1:], strict=False):
        assert (narrower <= wider).all()


def test_fit_returns_self(forecaster: Forecaster, cpu: pd.Series) -> None:
    assert forecaster.fit(cpu) is forecaster


def test_predict_continues_history_with_ordered_bands(fitted: Forecaster, cpu: pd.Series) -> None:
    forecast = fitted.predict(HORIZON, (80, 95))
    assert_well_formed(forecast, cpu, HORIZON, (80, 95))
    assert "fallback" not in forecast.params  # two weeks of real data needs no fallback
    assert forecast.mean.index.tz is not None
    # an honest 95% band is wider than an 80% one somewhere on real, noisy data
    assert (forecast.upper[95] - forecast.lower[95] > forecast.upper[80] - forecast.lower[80]).any()


@pytest.mark.parametrize("levels", [(50,), (60, 90, 99), ()])
def test_levels_respected(fitted: Forecaster, cpu: pd.Series, levels: tuple[int, ...]) -> None:
    forecast = fitted.predict(HORIZON, levels)
    assert_well_formed(forecast, cpu, HORIZON, levels)


def test_index_follows_history_step(forecaster: Forecaster, cpu: pd.Series) -> None:
    two_hourly = cpu.resample("2h").mean()
    forecast = forecaster.fit(two_hourly).predict(5)
    assert_well_formed(forecast, two_hourly, 5, (80, 95))


def test_new_is_unfitted_and_independent(fitted: Forecaster, cpu: pd.Series) -> None:
    before = fitted.predict(HORIZON).to_frame()
    fresh = fitted.new()
    assert fresh is not fitted
    assert type(fresh) is type(fitted) and fresh.season_length == fitted.season_length
    with pytest.raises(ForecastError):
        fresh.predict(HORIZON)
    fresh.fit(cpu.iloc[: len(cpu) // 2] * 3.0)
    pd.testing.assert_frame_equal(fitted.predict(HORIZON).to_frame(), before)


def test_constant_series(forecaster: Forecaster, cpu: pd.Series) -> None:
    flat = pd.Series(42.0, index=cpu.index)
    forecast = forecaster.fit(flat).predict(HORIZON)
    assert_well_formed(forecast, flat, HORIZON, (80, 95))
    assert np.allclose(forecast.mean, 42.0)


def test_too_short_series_falls_back_to_naive(forecaster: Forecaster, cpu: pd.Series) -> None:
    short = cpu.iloc[-(SEASON // 2) :]
    forecast = forecaster.fit(short).predict(HORIZON)
    assert_well_formed(forecast, short, HORIZON, (80, 95))
    assert forecast.model == "naive"
    assert forecast.params["fallback"]["from"] == forecaster.name
    assert "needs at least" in forecast.params["fallback"]["reason"]
    assert forecast.mean.iloc[0] == short.iloc[-1]


def test_history_with_nan_falls_back_and_predicts_no_nan(forecaster: Forecaster, cpu: pd.Series) -> None:
    holed = cpu.copy()
    holed.iloc[[5, 100, 101, len(cpu) - 30]] = np.nan
    forecast = forecaster.fit(holed).predict(HORIZON)
    assert_well_formed(forecast, holed, HORIZON, (80, 95))
    assert "NaN" in forecast.params["fallback"]["reason"]


def test_unfittable_input_is_refused_with_a_reason(forecaster: Forecaster, cpu: pd.Series) -> None:
    with pytest.raises(ForecastError, match="no finite value"):
        forecaster.fit(pd.Series(np.nan, index=cpu.index[:50]))
    with pytest.raises(ForecastError, match="irregular"):
        forecaster.fit(cpu.drop(cpu.index[10]))


def test_unknown_forecaster_name() -> None:
    with pytest.raises(ValueError, match="unknown forecaster"):
        make_forecaster("prophet_xl", SEASON)


def test_auto_ets_beats_a_flat_mean_on_a_daily_seasonal_series() -> None:
    rng = np.random.default_rng(3)
    hours = np.arange(21 * SEASON)
    index = pd.date_range("2024-05-01", periods=hours.size, freq="h", tz="UTC")
    y = pd.Series(40 + 15 * np.sin(2 * np.pi * hours / SEASON) + rng.normal(0, 2, hours.size), index=index)
    train, test = y.iloc[:-168], y.iloc[-168:].to_numpy()
    forecast = make_forecaster("auto_ets", SEASON).fit(train).predict(168)
    assert forecast.model == "auto_ets" and "fallback" not in forecast.params
    ets_mase = mase(test, forecast.mean.to_numpy(), train.to_numpy(), SEASON)
    flat_mase = mase(test, np.full(test.size, train.mean()), train.to_numpy(), SEASON)
    assert ets_mase is not None and flat_mase is not None
    assert ets_mase < 0.5 * flat_mase
    inside95 = np.mean((test >= forecast.lower[95].to_numpy()) & (test <= forecast.upper[95].to_numpy()))
    assert inside95 > 0.8
