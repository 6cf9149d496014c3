"""regularize_hourly: put a dirty hourly series on a complete hourly grid and report every change made."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

HOUR = pd.Timedelta(hours=1)


@dataclass(frozen=True)
class Gap:
    """A gap longer than max_gap_hours, filled seasonally: its first and last missing hour (inclusive)."""

    start: str
    end: str
    hours: int


@dataclass(frozen=True)
class RegularizeReport:
    """What regularize_hourly did; as_dict() is JSON-safe for a model's params."""

    input_points: int
    output_points: int
    non_finite_dropped: int = 0
    merged_within_hour: int = 0
    leading_dropped: int = 0
    interpolated: int = 0
    seasonal_filled: int = 0
    long_gaps: list[Gap] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def regularize_hourly(
    series: pd.Series, *, max_gap_hours: int = 3, season_length: int = 24
) -> tuple[pd.Series, RegularizeReport]:
    """The series on a complete hourly UTC grid from its first to its last finite value, and a report.

    Timestamps are floored to the hour and values sharing an hour averaged; NaN and infinity count
    as missing. Gaps of up to max_gap_hours are interpolated linearly; longer gaps take the value of
    the same hour one season earlier (linear where there is none), so a collection outage costs
    neither the history before it nor a model that cannot take NaNs.
    """
    if not isinstance(series.index, pd.DatetimeIndex):
        raise TypeError("regularize_hourly needs a Series on a DatetimeIndex")
    index = series.index.tz_localize("UTC") if series.index.tz is None else series.index.tz_convert("UTC")
    values = pd.Series(series.to_numpy(dtype=np.float64), index=index)
    finite = values[np.isfinite(values.to_numpy())]
    hours = finite.index.floor("h")
    hourly = finite.groupby(hours).mean()
    non_finite = len(values) - len(finite)
    merged = len(finite) - len(hourly)
    if hourly.empty:
        empty = pd.Series([], index=pd.DatetimeIndex([], tz="UTC", freq="h"), dtype=np.float64, name=series.name)
        report = RegularizeReport(len(series), 0, non_finite, merged, leading_dropped=non_finite)
        return empty, report

    grid = pd.date_range(hourly.index[0], hourly.index[-1], freq="h")
    out = hourly.reindex(grid)
    gaps, interpolated, seasonal = _fill_gaps(out, max_gap_hours, season_length)
    out.name = series.name
    leading = int((values.index.floor("h") < grid[0]).sum())  # non-finite points before the first finite one
    report = RegularizeReport(
        input_points=len(series),
        output_points=len(out),
        non_finite_dropped=non_finite,
        merged_within_hour=merged,
        leading_dropped=leading,
        interpolated=interpolated,
        seasonal_filled=seasonal,
        long_gaps=gaps,
    )
    return out, report


def _fill_gaps(y: pd.Series, max_gap_hours: int, season_length: int) -> tuple[list[Gap], int, int]:
    """Fill NaN runs of y in place (it starts and ends with values); returns the long gaps and the counts filled."""
    missing = y.isna().to_numpy()
    if not missing.any():
        return [], 0, 0
    linear = y.interpolate(method="linear").to_numpy()
    values = y.to_numpy(copy=True)
    gaps: list[Gap] = []
    interpolated = seasonal = 0
    edges = np.flatnonzero(np.diff(np.r_[0, missing.astype(np.int8), 0]))
    for start, stop in zip(edges[::2], edges[1::2], strict=True):
        length = int(stop - start)
        if length <= max_gap_hours:
            values[start:stop] = linear[start:stop]
            interpolated += length
        else:
            for pos in range(start, stop):  # forward, so a gap longer than a season repeats the filled season
                earlier = values[pos - season_length] if pos >= season_length else np.nan
                values[pos] = earlier if np.isfinite(earlier) else linear[pos]
            seasonal += length
            gaps.append(Gap(y.index[start].isoformat(), y.index[stop - 1].isoformat(), length))
    y[:] = values
    return gaps, interpolated, seasonal
