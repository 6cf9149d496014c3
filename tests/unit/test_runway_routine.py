"""Routine daily peaks against growth, on generated hourly series: a nightly job that crosses the threshold every
night without growing is not running out; a peak or a level that grows toward the threshold is, and ranks first."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from ml_engine.base import Forecast
from services.db.models import RecommendationRow
from services.recommend.base import Recommendation
from services.recommend.routine import hours_text, routine_profile
from services.recommend.runway import RunwaySettings, capacity_runway
from services.recommend.runway_severity import runway_severity
from services.recommend.store import runway_view

NOW = pd.Timestamp("2026-03-02 12:00", tz="UTC")
HISTORY_DAYS = 35
HORIZON_DAYS = 7
BAND_Z = 1.2816  # upper edge of the 80% band


# A generator maps (days from NOW, UTC hour of day) to the expected level; noise is added to the history only.
Shape = Callable[[np.ndarray, np.ndarray], np.ndarray]


def nightly_job(peak: float, per_day: float = 0.0) -> Shape:
    """A batch job from 01:00 to 04:00 UTC at `peak` (rising `per_day`), idle at 5% the rest of the day."""
    return lambda d, h: np.where((h >= 1) & (h < 4), peak + per_day * d, 5.0)


def business_day(peak_now: float, per_day: float) -> Shape:
    """A daily cycle, low at 04:00 and peaking at 16:00 UTC, whose peak is `peak_now` now and grows `per_day`."""
    return lambda d, h: (peak_now + per_day * d) * (0.6 + 0.4 * (0.5 - 0.5 * np.cos(2 * np.pi * (h - 4) / 24)) ** 1.5)


def leak(level_now: float, per_day: float) -> Shape:
    """Memory that leaks: a level rising `per_day` with a small daily ripple."""
    return lambda d, h: level_now + per_day * d + 1.5 * np.sin(2 * np.pi * h / 24)


def series(shape: Shape, noise: float, seed: int) -> tuple[pd.Series, Forecast]:
    """Hourly history up to NOW (with noise) and a forecast of the next week: the expected path and its 80% band."""
    past = pd.date_range(end=NOW, periods=HISTORY_DAYS * 24 + 1, freq="h")
    ahead = pd.date_range(start=NOW + pd.Timedelta(hours=1), periods=HORIZON_DAYS * 24, freq="h")

    def level(index: pd.DatetimeIndex) -> np.ndarray:
        return shape(((index - NOW) / pd.Timedelta(days=1)).to_numpy(), index.hour.to_numpy())

    rng = np.random.default_rng(seed)
    history = pd.Series(np.clip(level(past) + noise * rng.standard_normal(len(past)), 0.0, 100.0), index=past)
    mean = pd.Series(level(ahead), index=ahead)
    band = BAND_Z * max(noise, 1.0) * 2.0  # a model's band is wider than the noise alone
    return history, Forecast(model="test", mean=mean, lower={80: mean - band}, upper={80: mean + band})


def runway(shape: Shape, metric: str = "cpu_utilization", noise: float = 2.0, seed: int = 1) -> Recommendation:
    history, forecast = series(shape, noise, seed)
    rec = capacity_runway(resource_id="vm", metric=metric, history=history, forecast=forecast, now=NOW)
    assert isinstance(rec, Recommendation)
    return rec


def severity_of(rec: Recommendation) -> tuple[str, str, int]:
    """The severity of the runway as stored and read back the way the API reads it (store.runway_view)."""
    row = RecommendationRow(id=1, resource_key="gcp:vm", title=rec.title, proposed=rec.proposed, current=rec.current)
    sev = runway_severity(runway_view(row))
    return sev.level, sev.reason, sev.rank


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_nightly_job_over_the_threshold_every_night_is_routine_not_running_out(seed: int) -> None:
    rec = runway(nightly_job(peak=88.0), seed=seed)
    assert rec.proposed["p50_days"] is None and rec.proposed["p90_days"] is None
    assert rec.proposed["routine_hours"] == [1, 2, 3]
    level, reason, _ = severity_of(rec)
    assert level == "ok" and "01:00-04:00 UTC" in reason
    assert any("recurring peak" in r for r in rec.evidence.reasons)


@pytest.mark.parametrize("peak", [76.7, 80.0])  # below it, its band crossing; on it
def test_a_nightly_job_that_touches_the_threshold_is_routine_too(peak: float) -> None:
    rec = runway(nightly_job(peak=peak))
    assert severity_of(rec)[0] == "ok" and rec.proposed["p90_days"] is None and rec.proposed["routine_hours"]


def test_the_latest_sample_at_a_routine_peak_is_not_already_over() -> None:
    history, forecast = series(nightly_job(peak=88.0), 2.0, 4)
    at_night = NOW.normalize() + pd.Timedelta(hours=2)  # the job is running at the latest sample
    rec = capacity_runway(
        resource_id="vm", metric="cpu_utilization", history=history[history.index <= at_night],
        forecast=Forecast(model="test", mean=forecast.mean, upper=forecast.upper), now=at_night,
    )  # fmt: skip
    assert isinstance(rec, Recommendation) and rec.current["value"] > 80.0
    assert rec.proposed["p50_days"] is None and severity_of(rec)[0] == "ok"


def test_a_nightly_job_whose_peak_grows_is_running_out() -> None:
    rec = runway(nightly_job(peak=78.0, per_day=0.8))
    level, _, _ = severity_of(rec)
    # 78 + 0.8 d >= 80 from d = 2.5; the job's next start after that is 01:00 UTC on the third night, d = 2.54
    assert rec.proposed["p50_days"] == pytest.approx(2.54, abs=0.05) and level == "critical"


def test_a_growing_daily_peak_ranks_above_a_routine_one() -> None:
    growing = runway(business_day(peak_now=79.0, per_day=58 / 56))  # the demo's saturating machine
    routine = runway(nightly_job(peak=88.0))
    g, r = severity_of(growing), severity_of(routine)
    assert g[0] == "critical" and growing.proposed["p50_days"] < 2.0
    assert g[2] < r[2], (g, r)


def test_a_leak_toward_the_limit_is_found_by_its_sustained_level() -> None:
    rec = runway(leak(level_now=84.0, per_day=1.0), metric="memory_utilization", noise=0.5)
    # the ripple's crest (+1.5 at 06:00 UTC) reaches 90 when 84 + d + 1.5 = 90: d = 4.5, met near 06:00, d ~ 4.7
    assert rec.proposed["p50_days"] == pytest.approx(4.6, abs=0.2) and severity_of(rec)[0] == "critical"


def test_a_level_held_over_the_threshold_all_day_is_already_over() -> None:
    rec = runway(leak(level_now=95.0, per_day=0.0), metric="memory_utilization", noise=0.5)
    assert rec.proposed["p50_days"] == 0.0 and severity_of(rec)[0] == "over"


def test_a_short_history_cannot_show_a_peak_is_routine() -> None:
    history, forecast = series(nightly_job(peak=88.0), 2.0, 1)
    short = capacity_runway(
        resource_id="vm", metric="cpu_utilization", history=history[history.index > NOW - pd.Timedelta(days=5)],
        forecast=forecast, now=NOW, settings=RunwaySettings(routine_min_days=8),
    )  # fmt: skip
    assert isinstance(short, Recommendation) and short.proposed["p50_days"] is not None
    assert short.proposed["routine_hours"] == []


def test_the_profile_keeps_the_lower_half_so_recent_growth_is_not_routine() -> None:
    history, _ = series(business_day(peak_now=90.0, per_day=1.0), 1.0, 1)
    profile = routine_profile(history, NOW, lookback_days=28, min_days=8)
    assert profile is not None and profile.days >= 28
    # at the 16:00 peak the older half's median (~21 days ago: ~69) is kept, not the recent one's (~83)
    assert profile.level[16] == pytest.approx(90.0 - 21.0, abs=2.0)
    assert profile.grown(np.asarray([16]), np.asarray([80.0]))[0]
    assert hours_text([1, 2, 3, 7]) == "01:00-04:00, 07:00-08:00"
