"""Usage statistics that size capacity: decaying histograms, a trend-projected peak and the required amount."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from services.recommend.window import as_utc_series

MIN_TREND_DAYS = 3  # fewer whole days of history give no trend worth projecting
MANN_KENDALL_Z = 1.645  # one-sided 95%: a rise this unlikely under no trend is projected


class DecayingHistogram:
    """Samples weighted by recency (VPA-style): a sample's weight halves every `half_life_hours` before the newest.

    Every distinct value is its own bucket, so percentiles are exact weighted quantiles (VPA's 5%-wide buckets
    only approximate this). Without a half-life every sample weighs the same.
    """

    def __init__(self, values: np.ndarray, weights: np.ndarray) -> None:
        if values.shape != weights.shape:
            raise ValueError("values and weights must have the same length")
        keep = np.isfinite(values) & (weights > 0)
        order = np.argsort(values[keep], kind="stable")
        self.values = values[keep][order]
        self.weights = weights[keep][order]

    @classmethod
    def from_series(cls, series: pd.Series, *, half_life_hours: float | None) -> DecayingHistogram:
        """Weights 2 ** (-(age of the sample) / half-life), age measured back from the newest sample."""
        clean = as_utc_series(series)
        values = clean.to_numpy(dtype=np.float64)
        if half_life_hours is None or len(clean) == 0:
            return cls(values, np.ones_like(values))
        age_hours = (clean.index.asi8[-1] - clean.index.asi8) / 3.6e12
        return cls(values, np.exp2(-age_hours / half_life_hours))

    @property
    def total_weight(self) -> float:
        return float(self.weights.sum())

    def percentile(self, q: float) -> float:
        """The smallest value whose cumulative weight reaches q% of the total (q=100: the maximum)."""
        if not 0.0 <= q <= 100.0:
            raise ValueError(f"percentile {q} is outside 0..100")
        if self.values.size == 0:
            raise ValueError("the histogram is empty")
        if q >= 100.0:
            return float(self.values[-1])
        cumulative = np.cumsum(self.weights)
        threshold = q / 100.0 * cumulative[-1]
        index = int(np.searchsorted(cumulative, threshold * (1.0 - 1e-12), side="left"))
        return float(self.values[min(index, self.values.size - 1)])


def statistic(series: pd.Series, stat: str, *, half_life_hours: float | None = None) -> float:
    """`max` or `pNN` (e.g. p95, p99.5) of a usage series, over a decaying histogram when a half-life is given."""
    return DecayingHistogram.from_series(series, half_life_hours=half_life_hours).percentile(percentile_of(stat))


def percentile_of(stat: str) -> float:
    """100 for `max`, NN for `pNN`; ValueError naming the accepted forms otherwise."""
    text = stat.strip().lower()
    if text == "max":
        return 100.0
    try:
        value = float(text[1:]) if text.startswith("p") else math.nan
    except ValueError:
        value = math.nan
    if not 0.0 < value <= 100.0:
        raise ValueError(f"statistic {stat!r} is not understood: use 'max' or a percentile such as 'p95' or 'p99.5'")
    return value


@dataclass(frozen=True)
class TrendPeak:
    """The statistic's daily values projected by a robust linear trend to the end of the horizon."""

    peak: float  # the trend line's value at the end of the horizon
    slope_per_day: float
    days: int  # whole days the trend was fitted on
    z: float  # Mann-Kendall statistic of the daily values (above 1.645: rising at 95% confidence)


