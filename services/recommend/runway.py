"""Capacity runway: P50 and P90 days until a resource or group crosses a threshold (CPU, memory, disk, quota, budget).

From a forecast, P50 is where the mean path crosses the threshold and P90 where the upper edge of the 80%
interval does (that edge is the 90th-percentile path, so there is a 10% chance of crossing sooner). Without a
forecast, a least-squares line through recent history is extrapolated: P50 from the line, P90 from the upper edge
of its 80% prediction interval. Runways shorter than the procurement lead time are flagged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from statistics import NormalDist

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field

from ml_engine.base import Forecast
from services.recommend.base import Evidence, Recommendation, Skipped
from services.recommend.routine import counting, hours_text, routine_profile, sustained_level
from services.recommend.window import as_utc_series, lookback

DAY = pd.Timedelta(days=1)


class RunwaySettings(BaseModel):
    """Thresholds per metric, the procurement lead time and the trend fallback."""

    thresholds: dict[str, float] = Field(
        default_factory=lambda: {"cpu_utilization": 80.0, "memory_utilization": 90.0, "disk_utilization": 100.0},
        description="Threshold per metric, in the metric's unit (percent for utilisation).",
    )
    lead_time_days: float = Field(30.0, ge=0.0, le=730.0, description="Procurement lead time; shorter runways flag.")
    interval_level: int = Field(80, ge=50, le=99, description="Forecast band whose upper edge gives P90 (80 -> p90).")
    trend_lookback_days: float = Field(30.0, ge=1.0, le=365.0, description="History used by the trend fallback.")
    min_history_hours: float = Field(48.0, ge=2.0, description="Least history the trend fallback needs.")
    max_horizon_days: float = Field(730.0, ge=1.0, le=3650.0, description="How far the trend is extrapolated.")
    routine_lookback_days: float = Field(
        28.0, ge=2.0, le=365.0, description="History that tells a routine daily peak from growth (routine.py)."
    )
    routine_min_days: int = Field(
        8, ge=2, le=365, description="Fewest days of history before a daily peak can count as routine."
    )


def capacity_runway(
    *,
    resource_id: str,
    metric: str,
    history: pd.Series | None = None,
    forecast: Forecast | None = None,
    threshold: float | None = None,
    now: datetime | None = None,
    settings: RunwaySettings | None = None,
) -> Recommendation | Skipped:
    """P50/P90 days until `metric` reaches its threshold, from `forecast` when given, else from history's trend."""
    s = settings or RunwaySettings()
    limit = threshold if threshold is not None else s.thresholds.get(metric)
    if limit is None:
        return Skipped(resource_id, "runway", f"no threshold for {metric}: set one in runway.thresholds")
    hist = as_utc_series(history) if history is not None else None
    start = _now(now, hist, forecast)
    current = float(hist.iloc[-1]) if hist is not None and len(hist) else None
    if forecast is not None and s.interval_level in forecast.upper:
        days = ((forecast.mean.index - start) / DAY).to_numpy(dtype=np.float64)
        horizon = float(days[-1]) if len(days) else 0.0
        mean, upper = _without_routine_peaks(hist, forecast.mean, forecast.upper[s.interval_level], limit, start, s)
        routine_now = current is not None and current >= limit and not mean.now_counts
        p50 = _crossing(days, mean.path, limit, None if routine_now else current)
        p90 = _crossing(days, upper.path, limit, None if routine_now else current)
        routine = sorted(set(mean.routine_hours) | set(upper.routine_hours))
        method = f"forecast ({forecast.model}): mean for P50, upper {s.interval_level}% band for P90"
        coverage_hours = float(len(hist)) * _step_hours(hist) if hist is not None else 0.0
        ratio = 1.0
    elif hist is not None:
        window = lookback(hist, days=s.trend_lookback_days, end=start + pd.Timedelta(microseconds=1))
        if window.coverage_hours < s.min_history_hours:
            return Skipped(
                resource_id,
                "runway",
                f"not enough history for a trend: {window.coverage_hours:.0f} hours (need {s.min_history_hours:g}) "
                "and no forecast",
            )
        p50, p90, current = _trend(window.values, start, limit, s)
        horizon = s.max_horizon_days
        method = f"linear trend over the last {s.trend_lookback_days:g} days (no forecast)"
        coverage_hours, ratio = window.coverage_hours, window.coverage_ratio
        routine = []
    else:
        return Skipped(resource_id, "runway", f"neither history nor a forecast with a {s.interval_level}% band")
    return _recommendation(
        resource_id, metric, limit, current, p50, p90, horizon, method, start, coverage_hours, ratio, s, routine
    )


