"""Split-conformal prediction intervals from rolling-origin backtest residuals, per horizon bucket.

Residuals (actual - point forecast) of the backtest origins are pooled by horizon bucket; the interval at
level L of a bucket runs from the (1 - q)/2 to the (1 + q)/2 quantile of its signed residuals, each level
calibrated on its own, q chosen so that leaving out any one origin the others' bands would have covered it at L.
Width never shrinks with the horizon; beyond the backtested
horizon it grows with the square root of the distance, like a random walk.
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


@dataclass
class ConformalBands:
    """Residual quantiles by horizon bucket: edges[i]..edges[i+1] (steps ahead, 0-based) -> (low, high) per level."""

    edges: list[int]
    quantiles: dict[int, list[tuple[float, float]]]
    nominal: dict[int, float] = field(default_factory=dict)  # level -> the quantile level used (adaptive)

    @property
    def horizon(self) -> int:
        return self.edges[-1]

    def bands(self, mean: np.ndarray, levels: Sequence[int]) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray]]:
        """Lower and upper bands around mean for each level (levels not calibrated raise KeyError)."""
        steps = np.arange(mean.size)
        bucket = np.clip(np.searchsorted(self.edges, steps, side="right") - 1, 0, len(self.edges) - 2)
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
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> ConformalBands:
        quantiles = {int(k): [(float(a), float(b)) for a, b in v] for k, v in state["quantiles"].items()}
        nominal = {int(k): float(v) for k, v in state.get("nominal", {}).items()}
        return cls(edges=[int(e) for e in state["edges"]], quantiles=quantiles, nominal=nominal)


def calibrate(residuals: np.ndarray, levels: Sequence[int], adaptive: bool = True) -> ConformalBands:
    """Bands from an (origins x horizon) array of backtest residuals, actual minus forecast.

    Per horizon bucket, the residuals of every origin are pooled and the band at level L runs from their
    (1 - q)/2 to their (1 + q)/2 quantile: the 80% and the 95% bands are calibrated each on their own quantiles,
    so neither is a widened copy of the other, and a skewed error (a series that spikes up, never down) gives a
    skewed band. q is L itself, or with `adaptive` (and at least MIN_ORIGINS_ADAPTIVE origins) the smallest
    nominal level whose bands, calibrated on all origins but one, cover L of the origin left out, on average over
    the origins: where the errors of one window are unlike the others' (a drift, a new trend) the band widens
    until it would have held; where the pooled quantile is already honest, q stays near L.
    """
    origins, horizon = residuals.shape
    per_bucket = max(1, math.ceil(MIN_PER_BUCKET / origins))
    buckets = max(1, min(MAX_BUCKETS, horizon // per_bucket))
    edges = [int(e) for e in np.linspace(0, horizon, buckets + 1).round()]
    quantiles: dict[int, list[tuple[float, float]]] = {}
    nominal: dict[int, float] = {}
    for level in levels:
        q = _leave_one_out_level(residuals, edges, level / 100.0) if adaptive else level / 100.0
        nominal[int(level)] = round(100.0 * q, 2)
        pairs: list[tuple[float, float]] = []
        low_so_far, high_so_far = 0.0, 0.0
        for low, high in _bucket_bounds(residuals, edges, np.array([q]))[:, 0]:
            if np.isfinite(low) and np.isfinite(high):  # never narrower further out
                low_so_far, high_so_far = min(low_so_far, float(low)), max(high_so_far, float(high))
            pairs.append((low_so_far, high_so_far))
        quantiles[int(level)] = pairs
    return ConformalBands(edges=edges, quantiles=quantiles, nominal=nominal)


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


def _leave_one_out_level(residuals: np.ndarray, edges: Sequence[int], target: float) -> float:
    """The smallest nominal level (on LEVEL_GRID) whose leave-one-origin-out coverage reaches target."""
    origins = residuals.shape[0]
    if origins < MIN_ORIGINS_ADAPTIVE:
        return target
    grid = LEVEL_GRID[target - MAX_BELOW <= LEVEL_GRID]
    covered = np.zeros(grid.size)
    counted = 0
    for k in range(origins):
        bounds = _bucket_bounds(np.delete(residuals, k, axis=0), edges, grid)
        for b, (start, stop) in enumerate(zip(edges, edges[1:], strict=False)):
            row = residuals[k, start:stop]
            row = row[np.isfinite(row)]
            if row.size == 0 or not np.isfinite(bounds[b]).all():
                continue
            lo, hi = np.minimum(bounds[b, :, 0], 0.0), np.maximum(bounds[b, :, 1], 0.0)
            covered += ((row[None, :] >= lo[:, None]) & (row[None, :] <= hi[:, None])).sum(axis=1)
            counted += row.size
    if counted == 0:
        return target
    reached = np.flatnonzero(covered / counted >= target)
    return float(grid[reached[0]]) if reached.size else float(grid[-1])
