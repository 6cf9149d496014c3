"""How a workload's peaks recur: block maxima, their trend, a robust Gumbel tail and which past peaks were one-offs."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from services.recommend.usage import MANN_KENDALL_Z, mann_kendall_z

DAY_SECONDS = 86_400.0
BLOCK_HOURS = (24.0, 12.0, 6.0, 3.0, 1.0)  # daily peaks when the window allows, else shorter blocks
MIN_BLOCKS = 6  # fewer blocks than this give no spread worth fitting
FULL_BLOCK = 0.8  # a block with less of its samples is partial and left out
GUMBEL_MEDIAN = -math.log(math.log(2.0))  # (median - location) / scale of a Gumbel: 0.3665
GUMBEL_UPPER = -math.log(-math.log(0.75)) - GUMBEL_MEDIAN  # (75th percentile - median) / scale: 0.8794


def block_hours_for(span_seconds: float) -> float:
    """The longest block (a day first) that cuts the window into at least MIN_BLOCKS whole blocks."""
    for hours in BLOCK_HOURS:
        if span_seconds / (hours * 3600.0) >= MIN_BLOCKS:
            return hours
    return BLOCK_HOURS[-1]


@dataclass(frozen=True)
class BlockStats:
    """One statistic (a maximum or a quantile) of each whole block, blocks counted back from the window's end."""

    values: np.ndarray  # oldest first
    centres: np.ndarray  # block centres in days before the window's end (negative numbers)
    block_hours: float


def block_statistic(
    t: np.ndarray, x: np.ndarray, *, end: float, block_hours: float, quantile: float | None = None
) -> BlockStats:
    """Each whole block's maximum (quantile None) or quantile in [0, 1]; `t` in seconds, `end` the window's end."""
    block = block_hours * 3600.0
    index = np.floor((end - t) / block).astype(np.int64)  # 0 = the last block
    count = int(index.max()) + 1 if index.size else 0
    sizes = np.bincount(index, minlength=count)
    expected = max(1, int(np.max(sizes))) if sizes.size else 1
    whole = np.flatnonzero(sizes >= FULL_BLOCK * expected)[::-1]  # the whole blocks, oldest first
    ordered = x[np.argsort(index, kind="stable")]
    starts = np.concatenate([[0], np.cumsum(sizes)])
    values = np.empty(whole.size)
    for size in np.unique(sizes[whole]):  # blocks of one length at once: one row each
        rows = np.flatnonzero(sizes[whole] == size)
        chunks = ordered[starts[whole[rows]][:, None] + np.arange(size)]
        values[rows] = chunks.max(axis=1) if quantile is None else np.quantile(chunks, quantile, axis=1)
    return BlockStats(values, -(whole + 0.5) * block / DAY_SECONDS, block_hours)


@dataclass(frozen=True)
class PeakModel:
    """The fitted tail of block peaks: a trend, a robust Gumbel location and scale, and the one-off peaks."""

    location: float  # Gumbel location of the detrended block peaks (at the window's end)
    scale: float  # Gumbel scale (0 for perfectly flat peaks)
    slope_per_day: float  # significant rise of the peaks per day, else 0
    recurring: float  # the highest level reached in two separate episodes: a peak seen twice is no one-off
    block_hours: float
    blocks: int
    one_offs: int  # past block peaks above the level the model expects once in 20 windows as long as the lookback

    def level(self, *, horizon_days: float, exceed_probability: float, spread: float = 1.0) -> float:
        """The size the largest peak of the next `horizon_days` exceeds with `exceed_probability` (trend included).

        With H blocks to come, the chance that none exceeds S is G(S)^H for the Gumbel G of one block, so S is
        G's quantile at (1 - p)^(1/H). `spread` scales the tail: the fleet calibration picks it.
        """
        blocks = max(1.0, horizon_days * 24.0 / self.block_hours)
        p = min(max(exceed_probability, 1e-9), 1.0 - 1e-9)
        reduced = -math.log(-math.log((1.0 - p) ** (1.0 / blocks)))
        growth = max(self.slope_per_day, 0.0) * horizon_days
        return self.location + spread * self.scale * reduced + growth

    def recurring_level(self, *, horizon_days: float) -> float:
        """The second-highest block peak moved along the trend: a size below it is sure to be exceeded again."""
        return self.recurring + max(self.slope_per_day, 0.0) * horizon_days


