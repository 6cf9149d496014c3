"""Incident merging of anomalous points, hand-checked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from services.forecasting.anomalies import Z95, find_incidents


def frame(actuals: list[float]) -> pd.DataFrame:
    index = pd.date_range("2026-11-01", periods=len(actuals), freq="h", tz="UTC")
    return pd.DataFrame({"actual": actuals, "mean": 10.0, "lo95": 8.0, "hi95": 12.0}, index=index)


def test_nearby_points_merge_into_one_incident_and_far_ones_do_not() -> None:
    #            0     1     2     3     4     5     6     7     8     9     10   11
    actuals = [10.0, 11.0, 13.0, 15.0, 10.0, 12.5, 10.0, 10.0, 10.0, 10.0, 5.0, 10.0]
    incidents = find_incidents(frame(actuals), step_seconds=3600, merge_gap_steps=3)
    assert len(incidents) == 2
    first, second = incidents
    hour = pd.Timestamp("2026-11-01", tz="UTC")
    sigma = 4.0 / (2 * Z95)
    # 2, 3 and 5 are outside [8, 12]; 4 is inside but only one step separates them: one incident, peak at 3
    assert (first.started_at, first.ended_at, first.peak_at) == (hour + pd.Timedelta(hours=2),
                                                                hour + pd.Timedelta(hours=5),
                                                                hour + pd.Timedelta(hours=3))
    assert (first.points, first.actual, first.expected, first.lower, first.upper) == (3, 15.0, 10.0, 8.0, 12.0)
    assert first.score == pytest.approx(5.0 / sigma) and first.score == pytest.approx(4.8999, abs=1e-3)
    assert not first.open  # 6 quiet steps after it
    # 10 is five steps after 5: a new incident, below the band, still open (the last step is within the gap)
    assert (second.started_at, second.points, second.actual) == (hour + pd.Timedelta(hours=10), 1, 5.0)
    assert second.open


def test_merge_gap_zero_splits_and_no_anomaly_gives_nothing() -> None:
    actuals = [13.0, 10.0, 13.0]
    assert len(find_incidents(frame(actuals), step_seconds=3600, merge_gap_steps=0)) == 2
    assert len(find_incidents(frame(actuals), step_seconds=3600, merge_gap_steps=1)) == 1
    assert find_incidents(frame([10.0, 9.0, 11.9]), step_seconds=3600, merge_gap_steps=3) == []
    with_missing = frame([np.nan, 13.0])
    assert [i.points for i in find_incidents(with_missing, step_seconds=3600, merge_gap_steps=3)] == [1]
