"""regularize_hourly: complete hourly grid, short gaps interpolated, long gaps filled seasonally, all reported."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml_engine import regularize_hourly


def hourly(values: list[float] | np.ndarray, start: str = "2024-01-01") -> pd.Series:
    return pd.Series(values, index=pd.date_range(start, periods=len(values), freq="h", tz="UTC"), dtype=float)


def test_clean_series_is_unchanged() -> None:
    y = hourly(np.arange(48.0))
    out, report = regularize_hourly(y)
    pd.testing.assert_series_equal(out, y, check_freq=False)
    assert out.index.freqstr == "h"
    assert (report.interpolated, report.seasonal_filled, report.long_gaps) == (0, 0, [])


def test_short_gap_is_interpolated_linearly() -> None:
    y = hourly(np.arange(48.0)).drop(pd.Timestamp("2024-01-01 10:00", tz="UTC"))
    out, report = regularize_hourly(y, max_gap_hours=3)
    assert len(out) == 48 and out.iloc[10] == 10.0
    assert report.interpolated == 1 and report.long_gaps == []


def test_long_gap_takes_the_same_hour_a_season_earlier() -> None:
    day = np.sin(np.arange(24) / 24 * 2 * np.pi) * 10 + 50
    y = hourly(np.tile(day, 3))
    holed = y.drop(y.index[30:40])
    out, report = regularize_hourly(holed, max_gap_hours=3, season_length=24)
    np.testing.assert_allclose(out.to_numpy(), y.to_numpy())
    assert report.seasonal_filled == 10
    assert [(g.hours, g.start) for g in report.long_gaps] == [(10, y.index[30].isoformat())]


def test_sub_hour_samples_are_averaged_and_naive_timestamps_read_as_utc() -> None:
    index = pd.date_range("2024-01-01 00:00", periods=24, freq="5min")  # naive, two hours of 5-minute samples
    out, report = regularize_hourly(pd.Series(np.r_[np.full(12, 1.0), np.full(12, 3.0)], index=index))
    assert list(out) == [1.0, 3.0]
    assert str(out.index.tz) == "UTC"
    assert report.merged_within_hour == 22


def test_leading_and_non_finite_values_are_dropped() -> None:
    y = hourly([np.nan, np.nan, 1.0, np.inf, 3.0, 4.0])
    out, report = regularize_hourly(y)
    assert list(out) == [1.0, 2.0, 3.0, 4.0]
    assert out.index[0] == y.index[2]
    assert report.leading_dropped == 2 and report.non_finite_dropped == 3 and report.interpolated == 1


def test_nothing_finite_gives_an_empty_series() -> None:
    out, report = regularize_hourly(hourly([np.nan, np.inf]))
    assert out.empty and report.output_points == 0
