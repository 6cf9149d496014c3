"""Live accuracy: every stored forecast scored against the actuals that have arrived (MASE, 80/95% coverage).

MASE divides the forecast's MAE by the in-sample seasonal-naive MAE of the version's training window (stored with
the version as params["mase_scale"], recomputed from the stored history for older versions), the same scale as
its backtest, so live and backtest MASE compare directly.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from ml_engine.metrics import seasonal_scale
from services.costs.cost_series import daily_costs, is_cost_series
from services.db.engine import session_scope
from services.db.models import ForecastRow, ForecastScoreRow, ModelVersionRow, utcnow
from services.metrics.base import MetricStore, UnknownSeriesError

SCORE_WINDOW_DAYS = 400  # forecasts made longer ago than this are no longer re-scored


def read_actuals(
    session: Session, metric_store: MetricStore, series_id: str, stat: str, start: datetime, end: datetime,
    step_seconds: int,
) -> pd.Series:
    """Observed values of a series and statistic in [start, end) on the forecast's step (bucket starts)."""
    if is_cost_series(series_id):
        return daily_costs(session, series_id, start=start.date(), end=(end - timedelta(seconds=1)).date())
    try:
        return metric_store.read(series_id, start, end, step_seconds, stat)
    except UnknownSeriesError:
        return pd.Series(dtype="float64", index=pd.DatetimeIndex([], tz="UTC"))


def score_points(points: pd.DataFrame, actual: pd.Series, scale: float | None) -> dict[str, Any]:
    """Scores of forecast points (index ts; columns mean, lo80, hi80, lo95, hi95) against actual (index ts):
    points scored, MAE, MASE (MAE / scale) and the share of actuals inside each band."""
    joined = points.join(actual.rename("actual"), how="inner").dropna(subset=["actual"])
    n = len(joined)
    if n == 0:
        return {"points": 0, "mae": None, "mase": None, "coverage80": None, "coverage95": None}
    mae = float(np.mean(np.abs(joined["actual"] - joined["mean"])))
    out: dict[str, Any] = {"points": n, "mae": mae, "mase": mae / scale if scale else None}
    for level in (80, 95):
        band = joined[[f"lo{level}", f"hi{level}"]].astype("float64").dropna()
        inside = (joined.loc[band.index, "actual"] >= band[f"lo{level}"]) & (
            joined.loc[band.index, "actual"] <= band[f"hi{level}"])
        out[f"coverage{level}"] = float(inside.mean()) if len(band) else None
    return out


def _scale(
    session: Session, store: MetricStore, forecast: ForecastRow, version: ModelVersionRow | None
) -> float | None:
    if version is None:
        return None
    if "mase_scale" in version.params:
        stored = version.params["mase_scale"]
        return float(stored) if stored is not None else None
    season = int(version.params.get("season_length") or (7 if is_cost_series(forecast.series_id) else 24))
    history = read_actuals(session, store, forecast.series_id, forecast.stat, version.data_start,
                           version.data_end + timedelta(seconds=forecast.step_seconds), forecast.step_seconds)
    return seasonal_scale(history.to_numpy(dtype=np.float64), season)


