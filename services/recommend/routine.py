"""Routine peaks: a daily peak that crosses a threshold as it has for weeks is not a resource running out.

A nightly batch job that takes the CPU to the threshold every night has done so for weeks without anything running
out; a forecast that repeats that night (or a band around it) is no news. A resource runs out when its level
grows: when the level it holds for most of a day (its sustained level) crosses the threshold, or when the peak at
some hour of the day rises beyond what it routinely reached at that hour.

From the history (by UTC hour of the day) this module learns, for each hour, the routine level: the median over
days, taken in the older and in the more recent half of the lookback separately and the lower of the two kept, so
a level that only the recent, grown days show is not routine. The day-to-day spread at each hour (from the
differences between consecutive days, so growth does not inflate it) gives the tolerance. A forecast point counts
toward a runway when its mean rises beyond the routine level at its hour by more than the tolerance (growth), or
when the sustained level (the median of the 24 hours up to it) is over the threshold; any other crossing, of the
mean or of the band, is a recurring peak.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd

HOURS = 24
SPREAD_SDS = 2.0  # tolerance: this many robust day-to-day standard deviations at the hour
MAD_TO_SD = 1.4826 / np.sqrt(2.0)  # robust SD of one day from the median absolute difference of two days


@dataclass(frozen=True)
class RoutineProfile:
    """What a resource routinely does at each UTC hour of the day over `days` days of history."""

    level: np.ndarray  # (24,) the lower of the older and the recent half's median at each hour
    tolerance: np.ndarray  # (24,) SPREAD_SDS robust day-to-day standard deviations at each hour
    days: int

    def grown(self, hours: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Whether each value rises beyond its hour's routine level by more than the tolerance."""
        ceiling = np.nan_to_num(self.level + self.tolerance, nan=-np.inf)[hours]
        return np.asarray(values > ceiling)


def routine_profile(
    history: pd.Series, end: pd.Timestamp, lookback_days: float, min_days: int
) -> RoutineProfile | None:
    """The routine profile of the last `lookback_days` before `end`, or None with fewer than `min_days` days or
    with samples a day or more apart (a daily series has no hours to tell a peak from its level)."""
    window = history[(history.index > end - pd.Timedelta(days=lookback_days)) & (history.index <= end)]
    if len(window) < 2 or float(np.median(np.diff(window.index.asi8))) >= 86_400e9:
        return None
    hourly = window.resample("1h").mean().dropna()
    table = (
        pd.DataFrame({"day": hourly.index.floor("D"), "hour": hourly.index.hour, "value": hourly.to_numpy()})
        .pivot_table(index="day", columns="hour", values="value", aggfunc="mean")
        .reindex(columns=range(HOURS))
        .to_numpy(dtype=np.float64)
    )
    if len(table) < min_days:
        return None
    half = len(table) // 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an hour with no sample in a half: NaN, never routine
        level = np.minimum(np.nanmedian(table[:half], axis=0), np.nanmedian(table[half:], axis=0))
        spread = MAD_TO_SD * np.nanmedian(np.abs(np.diff(table, axis=0)), axis=0)
    return RoutineProfile(level=level, tolerance=SPREAD_SDS * np.nan_to_num(spread, nan=0.0), days=len(table))


def sustained_level(history: pd.Series, path: pd.Series) -> np.ndarray:
    """The median of the last 24 hours (history, then the path) at each point of `path` (both on UTC indexes)."""
    joined = pd.concat([history[history.index < path.index[0]], path]) if len(path) else path
    rolled = joined.rolling("24h").median()
    return rolled.loc[path.index].to_numpy(dtype=np.float64)


def counting(
    profile: RoutineProfile | None, limit: float, hours: np.ndarray, mean: np.ndarray, sustained: np.ndarray
) -> np.ndarray:
    """Which points count toward the runway: every one without a profile (too little history to know what is
    routine); else those where the mean has grown beyond its hour's routine level or the sustained level is over."""
    if profile is None:
        return np.ones(len(hours), dtype=bool)
    return np.asarray(profile.grown(hours, mean) | (sustained >= limit))


def hours_text(hours: list[int]) -> str:
    """UTC hours as ranges: [1, 2, 3, 7] -> "01:00-04:00, 07:00-08:00"."""
    runs: list[list[int]] = []
    for h in hours:
        if runs and h == runs[-1][1]:
            runs[-1][1] = h + 1
        else:
            runs.append([h, h + 1])
    return ", ".join(f"{a:02d}:00-{b:02d}:00" for a, b in runs)
