"""Rule kinds: each checks stored forecasts, costs, anomalies or source status and returns its current findings.

A finding is a subject (a series, a cost series, a source) for which the rule's condition holds now; the state
machine (services.alerting.state) turns findings into pending, firing and resolved alerts.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import numpy as np
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from services.alerting.params import (
    AutoscalingMaxParams,
    BudgetParams,
    CapacityParams,
    CostAnomalyParams,
    GrowthParams,
    MetricAnomalyParams,
    RunwayParams,
    SourceSilentParams,
)
from services.costs.cost_series import COST_PROVIDER, COST_STAT, COST_TOTAL, cost_series_ids, daily_costs
from services.db.models import (
    AnomalyRow,
    ForecastPointRow,
    ForecastRow,
    RecommendationRow,
    ResourceRow,
    SourceStatusRow,
)
from services.forecasting.training import latest_forecast


@dataclass
class Finding:
    subject: str
    summary: str
    value: float | None
    labels: dict[str, str] = field(default_factory=dict)


@dataclass
class RuleView:
    """What evaluation needs of a rule, whether it comes from the database or the config."""

    name: str
    kind: str
    params: dict[str, Any]
    scope: dict[str, Any]


def _resource_matches(res: ResourceRow | None, scope: dict[str, Any]) -> bool:
    if not any(scope.get(k) for k in ("provider", "account", "environment", "tags")):
        return True
    if res is None:
        return False
    for key in ("provider", "account", "environment"):
        if scope.get(key) and getattr(res, key) != scope[key]:
            return False
    return all(res.tags.get(k) == v for k, v in (scope.get("tags") or {}).items())


class Point(NamedTuple):
    ts: datetime
    mean: float
    hi80: float | None


def _metric_forecasts(
    session: Session, rule: RuleView, metric: str, stat: str
) -> list[tuple[list[Point], dict[str, str]]]:
    """The points of the newest forecast of every series of `metric` in the rule's scope, with labels.

    Three queries for the whole fleet (forecasts, resources, points) rather than one per series."""
    newest = (
        select(ForecastRow.series_id, func.max(ForecastRow.as_of).label("as_of"))
        .where(ForecastRow.series_id.like(f"%/{metric}"), ForecastRow.stat == stat)
        .group_by(ForecastRow.series_id)
        .subquery()
    )
    forecasts = session.execute(
        select(ForecastRow.id, ForecastRow.series_id)
        .join(newest, and_(ForecastRow.series_id == newest.c.series_id, ForecastRow.as_of == newest.c.as_of))
        .where(ForecastRow.stat == stat)
        .order_by(ForecastRow.series_id)
    ).all()
    resources = {r.resource_id: r for r in session.scalars(select(ResourceRow))}
    chosen: dict[int, dict[str, str]] = {}
    for forecast_id, series_id in forecasts:
        resource_id = series_id.rsplit("/", 1)[0]
        res = resources.get(resource_id)
        if not _resource_matches(res, rule.scope):
            continue
        labels = {"series_id": series_id, "resource_id": resource_id, "metric": metric}
        if res is not None:
            labels |= {"provider": res.provider, "account": res.account, "environment": res.environment,
                       "resource": res.name}
        chosen[forecast_id] = labels
    points: dict[int, list[Point]] = {i: [] for i in chosen}
    ids = list(chosen)
    for batch in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        query = (select(ForecastPointRow.forecast_id, ForecastPointRow.ts, ForecastPointRow.mean, ForecastPointRow.hi80)
                 .where(ForecastPointRow.forecast_id.in_(batch)).order_by(ForecastPointRow.forecast_id,
                                                                         ForecastPointRow.ts))
        for forecast_id, ts, mean, hi80 in session.execute(query):
            points[forecast_id].append(Point(ts, mean, hi80))
    return [(points[i], labels) for i, labels in chosen.items() if points[i]]


def _path(points: list[Point], quantile: str) -> np.ndarray:
    """The mean path (p50) or the upper edge of the 80% band (p90: a 10% chance of being higher)."""
    if quantile == "p90":
        return np.array([p.hi80 if p.hi80 is not None else p.mean for p in points], dtype=float)
    return np.array([p.mean for p in points], dtype=float)


def _future(points: list[Point], now: datetime, until: datetime | None = None) -> list[Point]:
    return [p for p in points if p.ts >= now - timedelta(hours=1) and (until is None or p.ts <= until)]


def eval_capacity(session: Session, rule: RuleView, now: datetime) -> list[Finding]:
    p = CapacityParams.model_validate(rule.params)
    found = []
    for forecast, labels in _metric_forecasts(session, rule, p.metric, p.stat):
        points = _future(forecast, now, now + timedelta(days=p.horizon_days))
        path = _path(points, p.quantile)
        hits = np.nonzero(path >= p.threshold)[0]
        if len(hits):
            at = points[int(hits[0])].ts
            days = max(0.0, (at - now).total_seconds() / 86400)
            found.append(Finding(labels["series_id"], f"{p.metric} reaches {p.threshold:g} at {p.quantile} in "
                                 f"{days:.1f} days ({at:%Y-%m-%d %H:%M} UTC); peak {path.max():.1f}",
                                 float(path.max()), labels))
    return found


def _crossing_days(points: list[Point], path: np.ndarray, threshold: float, now: datetime) -> float | None:
    """Days until path reaches threshold: inside the forecast, else by extending its least-squares trend."""
    days = np.array([(p.ts - now).total_seconds() / 86400 for p in points])
    hits = np.nonzero(path >= threshold)[0]
    if len(hits):
        return max(0.0, float(days[hits[0]]))
    if len(days) < 2:
        return None
    slope, intercept = np.polyfit(days, path, 1)
    if slope <= 0:
        return None
    return max(0.0, float((threshold - intercept) / slope))


def eval_runway(session: Session, rule: RuleView, now: datetime) -> list[Finding]:
    p = RunwayParams.model_validate(rule.params)
    if p.source == "recommendations":
        return _runway_recommendations(session, rule, p)
    found = []
    for forecast, labels in _metric_forecasts(session, rule, p.metric, p.stat):
        points = _future(forecast, now)
        days = _crossing_days(points, _path(points, p.quantile), p.threshold, now)
        if days is not None and days < p.lead_time_days:
            found.append(Finding(labels["series_id"], f"runway {days:.1f} days at {p.quantile} to {p.metric} "
                                 f"{p.threshold:g}, shorter than the {p.lead_time_days:g}-day lead time", days, labels))
    return found


def _open_recommendations(session: Session, kind: str) -> list[tuple[RecommendationRow, ResourceRow | None]]:
    """Open recommendations of `kind` with their resource (None for groups and budgets), by resource key."""
    query = (
        select(RecommendationRow, ResourceRow)
        .outerjoin(ResourceRow, ResourceRow.id == RecommendationRow.resource_pk)
        .where(RecommendationRow.kind == kind, RecommendationRow.status == "open")
        .order_by(RecommendationRow.resource_key)
    )
    return [(rec, res) for rec, res in session.execute(query)]


def _runway_recommendations(session: Session, rule: RuleView, p: RunwayParams) -> list[Finding]:
    """Open runway recommendations of `metric` whose P50/P90 days are shorter than the rule's lead time."""
    found = []
    for rec, res in _open_recommendations(session, "runway"):
        metric = str(rec.current.get("metric", ""))
        days = rec.proposed.get("p90_days" if p.quantile == "p90" else "p50_days")
        if metric != p.metric or days is None or days >= p.lead_time_days:
            continue
        if not _resource_matches(res, rule.scope):  # groups and budgets have no resource: only unscoped rules
            continue
        labels = {"resource_key": rec.resource_key, "metric": metric, "recommendation_id": str(rec.id)}
        found.append(Finding(f"{rec.resource_key}/{metric}", f"runway {days:.1f} days at {p.quantile} to {metric} "
                             f"{rec.current.get('threshold')}, shorter than the {p.lead_time_days:g}-day lead time "
                             f"({rec.proposed.get('method', '')})", float(days), labels))
    return found