def fit_peaks(t: np.ndarray, x: np.ndarray, *, end: float, one_off_probability: float = 0.05) -> PeakModel | None:
    """Fit the recurring peaks of a window (t in seconds, x usage), or None with too few whole blocks.

    The block maxima are tested for a rising trend (Mann-Kendall, one-sided 95%); a significant rise is taken
    out along a Theil-Sen line and projected. The location and scale come from the median and the upper
    quartile of the (detrended) maxima: quiet days (weekends) below the median do not widen the tail, and one
    block with an extreme peak - a boot, a batch run, a cache warm-up - moves neither: it is counted as a
    one-off instead of setting the size. A peak seen in two separate episodes (a weekly job over two weeks)
    recurs, so the size never goes below it; one episode over two adjacent blocks (a boot that ran past
    midnight) is still one episode.
    """
    span = float(end - t.min()) if t.size else 0.0
    hours = block_hours_for(span)
    stats = block_statistic(t, x, end=end, block_hours=hours)
    if stats.values.size < 3:
        return None
    peaks, days = stats.values, stats.centres
    slope = 0.0
    if peaks.size >= 4 and mann_kendall_z(peaks) >= MANN_KENDALL_Z:
        i, j = np.triu_indices(peaks.size, k=1)
        slope = max(float(np.median((peaks[j] - peaks[i]) / (days[j] - days[i]))), 0.0)
    detrended = peaks - slope * days  # the level they would have at the window's end
    median, q3 = np.percentile(detrended, [50.0, 75.0])
    scale = float(q3 - median) / GUMBEL_UPPER
    location = float(median) - GUMBEL_MEDIAN * scale
    recurring = recurring_peak(detrended)
    model = PeakModel(location, scale, slope, recurring, hours, int(peaks.size), 0)
    lookback_days = span / DAY_SECONDS
    tail = model.level(horizon_days=lookback_days, exceed_probability=one_off_probability)
    ceiling = max(tail, model.recurring_level(horizon_days=lookback_days)) - slope * lookback_days
    one_offs = int(np.sum(detrended > ceiling + 1e-12))
    return PeakModel(location, scale, slope, recurring, hours, int(peaks.size), one_offs)


def recurring_peak(peaks: np.ndarray) -> float:
    """The highest level that recurs: reached in two separate episodes (runs of neighbouring blocks), in a run as
    long as a third of the window (how the workload runs, such as its working days, not an episode) or still in
    the latest block (not over yet, such as a new normal after a deployment).

    A boot, a restore or a job that kept usage high for three days of fourteen and then ended is one episode,
    however many blocks it covers; a nightly or weekly job comes back after quieter blocks and so recurs.
    """
    longest = max(2, int(np.ceil(peaks.size / 3.0)))
    for level in np.unique(peaks)[::-1]:
        above = np.concatenate([[False], peaks >= level, [False]]).astype(np.int8)
        edges = np.flatnonzero(np.diff(above))
        runs = edges[1::2] - edges[::2]  # lengths of the runs of blocks at or above the level
        if runs.size >= 2 or runs.max() >= longest or above[-2]:
            return float(level)
    return float(peaks.max())


def share_level(t: np.ndarray, x: np.ndarray, *, end: float, share: float, horizon_days: float) -> float:
    """The usage exceeded by `share` of the window's samples, moved along a significant rise of the blocks' level.

    A pooled quantile stands for the level at the window's middle; with a rising trend of each block's quantile
    the level half-way through the horizon is what the next samples see on average.
    """
    level = float(np.quantile(x, 1.0 - share))
    span = float(end - t.min())
    stats = block_statistic(t, x, end=end, block_hours=block_hours_for(span), quantile=1.0 - share)
    if stats.values.size >= 4 and mann_kendall_z(stats.values) >= MANN_KENDALL_Z:
        i, j = np.triu_indices(stats.values.size, k=1)
        d = stats.centres
        slope = float(np.median((stats.values[j] - stats.values[i]) / (d[j] - d[i])))
        level += max(slope, 0.0) * (span / DAY_SECONDS + horizon_days) / 2.0
    return level


def recurring_share_level(t: np.ndarray, x: np.ndarray, *, end: float, share: float, horizon_days: float) -> float:
    """The usage above which `share` of a block's samples lay in at least two blocks, moved along a rising trend.

    Unlike a pooled quantile, an hour-long one-off (a boot, a restore) that fills more than `share` of the
    lookback on one day does not set the level: it must have happened twice.
    """
    span = float(end - t.min())
    stats = block_statistic(t, x, end=end, block_hours=block_hours_for(span), quantile=1.0 - share)
    if stats.values.size < 3:
        return float(np.quantile(x, 1.0 - share))
    values, days = stats.values, stats.centres
    slope = 0.0
    if values.size >= 4 and mann_kendall_z(values) >= MANN_KENDALL_Z:
        i, j = np.triu_indices(values.size, k=1)
        slope = max(float(np.median((values[j] - values[i]) / (days[j] - days[i]))), 0.0)
    return recurring_peak(values - slope * days) + slope * horizon_days