def group_runway(
    *,
    group_id: str,
    metric: str,
    histories: Mapping[str, pd.Series],
    capacities: Mapping[str, float] | None = None,
    forecasts: Mapping[str, Forecast] | None = None,
    threshold: float | None = None,
    now: datetime | None = None,
    settings: RunwaySettings | None = None,
) -> Recommendation | Skipped:
    """Runway of a group's capacity-weighted utilisation (equal weights without capacities).

    With forecasts for every member, the group's upper band is the weighted sum of the members' upper bands,
    which assumes they move together: a conservative (early) P90.
    """
    if not histories:
        return Skipped(group_id, "runway", "the group has no members with history")
    weights = pd.Series({rid: (capacities or {}).get(rid, 1.0) for rid in histories}, dtype=np.float64)
    weights = weights / weights.sum()

    def weighted(series: Mapping[str, pd.Series]) -> pd.Series:
        frame = pd.concat(dict(series), axis=1).dropna()
        return frame.mul(weights[frame.columns], axis=1).sum(axis=1)

    history = weighted({rid: as_utc_series(h) for rid, h in histories.items()})
    forecast = None
    s = settings or RunwaySettings()
    if forecasts and all(rid in forecasts and s.interval_level in forecasts[rid].upper for rid in histories):
        mean = weighted({rid: forecasts[rid].mean for rid in histories})
        upper = weighted({rid: forecasts[rid].upper[s.interval_level] for rid in histories})
        forecast = Forecast(model="group", mean=mean, upper={s.interval_level: upper})
    return capacity_runway(
        resource_id=group_id,
        metric=metric,
        history=history,
        forecast=forecast,
        threshold=threshold,
        now=now,
        settings=s,
    )


def budget_runway(
    *,
    scope: str,
    daily_spend: pd.Series,
    budget: float,
    period_start: date,
    forecast: Forecast | None = None,
    now: datetime | None = None,
    settings: RunwaySettings | None = None,
) -> Recommendation | Skipped:
    """Days until cumulative spend since `period_start` reaches `budget` (a forecast of daily spend if given).

    Summing the daily upper band gives a conservative P90 (it assumes every day is high together).
    """
    spend = as_utc_series(daily_spend)
    spend = spend[spend.index >= pd.Timestamp(period_start, tz="UTC")]
    cumulative = spend.cumsum()
    spent = float(cumulative.iloc[-1]) if len(cumulative) else 0.0
    s = settings or RunwaySettings()
    if forecast is not None and s.interval_level in forecast.upper:
        forecast = Forecast(
            model=forecast.model,
            mean=spent + forecast.mean.cumsum(),
            upper={s.interval_level: spent + forecast.upper[s.interval_level].cumsum()},
        )
    return capacity_runway(
        resource_id=scope, metric="budget", history=cumulative, forecast=forecast, threshold=budget, now=now, settings=s
    )


def _now(now: datetime | None, hist: pd.Series | None, forecast: Forecast | None) -> pd.Timestamp:
    if now is not None:
        stamp = pd.Timestamp(now)
        return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    if hist is not None and len(hist):
        return pd.Timestamp(hist.index[-1])
    if forecast is not None and len(forecast.mean) > 1:
        index = forecast.mean.index
        return pd.Timestamp(index[0] - (index[1] - index[0]))
    return pd.Timestamp.now(tz="UTC")


@dataclass(frozen=True)
class _Path:
    path: np.ndarray  # the forecast path with its routine crossings held just below the threshold
    routine_hours: list[int]  # UTC hours at which the path crossed the threshold on a peak that has not grown
    now_counts: bool  # whether the latest sample, if over the threshold, is more than a routine peak


def _without_routine_peaks(
    hist: pd.Series | None, mean: pd.Series, upper: pd.Series, limit: float, start: pd.Timestamp, s: RunwaySettings
) -> tuple[_Path, _Path]:
    """The mean and upper paths with the crossings that the history shows are routine daily peaks set aside
    (services/recommend/routine.py): a crossing counts when the level grows, not when a peak recurs."""
    profile = routine_profile(hist, start, s.routine_lookback_days, s.routine_min_days) if hist is not None else None
    empty = pd.Series(dtype=np.float64, index=pd.DatetimeIndex([], tz="UTC"))
    past = hist if hist is not None else empty
    hours = np.asarray(mean.index.hour, dtype=np.int64)
    mean_values = mean.to_numpy(dtype=np.float64)
    below = float(np.nextafter(limit, -np.inf))
    now_counts = True
    if profile is not None and len(past):
        last = past[past.index > start - DAY]
        now_hour = np.asarray([pd.Timestamp(past.index[-1]).hour])
        now_counts = bool(
            counting(profile, limit, now_hour, past.to_numpy()[-1:], np.asarray([float(last.median())]))[0]
        )
    out = []
    for path in (mean, upper):
        values = path.to_numpy(dtype=np.float64)
        counts = counting(profile, limit, hours, mean_values, sustained_level(past, path))
        set_aside = ~counts & (values >= limit)
        out.append(_Path(np.where(set_aside, below, values), sorted({int(h) for h in hours[set_aside]}), now_counts))
    return out[0], out[1]