def eval_growth(session: Session, rule: RuleView, now: datetime) -> list[Finding]:
    """Projected growth of the forecast mean over window_days (daily means at the start and at the window's end)."""
    p = GrowthParams.model_validate(rule.params)
    found = []
    for forecast, labels in _metric_forecasts(session, rule, p.metric, "mean"):
        points = _future(forecast, now)
        if len(points) < 48:
            continue
        first = float(np.mean([x.mean for x in points[:24]]))
        end = min(len(points), 24 + int(p.window_days * 24))
        last = float(np.mean([x.mean for x in points[end - 24:end]]))
        span_days = (points[end - 1].ts - points[23].ts).total_seconds() / 86400
        if first <= 0 or span_days <= 0:
            continue
        growth = (last / first - 1) * 100 * (p.window_days / span_days if span_days < p.window_days else 1.0)
        if growth > p.percent:
            found.append(Finding(labels["series_id"], f"{p.metric} forecast to grow {growth:.0f}% over "
                                 f"{p.window_days:g} days (limit {p.percent:g}%)", growth, labels))
    return found


def _cost_series(session: Session, scope: dict[str, Any]) -> list[str]:
    ids = cost_series_ids(session)
    if scope.get("provider"):
        return [i for i in ids if i == f"{COST_PROVIDER}{scope['provider']}"]
    return [i for i in ids if i == COST_TOTAL]


