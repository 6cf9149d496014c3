"""Split-conformal prediction intervals from rolling-origin backtest residuals, per horizon bucket.

Residuals (actual - point forecast) of the backtest origins are pooled by horizon bucket; the interval at
level L of a bucket runs from the finite-sample-corrected (1 - L)/2 to the (1 + L)/2 quantile of its signed
residuals, each level calibrated on its own. Width never shrinks with the horizon; beyond the backtested
horizon it grows with the square root of the distance, like a random walk.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

MIN_PER_BUCKET = 48  # residuals a bucket should hold for a stable 95% quantile
MAX_BUCKETS = 12


@dataclass
class ConformalBands:
    """Residual quantiles by horizon bucket: edges[i]..edges[i+1] (steps ahead, 0-based) -> (low, high) per level."""

    edges: list[int]
    quantiles: dict[int, list[tuple[float, float]]]

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
        return {"edges": self.edges, "quantiles": {str(k): [list(p) for p in v] for k, v in self.quantiles.items()}}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> ConformalBands:
        quantiles = {int(k): [(float(a), float(b)) for a, b in v] for k, v in state["quantiles"].items()}
        return cls(edges=[int(e) for e in state["edges"]], quantiles=quantiles)


def calibrate(residuals: np.ndarray, levels: Sequence[int]) -> ConformalBands:
    """Bands from an (origins x horizon) array of backtest residuals, actual minus forecast.

    Per horizon bucket, the residuals of every origin are pooled and the band at level L runs from their
    (1 - L)/2 to their (1 + L)/2 quantile, each with the split-conformal finite-sample correction: the 80% and
    the 95% bands are calibrated each on their own quantiles, so neither is a widened copy of the other, and a
    skewed error (a series that spikes up, never down) gives a skewed band.
    """
    origins, horizon = residuals.shape
    per_bucket = max(1, math.ceil(MIN_PER_BUCKET / origins))
    buckets = max(1, min(MAX_BUCKETS, horizon // per_bucket))
    edges = [int(e) for e in np.linspace(0, horizon, buckets + 1).round()]
    quantiles: dict[int, list[tuple[float, float]]] = {}
    for level in levels:
        pairs: list[tuple[float, float]] = []
        low_so_far, high_so_far = 0.0, 0.0
        tail = (1.0 - level / 100.0) / 2.0
        for start, stop in zip(edges, edges[1:], strict=False):
            pooled = residuals[:, start:stop].ravel()
            r = np.sort(pooled[np.isfinite(pooled)])
            if r.size:
                n = r.size
                hi_rank = min(1.0, math.ceil((n + 1) * (1.0 - tail)) / n)
                lo_rank = max(0.0, math.floor((n + 1) * tail) / n - 1.0 / n)
                low, high = float(np.quantile(r, lo_rank)), float(np.quantile(r, hi_rank))
                # never narrower further out
                low_so_far, high_so_far = min(low_so_far, low), max(high_so_far, high)
            pairs.append((low_so_far, high_so_far))
        quantiles[int(level)] = pairs
    return ConformalBands(edges=edges, quantiles=quantiles)
