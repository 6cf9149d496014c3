"""The no-blow-up guard: what a forecast may do given its history (range, level, band width, origin jump).

A forecast is checked against an envelope measured on the recent history:
- range: every point within the history's robust range (0.1%..99.9% quantiles), widened by RANGE_MARGIN of it;
- level: the mean of each forecast season within the range of the history's season means, its recent level
  (median of the last RECENT_HOURS hours) and a persisted shift's new level, widened by LEVEL_MARGIN of that
  range (or of a tenth of the robust range, when it barely moves);
- width: the median 95% band no wider than WIDTH_FACTOR x the robust range;
- jump: the first forecast hour no further from the recent level (so that a spike in the last hours is
  forecast away, not followed) or from a persisted shift's new level than the history ever moved between
  consecutive hours at that time of day, plus JUMP_MOVES typical hour-to-hour moves.
A forecast that breaks one of them is replaced by the next candidate (the best-behaved member, then seasonal
naive); the reasons go to Forecast.params["guard"]. Before the members are combined, each one with weight is held
to the range and level rules on its own (runaways()) and left out of the combination when it breaks them.

level_shift() is the one correction the guard makes instead of a replacement: a shift that has persisted for a
third of an hour or 3 steps, whichever is longer (every point of it beyond the earlier range, so a spike of a few
minutes never qualifies).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

RECENT_SEASONS = 28  # the envelope is measured on up to this many recent seasons
RANGE_MARGIN = 1.0
LEVEL_MARGIN = 1.0
WIDTH_FACTOR = 2.0
JUMP_MOVES = 6.0
RECENT_HOURS = 6  # its median ignores a spike of up to 2 hours; longer ones are a shift or part of the level
SHIFT_MOVES = 10.0  # persisted last steps this many typical hourly moves beyond all earlier hours are a shift
SHIFT_MIN_STEPS = 3


@dataclass(frozen=True)
class Envelope:
    """What the recent history supports, in the series' own units and steps."""

    low: float  # robust range
    high: float
    level_low: float  # range of season means
    level_high: float
    season_length: int
    block: int  # steps per hour (1 for hourly and coarser data)
    last_level: float  # mean of the last hour
    recent_level: float  # median of the last RECENT_HOURS hourly means
    shifted_to: float | None  # the new level when the history ends in a persisted shift (persisted_level)
    jump_allowed: float

    @property
    def span(self) -> float:
        return self.high - self.low