def eval_cost_anomaly(session: Session, rule: RuleView, now: datetime) -> list[Finding]:
    """Actual daily cost (cost_records) against the stored daily-cost forecast of the same day."""
    p = CostAnomalyParams.model_validate(rule.params)
    found = []
    for series_id in _cost_series(session, rule.scope):
        fc = latest_forecast(session, series_id, COST_STAT)
        if fc is None:
            continue
        start = (now - timedelta(days=p.lookback_days)).date()
        # the newest charge day may still be filling: it can show a spike (a partial sum only grows) but a
        # drop below the band counts only on settled days
        actual = daily_costs(session, series_id, start=start, end=now.date(), settled=False)
        newest = actual.index[-1] if len(actual) else None
        predicted = {pt.ts.date(): pt for pt in fc.points}
        for ts, cost in actual.sort_index(ascending=False).items():
            pt = predicted.get(ts.date())
            if pt is None:
                continue
            hi = pt.hi95 if p.band == 95 else pt.hi80
            lo = pt.lo95 if p.band == 95 else pt.lo80
            over = cost > p.ratio * pt.mean
            below = lo is not None and cost < lo and ts != newest
            outside = (hi is not None and cost > hi) or below
            if over or outside:
                why = f"{cost / pt.mean:.0%} of the predicted {pt.mean:.2f}" if pt.mean > 0 else "no cost predicted"
                band = f", {p.band}% band {lo or 0:.2f}–{hi or 0:.2f}" if hi is not None else ""
                found.append(Finding(series_id, f"daily cost {cost:.2f} on {ts:%Y-%m-%d} is {why}{band}",
                                     float(cost), {"series_id": series_id, "day": f"{ts:%Y-%m-%d}"}))
            break  # only the newest day that has a prediction decides
    return found


