"""Split-conformal prediction intervals from rolling-origin backtest residuals, per horizon bucket.

Residuals (actual - point forecast) of the backtest origins are pooled by horizon bucket; the interval at
level L of a bucket runs from the (1 - q)/2 to the (1 + q)/2 quantile of its signed residuals, each level
calibrated on its own, q chosen so that leaving out any one origin the others' bands would have covered it at L.
Each bucket is calibrated on its own (a band may narrow where the day is calmer); beyond the backtested
horizon it grows with the square root of the distance, like a random walk.

The point forecast is moved by each bucket's median residual when that would have lowered the absolute error of
every origin left out, taken together, by MIN_CENTER_GAIN (a forecaster of hourly means on a spiky series sits above
the typical value; the scores are absolute errors, whose best point is the median): the band edges do not move.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MIN_PER_BUCKET = 48  # residuals a bucket should hold for a stable 95% quantile
MAX_BUCKETS = 12
MIN_ORIGINS_ADAPTIVE = 3  # leave-one-origin-out needs at least 2 origins left to calibrate on
LEVEL_GRID = np.concatenate([np.arange(0.50, 0.99, 0.005), np.arange(0.99, 0.9995, 0.001)])
MAX_BELOW = 0.10  # the adaptive level may go this far below the nominal one, where the pooled band over-covers
WIDEN = (1.25, 1.5, 2.0, 3.0, 4.0)  # beyond the top level: its band widened by these factors
MIN_CENTER_GAIN = 0.02  # the median correction is kept when it lowers the left-out origins' absolute error this much


@dataclass
class ConformalBands:
    """Residual quantiles by horizon bucket: edges[i]..edges[i+1] (steps ahead, 0-based) -> (low, high) per level."""

    edges: list[int]
    quantiles: dict[int, list[tuple[float, float]]]
    # level -> the quantile level used in percent (adaptive); above 100: the top level's band widened by that share
    nominal: dict[int, float] = field(default_factory=dict)
    # level -> leave-one-origin-out coverage of the chosen band on the backtest (adaptive only): the honest estimate
    coverage: dict[int, float] = field(default_factory=dict)
    # per bucket: the median backtest residual the point forecast moves by (empty: not moved); quantiles are
    # relative to the moved forecast
    center: list[float] = field(default_factory=list)

    @property
    def horizon(self) -> int:
        return self.edges[-1]

    def _buckets(self, size: int) -> np.ndarray:
        steps = np.arange(size)
        return np.clip(np.searchsorted(self.edges, steps, side="right") - 1, 0, len(self.edges) - 2)  # type: ignore[no-any-return]

    def offset(self, size: int) -> np.ndarray:
        """What the point forecast of `size` steps moves by (zeros when the median correction was not kept); beyond
        the backtested horizon, the last bucket's."""
        if not self.center:
            return np.zeros(size)
        return np.asarray(self.center, dtype=np.float64)[self._buckets(size)]  # type: ignore[no-any-return]

    def bands(self, mean: np.ndarray, levels: Sequence[int]) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
        """Lower and upper bands around mean (the moved point forecast) for each level (levels not calibrated raise
        KeyError)."""
        steps = np.arange(mean.size)
        bucket = self._buckets(mean.size)
        beyond = np.sqrt(np.maximum(steps + 1, self.horizon) / self.horizon)
        lower: dict[int, np.ndarray] = {}
        upper: dict[int, np.ndarray] = {}
        for level in levels:
            q = np.asarray(self.quantiles[level], dtype=np.float64)
            lower[level] = mean + np.minimum(q[bucket, 0], 0.0) * beyond
            upper[level] = mean + np.maximum(q[bucket, 1], 0.0) * beyond
        return lower, upper

    def to_state(self) -> dict[str, Any]:
        return {
            "edges": self.edges,
            "quantiles": {str(k): [list(p) for p in v] for k, v in self.quantiles.items()},
            "nominal": {str(k): v for k, v in self.nominal.items()},
            "coverage": {str(k): v for k, v in self.coverage.items()},
            "center": self.center,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> ConformalBands:
        quantiles = {int(k): [(float(a), float(b)) for a, b in v] for k, v in state["quantiles"].items()}
        nominal = {int(k): float(v) for k, v in state.get("nominal", {}).items()}
        coverage = {int(k): float(v) for k, v in state.get("coverage", {}).items()}
        center = [float(c) for c in state.get("center", [])]
        return cls(edges=[int(e) for e in state["edges"]], quantiles=quantiles, nominal=nominal, coverage=coverage,
                   center=center)


def calibrate(
    residuals: np.ndarray, levels: Sequence[int], adaptive: bool = True, stride: int | None = None
) -> ConformalBands:
    """Bands from an (origins x horizon) array of backtest residuals, actual minus forecast.

    Per horizon bucket, the residuals of every origin are pooled and the band at level L runs from their
    (1 - q)/2 to their (1 + q)/2 quantile: the 80% and the 95% bands are calibrated each on their own quantiles,
    so neither is a widened copy of the other, and a skewed error (a series that spikes up, never down) gives a
    skewed band. q is L itself, or with `adaptive` (and at least MIN_ORIGINS_ADAPTIVE origins) the smallest
    nominal level whose bands, calibrated on all origins but one, cover L of the origin left out, on average over
    the origins: where the errors of one window are unlike the others' (a drift, a new trend) the band widens
    until it would have held, beyond the largest residual if need be; where the pooled quantile is already
    honest, q stays near L. stride: steps between the origins when their windows overlap (default: they do not);
    the origin left out is then also left out of the others' windows, so that no actual it is scored on is in the
    residuals its band is calibrated on.
    """
    origins, horizon = residuals.shape
    per_bucket = max(1, math.ceil(MIN_PER_BUCKET / origins))
    buckets = max(1, min(MAX_BUCKETS, horizon // per_bucket))
    edges = [int(e) for e in np.linspace(0, horizon, buckets + 1).round()]
    center = _median_center(residuals, edges, stride or horizon) if adaptive else None
    shift = center if center is not None else [0.0] * (len(edges) - 1)
    quantiles: dict[int, list[tuple[float, float]]] = {}
    nominal: dict[int, float] = {}
    covered: dict[int, float] = {}
    for level in levels:
        q, factor, loo = (
            _leave_one_out_level(residuals, edges, level / 100.0, stride or horizon)
            if adaptive
            else (level / 100.0, 1.0, None)
        )
        if loo is not None:
            covered[int(level)] = round(loo, 4)
        nominal[int(level)] = round(100.0 * q, 2) if factor == 1.0 else round(100.0 * q * factor, 2)
        pairs: list[tuple[float, float]] = []
        for (low, high), c in zip(_bucket_bounds(residuals, edges, np.array([q]))[:, 0] * factor, shift, strict=True):
            finite = bool(np.isfinite(low) and np.isfinite(high))  # the band always holds the point forecast
            pairs.append((min(0.0, float(low) - c), max(0.0, float(high) - c)) if finite else (0.0, 0.0))
        quantiles[int(level)] = pairs
    return ConformalBands(edges=edges, quantiles=quantiles, nominal=nominal, coverage=covered, center=center or [])


def _median_center(residuals: np.ndarray, edges: Sequence[int], stride: int) -> list[float] | None:
    """Each bucket's median residual, when moving every left-out origin's forecast by the others' bucket medians
    lowers their absolute error, all origins together, by MIN_CENTER_GAIN; None otherwise (or too few origins)."""
    origins = residuals.shape[0]
    if origins < MIN_ORIGINS_ADAPTIVE:
        return None
    raw = moved = 0.0
    for k in range(origins):
        others = _without_window(residuals, k, stride)
        for start, stop in zip(edges, edges[1:], strict=False):
            row, pool = residuals[k, start:stop], others[:, start:stop].ravel()
            row, pool = row[np.isfinite(row)], pool[np.isfinite(pool)]
            if row.size and pool.size:
                raw += float(np.abs(row).sum())
                moved += float(np.abs(row - np.median(pool)).sum())
    if not raw > 0.0 or moved > (1.0 - MIN_CENTER_GAIN) * raw:
        return None
    centers = []
    for start, stop in zip(edges, edges[1:], strict=False):
        pooled = residuals[:, start:stop].ravel()
        pooled = pooled[np.isfinite(pooled)]
        centers.append(round(float(np.median(pooled)), 9) if pooled.size else 0.0)
    return centers


def _bucket_bounds(residuals: np.ndarray, edges: Sequence[int], qs: np.ndarray) -> np.ndarray:
    """(buckets x len(qs) x 2): per bucket, the pooled (1 - q)/2 and (1 + q)/2 quantiles of the finite residuals."""
    out = np.full((len(edges) - 1, qs.size, 2), np.nan)
    probs = np.concatenate([(1.0 - qs) / 2.0, (1.0 + qs) / 2.0])
    for b, (start, stop) in enumerate(zip(edges, edges[1:], strict=False)):
        pooled = residuals[:, start:stop].ravel()
        r = pooled[np.isfinite(pooled)]
        if r.size:
            both = np.quantile(r, probs)
            out[b, :, 0], out[b, :, 1] = both[: qs.size], both[qs.size :]
    return out


def _leave_one_out_level(
    residuals: np.ndarray, edges: Sequence[int], target: float, stride: int
) -> tuple[float, float, float | None]:
    """The narrowest (level on LEVEL_GRID, widening factor) whose leave-one-origin-out coverage reaches target, and
    that coverage (None when it cannot be measured): first
    the levels at factor 1, then the top level widened by WIDEN factors (an origin whose errors exceed every other's,
    as on a trending series, needs a band wider than any residual seen)."""
    origins = residuals.shape[0]
    if origins < MIN_ORIGINS_ADAPTIVE:
        return target, 1.0, None
    grid = LEVEL_GRID[target - MAX_BELOW <= LEVEL_GRID]
    covered = np.zeros(grid.size + len(WIDEN))
    counted = 0
    factors = np.concatenate([np.ones(grid.size), WIDEN])
    for k in range(origins):
        bounds = _bucket_bounds(_without_window(residuals, k, stride), edges, grid)
        bounds = np.concatenate([bounds, bounds[:, -1:, :] * np.asarray(WIDEN)[None, :, None]], axis=1)
        for b, (start, stop) in enumerate(zip(edges, edges[1:], strict=False)):
            row = residuals[k, start:stop]
            row = row[np.isfinite(row)]
            if row.size == 0 or not np.isfinite(bounds[b]).all():
                continue
            lo, hi = np.minimum(bounds[b, :, 0], 0.0), np.maximum(bounds[b, :, 1], 0.0)
            covered += ((row[None, :] >= lo[:, None]) & (row[None, :] <= hi[:, None])).sum(axis=1)
            counted += row.size
    if counted == 0:
        return target, 1.0, None
    rate = covered / counted
    reached = np.flatnonzero(rate >= target)
    pick = int(reached[0]) if reached.size else covered.size - 1
    if 0 < pick < grid.size and target - rate[pick - 1] < rate[pick] - target:
        pick -= 1  # the level just below comes nearer the target: the nearest, not the first at or above it
    return float(grid[min(pick, grid.size - 1)]), float(factors[pick]), float(covered[pick] / counted)


def _without_window(residuals: np.ndarray, k: int, stride: int) -> np.ndarray:
    """The residuals of every origin but k, with the steps whose actuals fall in origin k's window set to NaN."""
    origins, span = residuals.shape
    others = residuals.astype(np.float64, copy=True)
    for j in range(origins):
        start = (k - j) * stride  # origin k's window, in steps of origin j's
        others[j, max(0, start) : max(0, min(span, start + span))] = np.nan
    return np.delete(others, k, axis=0)
