"""The autoscaling protocol's simulator: instances in service from requests, and the scores of a capacity plan."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def stabilise(desired: np.ndarray, window: int) -> np.ndarray:
    """The highest desired count of the last `window` steps (the HPA's scale-in stabilisation); window <= 1: as is."""
    desired = np.asarray(desired, dtype=np.float64)
    if window <= 1 or desired.size == 0:
        return desired.copy()
    padded = np.concatenate([np.full(window - 1, -np.inf), desired])
    return np.lib.stride_tricks.sliding_window_view(padded, window).max(axis=1)


def in_service(requested: np.ndarray, lag: int) -> np.ndarray:
    """Instances in service at each step when requested[j] is decided at the end of step j.

    A scale-out decided at j serves from step j + lag (the start-up time); a scale-in serves from j + 1. An
    instance launched at j is cancelled if a later request within its start-up no longer wants it, so the
    count in service at k is the smallest request of the decisions k - lag .. k - 1. Element 0 of the result is
    the count before any decision (requested[0]); the first `lag` steps use the requests available.
    """
    requested = np.asarray(requested, dtype=np.float64)
    lag = max(1, int(lag))
    padded = np.concatenate([np.full(lag, requested[0] if requested.size else 0.0), requested[:-1]])
    return np.lib.stride_tricks.sliding_window_view(padded, lag).min(axis=1)


@dataclass(frozen=True)
class Scores:
    """One policy on one series' evaluation window (BENCHMARK.md's columns)."""

    cost: float  # instance-steps / the oracle's
    under_provisioned: float  # share of steps with demand > instances x C
    unserved: float  # demand above capacity / all demand
    utilisation: float  # mean over steps with capacity of min(demand, capacity) / capacity
    actions: int  # steps on which the count in service changes
    instance_steps: float


def oracle(demand: np.ndarray, unit: float) -> np.ndarray:
    """Perfect foresight without start-up time: ceil(demand / C) at every step."""
    return np.ceil(np.maximum(np.nan_to_num(demand), 0.0) / unit - 1e-9)


def score(demand: np.ndarray, instances: np.ndarray, unit: float, *, before: float | None = None) -> Scores:
    """Score instances per step against demand with C = `unit` per instance; NaN demand steps are not scored.

    `before` is the count in service just before the window (an action is counted if the first step differs).
    """
    demand = np.maximum(np.asarray(demand, dtype=np.float64), 0.0)
    instances = np.asarray(instances, dtype=np.float64)
    if demand.shape != instances.shape:
        raise ValueError(f"demand has {demand.size} steps but the plan {instances.size}")
    seen = np.isfinite(demand)
    d, n = demand[seen], instances[seen]
    capacity = n * unit
    best = oracle(d, unit).sum()
    short = np.maximum(d - capacity, 0.0)
    has = capacity > 0
    util = np.minimum(d[has], capacity[has]) / capacity[has]
    changes = np.diff(np.concatenate([[instances[0] if before is None else before], instances]))
    return Scores(
        cost=float(n.sum() / best) if best > 0 else float("nan"),
        under_provisioned=float(np.mean(d > capacity + 1e-9)) if d.size else float("nan"),
        unserved=float(short.sum() / d.sum()) if d.sum() > 0 else 0.0,
        utilisation=float(util.mean()) if util.size else 0.0,
        actions=int(np.count_nonzero(changes)),
        instance_steps=float(n.sum()),
    )