def trend_peak(series: pd.Series, *, stat: str, horizon_hours: float) -> TrendPeak | None:
    """Forecast the statistic at the end of the next `horizon_hours` from its value on each whole day of `series`.

    The daily statistic (e.g. each day's p90, or each day's maximum) is tested for a rising trend with the
    Mann-Kendall test (one-sided, 95%); only a significant rise is projected, along a Theil-Sen line (the median
    of pairwise slopes, robust to a bad day). None when there is no significant rise or fewer than three whole
    days: a level or falling series needs no forecast above what was observed. This is the forecast used when
    no stored forecast exists for the resource.
    """
    clean = as_utc_series(series)
    if clean.empty:
        return None
    q = percentile_of(stat)
    end = clean.index[-1]
    day_number = np.ceil((clean.index.asi8 - end.value) / 8.64e13).astype(np.int64)  # 0 = the last 24 h
    groups = pd.Series(clean.to_numpy(), index=day_number).groupby(level=0)
    daily = groups.quantile(q / 100.0) if q < 100.0 else groups.max()
    daily = daily[groups.size() >= 0.8 * groups.size().max()]  # a partial first day would bias the line
    if len(daily) < MIN_TREND_DAYS:
        return None
    x = daily.index.to_numpy(dtype=np.float64)
    y = daily.to_numpy(dtype=np.float64)
    i, j = np.triu_indices(len(x), k=1)
    z = mann_kendall_z(y)
    if z < MANN_KENDALL_Z:
        return None
    slope = float(np.median((y[j] - y[i]) / (x[j] - x[i])))
    intercept = float(np.median(y - slope * x))
    peak = intercept + slope * (horizon_hours / 24.0)
    return TrendPeak(peak=max(peak, 0.0), slope_per_day=slope, days=len(daily), z=z)


def mann_kendall_z(y: np.ndarray) -> float:
    """The Mann-Kendall trend statistic (normal approximation with continuity correction, no tie correction)."""
    n = len(y)
    i, j = np.triu_indices(n, k=1)
    s = float(np.sign(y[j] - y[i]).sum())
    variance = n * (n - 1) * (2 * n + 5) / 18.0
    if variance <= 0 or s == 0:
        return 0.0
    return (s - np.sign(s)) / math.sqrt(variance)


def calibrated_headroom(series: pd.Series, *, stat: str, floor: float, cap: float) -> float | None:
    """Headroom learnt from the lookback itself (split-conformal style), or None with under two whole days.

    At every whole-day cut of the series, the statistic of what came after is compared with the statistic of
    what came before; the largest relative excess is how far the future outran the past within this very
    history. The headroom is that excess, kept within [floor, cap]: a steady series gets little, a spiky or
    growing one gets more, instead of one fixed margin for every workload.
    """
    clean = as_utc_series(series)
    if clean.empty:
        return None
    day = (clean.index.asi8 - clean.index.asi8[0]) // 86_400_000_000_000
    values = clean.to_numpy(dtype=np.float64)
    q = percentile_of(stat)
    excess = []
    for cut in range(1, int(day[-1]) + 1):
        before, after = values[day < cut], values[day >= cut]
        past = float(np.percentile(before, q))
        if past > 0 and after.size:
            excess.append(float(np.percentile(after, q)) / past - 1.0)
    if not excess:
        return None
    return min(max(max(excess), floor), cap)


@dataclass(frozen=True)
class Requirement:
    """How much of one resource is needed, and from what."""

    observed: float  # the statistic over the lookback
    forecast_peak: float | None  # the forecast peak over the horizon, when there is one
    basis: float  # max(observed, forecast peak)
    headroom: float
    required: float  # basis * (1 + headroom)
    forecast_source: str  # "stored", "trend" or "" (none)
    headroom_source: str = "fixed"  # "fixed" or "calibrated"


def required_capacity(
    *,
    usage: pd.Series,
    stat: str,
    headroom: float,
    half_life_hours: float | None,
    horizon_hours: float,
    forecast_peak: float | None = None,
    calibrate: tuple[float, float] | None = None,
) -> Requirement:
    """max(statistic of usage, forecast peak) * (1 + headroom), in the units of `usage`.

    The forecast peak is the stored forecast's when given, else the trend projection of `trend_peak`. With
    `calibrate` = (floor, cap) the headroom is `calibrated_headroom`'s when the history allows, else `headroom`.
    """
    observed = statistic(usage, stat, half_life_hours=half_life_hours)
    source = "stored" if forecast_peak is not None else ""
    if forecast_peak is None:
        trend = trend_peak(usage, stat=stat, horizon_hours=horizon_hours)
        if trend is not None:
            forecast_peak, source = trend.peak, "trend"
    basis = max(observed, forecast_peak) if forecast_peak is not None else observed
    learnt = calibrated_headroom(usage, stat=stat, floor=calibrate[0], cap=calibrate[1]) if calibrate else None
    used = headroom if learnt is None else learnt
    return Requirement(
        observed, forecast_peak, basis, used, basis * (1.0 + used), source, "fixed" if learnt is None else "calibrated"
    )