def eval_budget(session: Session, rule: RuleView, now: datetime) -> list[Finding]:
    """Month-to-date actual cost plus the forecast of the remaining days of the month, against the budget."""
    p = BudgetParams.model_validate(rule.params)
    today = now.date()
    month_start = today.replace(day=1)
    month_end = today.replace(day=calendar.monthrange(today.year, today.month)[1])
    found = []
    for series_id in _cost_series(session, rule.scope):
        last_actual = daily_costs(session, series_id, start=month_start, end=today, settled=False)  # spent is spent
        spent = float(last_actual.sum())
        last_day = last_actual.index[-1].date() if len(last_actual) else month_start - timedelta(days=1)
        fc = latest_forecast(session, series_id, COST_STAT)
        rest = sum(pt.mean for pt in fc.points if last_day < pt.ts.date() <= month_end) if fc else 0.0
        total = spent + rest
        if total > p.monthly_budget:
            found.append(Finding(series_id, f"month-end spend forecast {total:.2f} ({spent:.2f} so far) exceeds the "
                                 f"budget {p.monthly_budget:.2f}", total, {"series_id": series_id,
                                                                          "month": f"{month_start:%Y-%m}"}))
    return found


def eval_metric_anomaly(session: Session, rule: RuleView, now: datetime) -> list[Finding]:
    """Open metric anomalies (the anomalies table, written by forecasting) of series in scope."""
    p = MetricAnomalyParams.model_validate(rule.params)
    query = select(AnomalyRow).where(AnomalyRow.kind == "metric", AnomalyRow.status == "open",
                                     AnomalyRow.score >= p.min_score)
    resources = {r.resource_id: r for r in session.scalars(select(ResourceRow))}
    found = []
    for row in session.scalars(query.order_by(AnomalyRow.series_id)):
        resource_id, _, metric = row.series_id.rpartition("/")
        if (p.metric and metric != p.metric) or not _resource_matches(resources.get(resource_id), rule.scope):
            continue
        found.append(Finding(row.series_id, f"{metric} {row.actual:.4g} at {row.peak_at:%Y-%m-%d %H:%M} UTC, expected "
                             f"{row.expected:.4g} ({row.score:.1f} σ)", row.actual,
                             {"series_id": row.series_id, "resource_id": resource_id, "metric": metric}))
    return found


def eval_source_silent(session: Session, rule: RuleView, now: datetime) -> list[Finding]:
    p = SourceSilentParams.model_validate(rule.params)
    limit = now - timedelta(minutes=p.max_silence_minutes)
    found = []
    for row in session.scalars(select(SourceStatusRow).order_by(SourceStatusRow.source)):
        if rule.scope.get("provider") and row.source != rule.scope["provider"]:
            continue
        if row.last_success_at is None or row.last_success_at < limit:
            since = f"since {row.last_success_at:%Y-%m-%d %H:%M} UTC" if row.last_success_at else "ever"
            minutes = (now - row.last_success_at).total_seconds() / 60 if row.last_success_at else None
            error = f"; last error: {row.last_error[:200]}" if row.last_error else ""
            found.append(Finding(f"source:{row.source}", f"no successful collection {since}{error}", minutes,
                                 {"source": row.source}))
    return found


def eval_autoscaling_max(session: Session, rule: RuleView, now: datetime) -> list[Finding]:
    """Open `autoscaling` recommendations whose 48-hour plan needs the group's maximum size (less the margin)."""
    p = AutoscalingMaxParams.model_validate(rule.params)
    found = []
    for rec, res in _open_recommendations(session, "autoscaling"):
        peak, max_size = rec.proposed.get("peak_instances_48h"), rec.proposed.get("max_size")
        if peak is None or max_size is None or peak + p.margin_instances < max_size:
            continue
        if not _resource_matches(res, rule.scope):
            continue
        labels = {"resource_key": rec.resource_key, "recommendation_id": str(rec.id)}
        found.append(Finding(f"{rec.resource_key}/max_size", f"the next 48 hours need {peak} instances; the group's "
                             f"maximum size is {max_size}: raise it before the load arrives", float(peak), labels))
    return found


EVALUATORS: dict[str, Callable[[Session, RuleView, datetime], list[Finding]]] = {
    "capacity": eval_capacity, "runway": eval_runway, "growth": eval_growth, "cost_anomaly": eval_cost_anomaly,
    "budget": eval_budget, "metric_anomaly": eval_metric_anomaly, "source_silent": eval_source_silent,
    "autoscaling_max": eval_autoscaling_max,
}
