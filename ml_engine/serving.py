"""Which forecast the ensemble serves: do-no-harm on the backtest, then the no-blow-up guard, inside the domain.

Do no harm: the weighted combination is served unless one member's robust backtest loss (seasonal naive's
included) is lower by more than HARM_MARGIN; then that member is. The served forecast then goes through the guard
(ml_engine.guard): a forecast that breaks a rule is replaced by the next candidate in order (the other members
that carry weight, best backtest first, then seasonal naive), and the reasons are kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ml_engine.conformal import ConformalBands
from ml_engine.domain import Domain
from ml_engine.guard import Envelope, check, level_shift

ENSEMBLE = "ensemble"
LAST_RESORT = "seasonal_naive"
# a member replaces the combination only when its backtest loss is this much lower: the weights were fitted on the
# same backtest, so a hair's advantage is noise, and a combination generalises better than a member (chosen on the
# three dev sets together: 0.1 beat 0, 0.05 and never-replace on each of them)
HARM_MARGIN = 0.1
BOUND_DAYS = 7  # the history whose share of values on a domain bound decides whether a band reaches that bound
BOUND_STEPS = 28  # ... and at least this many steps of it (daily data)
HOUR_SECONDS, DAY_SECONDS = 3600.0, 86400.0


def serving_order(
    loss: Mapping[str, float], combined_loss: float, weights: Mapping[str, float]
) -> tuple[list[str], str]:
    """Candidates in the order they are tried, and why the first one leads.

    The combination leads unless a member's backtest loss is clearly lower (then the combination comes second);
    then come the members that carry weight, by loss, and seasonal naive last (whatever its weight).
    """
    ranked = sorted((n for n in loss if np.isfinite(loss[n])), key=lambda n: loss[n])
    best = ranked[0] if ranked else None
    if best is not None and loss[best] < (1.0 - HARM_MARGIN) * combined_loss:
        lead = best
        why = f"backtest: {best} alone ({loss[best]:.4g}) clearly beats the weighted ensemble ({combined_loss:.4g})"
    else:
        lead = ENSEMBLE
        why = "backtest: the weighted ensemble is at least as good as its best member"
    order = [lead] + ([ENSEMBLE] if lead != ENSEMBLE else [])
    order += [n for n in ranked if n != lead and weights.get(n, 0.0) > 0.0 and n != LAST_RESORT]
    if lead != LAST_RESORT and LAST_RESORT in loss:
        order.append(LAST_RESORT)
    return order, why


@dataclass
class Served:
    """The forecast chosen, its bands, and the guard's report."""

    label: str
    mean: np.ndarray
    lower: dict[int, np.ndarray]
    upper: dict[int, np.ndarray]
    shift: float | None
    rejected: dict[str, list[str]] = field(default_factory=dict)
    on_bounds: dict[str, list[int]] = field(default_factory=dict)  # side -> levels whose edge was moved onto the bound

    def report(self, lead_reason: str) -> dict[str, Any]:
        return {
            "served": self.label,
            "why": lead_reason if not self.rejected else f"guard replaced {', '.join(self.rejected)}",
            "rejected": self.rejected,
            "on_bounds": self.on_bounds,
        }


def serve(
    order: Sequence[str],
    means: Mapping[str, np.ndarray],
    bands: Mapping[str, ConformalBands],
    levels: Sequence[int],
    env: Envelope,
    domain: Domain,
    history: np.ndarray,
    per_hour: int,
    step_seconds: float,
) -> Served:
    """The first candidate of order (with a mean and bands) that passes the guard; the one that breaks the fewest
    rules when none does. Each candidate's mean is corrected for a persisted level shift, and clipped with its
    bands to the domain."""
    rejected: dict[str, list[str]] = {}
    tried: dict[str, Served] = {}
    for label in order:
        if label not in means or label not in bands:
            continue
        mean = np.asarray(means[label], dtype=np.float64)
        shift = level_shift(history, mean, per_hour)
        mean = domain.clip(mean + (shift or 0.0))
        lower, upper = bands[label].bands(mean, levels)
        lower = {lvl: domain.clip(v) for lvl, v in lower.items()}
        upper = {lvl: domain.clip(v) for lvl, v in upper.items()}
        widest = max(levels) if levels else None
        reasons = check(env, mean, lower.get(widest) if widest else None, upper.get(widest) if widest else None)
        tried[label] = Served(label, mean, lower, upper, shift, dict(rejected))
        if not reasons:
            return _on_bounds(tried[label], domain, history, step_seconds)
        rejected[label] = reasons
    if not tried:
        raise ValueError(f"no candidate of {list(order)} has a forecast and bands: nothing to serve")
    # every candidate broke a rule: the one that broke the fewest (the earliest in order among equals), since a
    # rule that all of them break more likely misreads the history than all of them blow up
    chosen = tried[min(rejected, key=lambda label: len(rejected[label]))]
    chosen.rejected = rejected
    return _on_bounds(chosen, domain, history, step_seconds)


def _on_bounds(served: Served, domain: Domain, history: np.ndarray, step_seconds: float) -> Served:
    """The served bands reach a domain bound the last BOUND_DAYS of history (at least BOUND_STEPS) sat on often
    (Domain.hold_bound_mass); on hourly or finer data the point forecast sits on it at the hours of the day it sat
    on it most of the time (Domain.median_on_bound), and the bands hold the moved forecast."""
    recent = history[-max(BOUND_STEPS, int(BOUND_DAYS * DAY_SECONDS // step_seconds)) :]
    served.on_bounds = domain.hold_bound_mass(recent, served.lower, served.upper)
    if HOUR_SECONDS % step_seconds == 0:  # a whole number of steps an hour: hourly or finer
        per_hour = int(HOUR_SECONDS // step_seconds)
        hours = domain.median_on_bound(recent, served.mean, per_hour, start=len(history) - len(recent))
        if hours:
            served.on_bounds["mean"] = hours
            served.lower = {level: np.minimum(edge, served.mean) for level, edge in served.lower.items()}
            served.upper = {level: np.maximum(edge, served.mean) for level, edge in served.upper.items()}
    return served