def _step_hours(hist: pd.Series) -> float:
    return float(np.median(np.diff(hist.index.asi8)) / 3.6e12) if len(hist) > 1 else 1.0


def _crossing(days: np.ndarray, path: np.ndarray, limit: float, current: float | None) -> float | None:
    """First time (days, linearly interpolated) `path` reaches `limit`, starting from `current` at day 0 (never
    before it: a forecast made a little before now starts in the past)."""
    if current is not None and current >= limit:
        return 0.0
    if current is not None:  # the latest sample stands for now: forecast points before it are dropped
        ahead = days > 0.0
        days, path = np.concatenate(([0.0], days[ahead])), np.concatenate(([current], path[ahead]))
    above = np.flatnonzero(path >= limit)
    if len(above) == 0:
        return None
    i = int(above[0])
    if i == 0:
        return max(0.0, float(days[0]))
    d0, d1, v0, v1 = days[i - 1], days[i], path[i - 1], path[i]
    return float(d0 + (limit - v0) / (v1 - v0) * (d1 - d0))


def _trend(values: pd.Series, now: pd.Timestamp, limit: float, s: RunwaySettings) -> tuple[float | None, ...]:
    """P50 and P90 days from a least-squares line and its prediction interval; also the fitted value now."""
    x = ((values.index - now) / DAY).to_numpy(dtype=np.float64)
    y = values.to_numpy(dtype=np.float64)
    n, mean_x = len(x), float(x.mean())
    sxx = float(((x - mean_x) ** 2).sum())
    slope = float(((x - mean_x) * (y - y.mean())).sum() / sxx) if sxx > 0 else 0.0
    level = float(y.mean() - slope * mean_x)  # the fitted value now (x = 0)
    sigma = float(np.sqrt(((y - level - slope * x) ** 2).sum() / max(n - 2, 1)))
    z = NormalDist().inv_cdf(0.5 + s.interval_level / 200.0)
    grid = np.linspace(0.0, s.max_horizon_days, int(s.max_horizon_days * 24) + 1)
    upper = level + slope * grid + z * sigma * np.sqrt(1.0 + 1.0 / n + (grid - mean_x) ** 2 / max(sxx, 1e-12))
    p50: float | None
    if level >= limit:
        p50 = 0.0
    elif slope <= 0:
        p50 = None
    else:
        p50 = (limit - level) / slope
        p50 = p50 if p50 <= s.max_horizon_days else None
    return p50, _crossing(grid, upper, limit, None), level


def _recommendation(
    rid: str,
    metric: str,
    limit: float,
    current: float | None,
    p50: float | None,
    p90: float | None,
    horizon: float,
    method: str,
    now: pd.Timestamp,
    coverage_hours: float,
    ratio: float,
    s: RunwaySettings,
    routine_hours: list[int],
) -> Recommendation:
    lead = s.lead_time_days

    def text(days: float | None) -> str:
        if days is None:
            return f"beyond {horizon:.0f} days"
        return f"in {days:.1f} days ({(now + days * DAY).date().isoformat()})"

    reasons = [
        f"{metric} is at {current:.2f}, threshold {limit:g}." if current is not None else f"Threshold {limit:g}.",
        f"Method: {method}.",
        f"P50: the threshold is reached {text(p50)}; P90 (10% chance of sooner): {text(p90)}.",
    ]
    if routine_hours:
        reasons.append(
            f"At {hours_text(routine_hours)} UTC the forecast crosses {limit:g} on a daily peak that has not grown "
            f"beyond its usual level at that hour over the last {s.routine_lookback_days:g} days: a recurring peak, "
            "not counted as running out."
        )
    flagged = p90 is not None and p90 < lead
    if flagged:
        reasons.append(f"That is within the {lead:g}-day procurement lead time: order capacity now.")
    else:
        reasons.append(f"Longer than the {lead:g}-day procurement lead time.")
    risk = 4 if p50 is not None and p50 < lead else 3 if flagged else 1 if p90 is not None and p90 < 2 * lead else 0
    return Recommendation(
        kind="runway",
        resource_id=rid,
        finding="at_risk" if flagged else "optimized",
        title=f"{metric} reaches {limit:g} {text(p50)}" if p50 is not None else f"{metric} stays below {limit:g}",
        evidence=Evidence(
            coverage_hours=round(coverage_hours, 2),
            coverage_ratio=round(ratio, 4),
            percentile=f"P50 and P90 ({s.interval_level}% band upper edge)",
            observed={"current": round(current, 4)} if current is not None else {},
            risk=risk,
            reasons=reasons,
        ),
        current={"metric": metric, "value": current, "threshold": limit},
        proposed={
            "p50_days": None if p50 is None else round(p50, 4),
            "p90_days": None if p90 is None else round(p90, 4),
            "method": "forecast" if method.startswith("forecast") else "trend",
            "horizon_days": round(horizon, 2),
            "lead_time_days": lead,
            "flagged": flagged,
            "routine_hours": routine_hours,
        },
    )