def score_forecasts(*, db_url: str, metric_store: MetricStore, now: datetime | None = None) -> int:
    """(Re)score every forecast with steps that have ended since it was last scored; returns how many were."""
    now = now or datetime.now(UTC)
    since = now.date() - timedelta(days=SCORE_WINDOW_DAYS)
    scored = 0
    with session_scope(db_url) as session:
        points_so_far = select(ForecastScoreRow.points).where(ForecastScoreRow.forecast_id == ForecastRow.id)
        horizon = select(ForecastScoreRow.horizon).where(ForecastScoreRow.forecast_id == ForecastRow.id)
        due = session.scalars(
            select(ForecastRow).where(ForecastRow.as_of >= since, ForecastRow.as_of <= now.date())
            .where(or_(points_so_far.scalar_subquery().is_(None),
                       points_so_far.scalar_subquery() < horizon.scalar_subquery()))
            .options(selectinload(ForecastRow.points))
        ).all()
        for forecast in due:
            if not forecast.points or forecast.points[0].ts > now:
                continue
            frame = pd.DataFrame(
                [(p.ts, p.mean, p.lo80, p.hi80, p.lo95, p.hi95) for p in forecast.points],
                columns=["ts", "mean", "lo80", "hi80", "lo95", "hi95"],
            ).set_index("ts")
            frame.index = pd.DatetimeIndex(frame.index).tz_convert("UTC")
            step = timedelta(seconds=forecast.step_seconds)
            ended = frame[frame.index + step <= now]  # only steps that are over: a half hour is no hourly mean
            if ended.empty:
                continue
            actual = read_actuals(session, metric_store, forecast.series_id, forecast.stat,
                                  ended.index[0].to_pydatetime(), ended.index[-1].to_pydatetime() + step,
                                  forecast.step_seconds)
            version = session.get(ModelVersionRow, forecast.model_version_id) if forecast.model_version_id else None
            scale = _scale(session, metric_store, forecast, version)
            values = score_points(ended, actual, scale)
            row = session.get(ForecastScoreRow, forecast.id) or ForecastScoreRow(forecast_id=forecast.id)
            row.series_id, row.stat, row.model_name = forecast.series_id, forecast.stat, forecast.model_name
            row.as_of, row.horizon, row.scale, row.updated_at = forecast.as_of, len(frame), scale, utcnow()
            row.points, row.mae, row.mase = values["points"], values["mae"], values["mase"]
            row.coverage80, row.coverage95 = values["coverage80"], values["coverage95"]
            session.add(row)
            scored += 1
    return scored


@dataclass(frozen=True)
class Accuracy:
    """Live accuracy of a group of forecasts (one series and statistic, or one model): point-weighted means."""

    key: str  # the series id, or the model name
    stat: str | None
    model_name: str | None
    forecasts: int
    points: int
    mase: float | None
    coverage80: float | None
    coverage95: float | None
    since: date | None


def _weighted(column: Any) -> Any:
    weight = func.sum(ForecastScoreRow.points).filter(column.is_not(None))
    return func.sum(column * ForecastScoreRow.points) / func.nullif(weight, 0)


def _aggregate(session: Session, group: tuple[Any, ...], where: tuple[Any, ...] = ()) -> list[Any]:
    query = select(
        *group, func.count(), func.sum(ForecastScoreRow.points), _weighted(ForecastScoreRow.mase),
        _weighted(ForecastScoreRow.coverage80), _weighted(ForecastScoreRow.coverage95),
        func.min(ForecastScoreRow.as_of),
    ).where(ForecastScoreRow.points > 0, *where).group_by(*group).order_by(*group)
    return list(session.execute(query).all())


def _float(value: Any) -> float | None:
    return float(value) if value is not None else None


def accuracy_by_series(
    session: Session, series_id: str | Collection[str] | None = None, *, stat: str | None = None
) -> list[Accuracy]:
    """Live accuracy per series, statistic and model (optionally of one series or of several, of one statistic)."""
    where: tuple[Any, ...] = ()
    if isinstance(series_id, str):
        where = (ForecastScoreRow.series_id == series_id,) if series_id else ()
    elif series_id is not None:
        where = (ForecastScoreRow.series_id.in_(sorted(set(series_id))),)
    if stat:
        where = (*where, ForecastScoreRow.stat == stat)
    rows = _aggregate(session, (ForecastScoreRow.series_id, ForecastScoreRow.stat, ForecastScoreRow.model_name), where)
    return [Accuracy(key=s, stat=st, model_name=m, forecasts=int(n), points=int(p or 0), mase=_float(a),
                     coverage80=_float(c8), coverage95=_float(c9), since=d)
            for s, st, m, n, p, a, c8, c9, d in rows]


def accuracy_by_model(session: Session) -> list[Accuracy]:
    """Live accuracy per model over every series it forecast (what the Prometheus gauge exports)."""
    rows = _aggregate(session, (ForecastScoreRow.model_name,))
    return [Accuracy(key=m, stat=None, model_name=m, forecasts=int(n), points=int(p or 0), mase=_float(a),
                     coverage80=_float(c8), coverage95=_float(c9), since=d)
            for m, n, p, a, c8, c9, d in rows]


def live_model_accuracy(db_url: str) -> dict[str, dict[str, float | None]]:
    """{model: {"mase": .., "coverage80": .., "coverage95": .., "points": ..}}: a plain function for exporters."""
    with session_scope(db_url) as session:
        return {a.key: {"mase": a.mase, "coverage80": a.coverage80, "coverage95": a.coverage95,
                        "points": float(a.points)} for a in accuracy_by_model(session)}