def envelope(history: np.ndarray, season_length: int, block: int) -> Envelope:
    """The envelope of the last RECENT_SEASONS seasons of history (finite values only)."""
    values = np.asarray(history, dtype=np.float64)[-RECENT_SEASONS * season_length :]
    values = values[np.isfinite(values)]
    low, high = (float(q) for q in np.quantile(values, [0.001, 0.999]))
    scale = max(high - low, 1e-9 * max(1.0, abs(float(np.median(values)))))
    seasons = values.size // season_length
    hours = _block_means(values, block)
    recent_level = float(np.median(hours[-RECENT_HOURS:]))
    shifted_to = persisted_level(values, block)
    levels = [recent_level] if shifted_to is None else [recent_level, shifted_to]
    if seasons >= 1:
        levels += list(values[values.size - seasons * season_length :].reshape(seasons, season_length).mean(axis=1))
    else:
        levels.append(float(values.mean()))
    level_low, level_high = float(min(levels)), float(max(levels))
    moves = np.abs(np.diff(hours)) if hours.size > 1 else np.zeros(1)
    typical = float(np.median(moves)) if moves.size else 0.0
    per_day = max(season_length // block, 1)
    # the largest hour-to-hour move seen at the origin's time of day, on earlier days
    same_phase = moves[moves.size - per_day :: -per_day] if moves.size >= per_day else moves
    seen = float(same_phase.max()) if same_phase.size else 0.0
    return Envelope(
        low=low,
        high=high,
        level_low=level_low,
        level_high=level_high,
        season_length=season_length,
        block=block,
        last_level=float(hours[-1]),
        recent_level=recent_level,
        shifted_to=shifted_to,
        jump_allowed=seen + JUMP_MOVES * max(typical, 1e-3 * scale),
    )


def check(env: Envelope, mean: np.ndarray, lower95: np.ndarray | None, upper95: np.ndarray | None) -> list[str]:
    """The rules a forecast breaks (empty when it is fine), each as a short reason with the numbers."""
    reasons = out_of_range(env, mean)
    span = max(env.span, 1e-9)
    if lower95 is not None and upper95 is not None:
        width = float(np.median(upper95 - lower95))
        if width > WIDTH_FACTOR * span:
            reasons.append(f"width: median 95% band {width:.4g} wide, history's robust range {span:.4g}")
    first = float(np.mean(mean[: env.block]))
    references = [env.recent_level] if env.shifted_to is None else [env.recent_level, env.shifted_to]
    if min(abs(first - level) for level in references) > env.jump_allowed:
        reasons.append(
            f"jump: first hour {first:.4g} after a last hour of {env.last_level:.4g} (median of the last "
            f"{RECENT_HOURS} hours {env.recent_level:.4g}), history supports a move of {env.jump_allowed:.4g}"
        )
    return reasons


def out_of_range(env: Envelope, mean: np.ndarray) -> list[str]:
    """The range and level rules a forecast's mean breaks: where it goes, not how it starts (the jump rule) nor
    its bands (the width rule); a member that breaks them is left out of the combination (runaways)."""
    reasons: list[str] = []
    span = max(env.span, 1e-9)
    lo_ok, hi_ok = env.low - RANGE_MARGIN * span, env.high + RANGE_MARGIN * span
    if mean.min() < lo_ok or mean.max() > hi_ok:
        reasons.append(
            f"range: mean reaches {mean.min():.4g}..{mean.max():.4g}, history's robust range is "
            f"{env.low:.4g}..{env.high:.4g}"
        )
    margin = LEVEL_MARGIN * max(env.level_high - env.level_low, 0.1 * span)
    m = env.season_length
    for start in range(0, mean.size, m):
        level = float(mean[start : start + m].mean())
        if level < env.level_low - margin or level > env.level_high + margin:
            reasons.append(
                f"level: forecast season mean {level:.4g}, history's season means "
                f"{env.level_low:.4g}..{env.level_high:.4g}"
            )
            break
    return reasons


def runaways(forecasts: Mapping[str, np.ndarray], weights: Mapping[str, float], env: Envelope) -> dict[str, list[str]]:
    """Members with weight whose own forecast breaks the range or level rule (a recursive network that feeds a
    burst back into itself, a trend run away), with the reasons: the ensemble leaves them out of today's
    combination, unless none with weight would remain (then the combination is judged as it is)."""
    weighted = [n for n in forecasts if weights.get(n, 0.0) > 0.0]
    broken = {n: reasons for n in weighted if (reasons := out_of_range(env, forecasts[n]))}
    return broken if len(broken) < len(weighted) else {}


def persisted_level(history: np.ndarray, per_hour: int) -> float | None:
    """The new level when the history ends in a persisted shift, else None.

    A shift persists when every point of the last third of an hour (at least SHIFT_MIN_STEPS steps) lies beyond
    the range of every earlier hourly mean by more than SHIFT_MOVES typical hour-to-hour moves; the new level is
    their median. A spike of a few minutes leaves some of them inside the range.
    """
    recent = _tail_steps(per_hour)
    means = _block_means(history[: len(history) - recent], max(per_hour, SHIFT_MIN_STEPS))
    if means.size < 2:
        return None
    tail = history[-recent:]
    step = float(np.median(np.abs(np.diff(means))))
    above = float(tail.min()) - float(means.max())
    below = float(means.min()) - float(tail.max())
    if max(above, below) <= SHIFT_MOVES * step:  # some point inside the range, or just beyond it
        return None
    return float(np.median(tail))


def level_shift(history: np.ndarray, mean: np.ndarray, per_hour: int) -> float | None:
    """The intercept correction for a persisted shift at the end of history (persisted_level), or None.

    The members learn from hours of history; a shift in the last hour (a service moved away, a fleet scaled in)
    reaches them as one point. The forecast is moved so that its first hour starts from the new level.
    """
    level = persisted_level(history, per_hour)
    if level is None:
        return None
    return level - float(np.mean(mean[: max(per_hour, SHIFT_MIN_STEPS)]))


def _tail_steps(per_hour: int) -> int:
    """The last steps a persisted shift must fill: a third of an hour, at least SHIFT_MIN_STEPS."""
    return max(per_hour // 3, SHIFT_MIN_STEPS)


def _block_means(values: np.ndarray, block: int) -> np.ndarray:
    blocks = len(values) // block
    if blocks == 0:
        return np.asarray(values, dtype=np.float64)
    return np.asarray(values[len(values) - blocks * block :], dtype=np.float64).reshape(blocks, block).mean(axis=1)
