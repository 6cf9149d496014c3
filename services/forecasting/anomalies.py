"""Anomaly detection: actuals outside their forecast's 95% band, merged into incidents so one incident is one record.

Metric series are checked on the hourly mean, cost series on the daily cost. Each observed step is compared
with the freshest stored forecast covering it. Anomalous steps at most `anomaly_merge_gap_steps` apart are one
incident (start, end, peak, expected, score); an incident stays `open` while its series is still anomalous at
the newest observed step, and the refresh extends a stored incident instead of opening another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.costs.cost_series import COST_STAT, is_cost_series
from services.db.engine import session_scope
from services.db.models import AnomalyRow, ForecastPointRow, ForecastRow, utcnow
from services.forecasting.accuracy import read_actuals, score_forecasts
from services.metrics import open_metric_store
from services.metrics.base import MetricStore
from services.settings import Settings, TrainingSettings

Z95 = 1.959963984540054  # the 95% band is mean ± Z95 standard deviations


@dataclass(frozen=True)
class Incident:
    started_at: datetime
    ended_at: datetime
    peak_at: datetime
    actual: float
    expected: float
    lower: float | None
    upper: float | None
    score: float
    points: int
    open: bool


def find_incidents(frame: pd.DataFrame, *, step_seconds: int, merge_gap_steps: int) -> list[Incident]:
    """Incidents in frame (index ts, ascending; columns actual, mean, lo95, hi95): steps with actual outside
    [lo95, hi95], merged when at most merge_gap_steps steps apart. The score of a step is |actual - mean| in the
    standard deviations the band implies; an incident's peak is its highest-scoring step; it is open when it
    reaches the last step of frame (within the gap)."""
    frame = frame.dropna(subset=["actual", "mean", "lo95", "hi95"])
    if frame.empty:
        return []
    outside = (frame["actual"] > frame["hi95"]) | (frame["actual"] < frame["lo95"])
    sigma = (frame["hi95"] - frame["lo95"]) / (2 * Z95)
    gap = np.abs(frame["actual"] - frame["mean"])
    score = pd.Series(np.where(sigma > 0, gap / sigma.where(sigma > 0, 1.0), np.inf), index=frame.index)
    hits = frame.index[outside.to_numpy()]
    step = pd.Timedelta(seconds=step_seconds)
    last = frame.index[-1]
    groups: list[list[pd.Timestamp]] = []
    for ts in hits:
        if groups and ts - groups[-1][-1] <= step * (merge_gap_steps + 1):
            groups[-1].append(ts)
        else:
            groups.append([ts])
    incidents = []
    for group in groups:
        peak = max(group, key=lambda t: score[t])
        row = frame.loc[peak]
        incidents.append(Incident(
            started_at=group[0].to_pydatetime(), ended_at=group[-1].to_pydatetime(), peak_at=peak.to_pydatetime(),
            actual=float(row["actual"]), expected=float(row["mean"]), lower=float(row["lo95"]),
            upper=float(row["hi95"]), score=float(min(score[peak], 1e9)), points=len(group),
            open=last - group[-1] <= step * merge_gap_steps,
        ))
    return incidents


def _expected(
    session: Session, series_id: str, stat: str, since: datetime, until: datetime
) -> tuple[pd.DataFrame, int]:
    """The freshest forecast of each step in [since, until): index ts, columns mean, lo95, hi95; and the step."""
    rows = session.execute(
        select(ForecastPointRow.ts, ForecastRow.as_of, ForecastRow.step_seconds, ForecastPointRow.mean,
               ForecastPointRow.lo95, ForecastPointRow.hi95)
        .join(ForecastRow, ForecastRow.id == ForecastPointRow.forecast_id)
        .where(ForecastRow.series_id == series_id, ForecastRow.stat == stat,
               ForecastPointRow.ts >= since, ForecastPointRow.ts < until)
    ).all()
    frame = pd.DataFrame(rows, columns=["ts", "as_of", "step", "mean", "lo95", "hi95"])
    if frame.empty:
        return frame, 0
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    frame = frame.sort_values(["ts", "as_of"]).drop_duplicates("ts", keep="last").set_index("ts")
    return frame[["mean", "lo95", "hi95"]].astype("float64"), int(frame["step"].iloc[0])


def _save(session: Session, series_id: str, stat: str, incident: Incident, gap: timedelta) -> None:
    """Extend the stored incident this one touches, or store a new one."""
    existing = session.scalars(
        select(AnomalyRow).where(AnomalyRow.series_id == series_id, AnomalyRow.stat == stat,
                                 AnomalyRow.started_at <= incident.ended_at + gap,
                                 AnomalyRow.ended_at >= incident.started_at - gap)
        .order_by(AnomalyRow.started_at).limit(1)
    ).first()
    row = existing or AnomalyRow(series_id=series_id, stat=stat, kind="cost" if is_cost_series(series_id) else "metric",
                                 started_at=incident.started_at, score=-1.0, points=0)
    row.started_at = min(row.started_at, incident.started_at)
    row.ended_at = max(row.ended_at or incident.ended_at, incident.ended_at)
    if incident.score > row.score:
        row.peak_at, row.actual, row.expected = incident.peak_at, incident.actual, incident.expected
        row.lower, row.upper, row.score = incident.lower, incident.upper, incident.score
    row.points = max(row.points, incident.points)
    row.status = "open" if incident.open else "closed"
    row.updated_at = utcnow()
    session.add(row)
    session.flush()


def detect_anomalies(*, db_url: str, metric_store: MetricStore, settings: TrainingSettings,
                     now: datetime | None = None) -> int:
    """Re-examine the last anomaly_lookback_days of every forecast series; returns the incidents seen."""
    now = now or datetime.now(UTC)
    since = now - timedelta(days=settings.anomaly_lookback_days)
    seen = 0
    with session_scope(db_url) as session:
        pairs = session.execute(
            select(ForecastRow.series_id, ForecastRow.stat).where(ForecastRow.stat.in_(("mean", COST_STAT)))
            .where(ForecastRow.as_of >= (since - timedelta(days=366)).date()).distinct()
        ).all()
        for series_id, stat in pairs:
            expected, step = _expected(session, series_id, stat, since, now)
            if expected.empty:
                continue
            ended = expected[expected.index + pd.Timedelta(seconds=step) <= now]
            if ended.empty:
                continue
            actual = read_actuals(session, metric_store, series_id, stat, ended.index[0].to_pydatetime(),
                                  ended.index[-1].to_pydatetime() + timedelta(seconds=step), step)
            frame = ended.join(actual.rename("actual"), how="inner")
            gap = timedelta(seconds=step * settings.anomaly_merge_gap_steps)
            for incident in find_incidents(frame, step_seconds=step, merge_gap_steps=settings.anomaly_merge_gap_steps):
                _save(session, series_id, stat, incident, gap)
                seen += 1
    return seen


def list_anomalies(session: Session, *, series_id: str | None = None, since: datetime | None = None,
                   status: str | None = None, limit: int = 500) -> list[AnomalyRow]:
    """Stored incidents, newest first."""
    query = select(AnomalyRow)
    if series_id:
        query = query.where(AnomalyRow.series_id == series_id)
    if since is not None:
        query = query.where(AnomalyRow.ended_at >= since)
    if status:
        query = query.where(AnomalyRow.status == status)
    return list(session.scalars(query.order_by(AnomalyRow.started_at.desc()).limit(limit)))


def refresh_scores_and_anomalies(settings: Settings) -> tuple[int, int]:
    """Score stored forecasts against new actuals, then update the anomaly incidents: (forecasts scored, incidents)."""
    store = open_metric_store(settings.metrics_url)
    try:
        scored = score_forecasts(db_url=settings.database_url, metric_store=store)
        seen = detect_anomalies(db_url=settings.database_url, metric_store=store, settings=settings.training)
    finally:
        store.close()
    return scored, seen
