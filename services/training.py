"""Training: fit a forecaster per series and statistic, backtest it, and store forecasts and model versions."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dt_time
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session, selectinload

from ml_engine import Forecast, clip_forecast, holdout_backtest, make_forecaster, regularize_hourly
from services.db.engine import session_scope
from services.db.models import ForecastPointRow, ForecastRow, ModelVersionRow, utcnow
from services.db.upsert import upsert_rows
from services.metrics.base import MetricStore, UnknownSeriesError
from services.settings import ForecastingSettings

log = logging.getLogger(__name__)

STATS = ("mean", "p95")  # hourly mean, and the p95 of the samples within each hour
STEP_SECONDS = 3600
SEASON_HOURS = 24
HOLDOUT_SHARE = 0.2  # the backtest holds out min(horizon, 20% of history)
STORED_LEVELS = (80, 95)  # the levels forecast_points has columns for
FORECASTS = ForecastRow.metadata.tables[ForecastRow.__tablename__]

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class StatResult:
    """One stored forecast of one statistic of a series."""

    stat: str
    model_name: str
    model_version: int
    forecast_id: int
    points: int
    metrics: dict[str, Any]


@dataclass(frozen=True)
class TrainResult:
    """The outcome for one series: stored forecasts per statistic, or the reason it was skipped."""

    series_id: str
    as_of: date
    history_hours: int = 0
    stats: tuple[StatResult, ...] = ()
    skipped: str | None = None

    @property
    def trained(self) -> bool:
        return self.skipped is None


@dataclass
class TrainSummary:
    """The outcome of a batch: which series were trained, skipped (why) and failed (the error)."""

    as_of: date
    total: int = 0
    trained: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(frozen=True)
class _Fitted:
    stat: str
    history: pd.Series
    forecast: Forecast
    metrics: dict[str, Any]
    params: dict[str, Any]


def history_window(*, watermark: datetime, as_of: date, history_days: int) -> tuple[datetime, datetime]:
    """[start, end) of the history to read: history_days ending after the watermark's hour, but never
    past the end of the as_of day, so re-training a past day sees only what that day could have seen."""
    last_hour = watermark.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    end = min(last_hour + timedelta(hours=1), datetime.combine(as_of + timedelta(days=1), dt_time(), tzinfo=UTC))
    return end - timedelta(days=history_days), end


def train_series(
    *,
    series_id: str,
    as_of: date,
    metric_store: MetricStore,
    db_url: str,
    settings: ForecastingSettings,
) -> TrainResult:
    """Fit settings.model on the hourly mean and p95 of one series and store a forecast per statistic.

    Re-running the same (series, as_of) replaces that day's forecasts and registers new model versions.
    Returns a skipped result (with the reason) for a series with too little history; raises
    UnknownSeriesError for a series never written.
    """
    watermark = metric_store.watermark(series_id)
    if watermark is None:
        # read() tells an unknown series (raises) from a known one without samples (returns nothing)
        metric_store.read(series_id, datetime(1970, 1, 1, tzinfo=UTC), datetime(1970, 1, 1, 1, tzinfo=UTC))
        return TrainResult(series_id, as_of, skipped="no samples stored")
    start, end = history_window(watermark=watermark, as_of=as_of, history_days=settings.history_days)
    fitted: list[_Fitted] = []
    for stat in STATS:
        raw = metric_store.read(series_id, start, end, STEP_SECONDS, stat)
        history, report = regularize_hourly(raw, season_length=SEASON_HOURS)
        if len(history) < settings.min_history_hours:
            reason = (
                f"{len(history)} hours of history between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} UTC, "
                f"fewer than min_history_hours={settings.min_history_hours}"
            )
            return TrainResult(series_id, as_of, history_hours=len(history), skipped=reason)
        fitted.append(_fit_stat(stat, history, report.as_dict(), settings))
    with session_scope(db_url) as session:
        stats = tuple(_store(session, series_id=series_id, as_of=as_of, fitted=f) for f in fitted)
    return TrainResult(series_id, as_of, history_hours=len(fitted[0].history), stats=stats)


def _fit_stat(stat: str, history: pd.Series, regularized: dict[str, Any], settings: ForecastingSettings) -> _Fitted:
    forecaster = make_forecaster(settings.model, SEASON_HOURS)
    forecast = forecaster.fit(history).predict(settings.horizon_hours, settings.levels)
    non_negative = bool(history.min() >= 0.0)
    if non_negative:  # a metric that never went below zero will not start now
        forecast = clip_forecast(forecast, lower=0.0)
    holdout = max(1, min(settings.horizon_hours, int(len(history) * HOLDOUT_SHARE)))
    metrics = holdout_backtest(forecaster, history, holdout, settings.levels)
    metrics = {k: _json_safe(v) for k, v in metrics.items()}
    params = {
        **forecast.params,
        "forecaster": settings.model,
        "season_length": SEASON_HOURS,
        "horizon_hours": settings.horizon_hours,
        "levels": list(settings.levels),
        "history_days": settings.history_days,
        "clipped_at_zero": non_negative,
        "regularize": regularized,
    }
    return _Fitted(stat, history, forecast, metrics, params)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float | np.floating) and not np.isfinite(value):
        return None
    return value


def _store(session: Session, *, series_id: str, as_of: date, fitted: _Fitted) -> StatResult:
    """Register a new active model version and put its forecast in place of that day's previous one."""
    version = _register_version(session, series_id=series_id, fitted=fitted)
    forecast_id = _replace_forecast(session, series_id=series_id, as_of=as_of, fitted=fitted, version=version)
    return StatResult(
        stat=fitted.stat,
        model_name=fitted.forecast.model,
        model_version=version.version,
        forecast_id=forecast_id,
        points=len(fitted.forecast.mean),
        metrics=fitted.metrics,
    )


def _register_version(session: Session, *, series_id: str, fitted: _Fitted) -> ModelVersionRow:
    mine = (ModelVersionRow.series_id == series_id, ModelVersionRow.stat == fitted.stat)
    previous = session.execute(select(func.max(ModelVersionRow.version)).where(*mine)).scalar() or 0
    session.execute(update(ModelVersionRow).where(*mine, ModelVersionRow.status == "active").values(status="retired"))
    row = ModelVersionRow(
        series_id=series_id,
        stat=fitted.stat,
        model_name=fitted.forecast.model,
        version=previous + 1,
        params=fitted.params,
        data_start=fitted.history.index[0].to_pydatetime(),
        data_end=fitted.history.index[-1].to_pydatetime(),
        metrics=fitted.metrics,
        status="active",
    )
    session.add(row)
    session.flush()
    return row


def _replace_forecast(
    session: Session, *, series_id: str, as_of: date, fitted: _Fitted, version: ModelVersionRow
) -> int:
    key = {"series_id": series_id, "stat": fitted.stat, "as_of": as_of}
    header = {**key, "model_version_id": version.id, "model_name": fitted.forecast.model}
    header |= {"step_seconds": STEP_SECONDS, "created_at": utcnow()}
    # an upsert rather than delete + insert: two workers on the same day never trip the unique key
    upsert_rows(session, FORECASTS, [header], key=tuple(key))
    forecast_id = session.execute(
        select(ForecastRow.id).where(*(getattr(ForecastRow, k) == v for k, v in key.items()))
    ).scalar_one()
    session.execute(delete(ForecastPointRow).where(ForecastPointRow.forecast_id == forecast_id))
    session.execute(insert(ForecastPointRow), _point_rows(forecast_id, fitted.forecast))
    return int(forecast_id)


def _point_rows(forecast_id: int, forecast: Forecast) -> list[dict[str, Any]]:
    frame = forecast.to_frame()
    for level in STORED_LEVELS:
        for side in ("lo", "hi"):
            if f"{side}{level}" not in frame:
                frame[f"{side}{level}"] = None
    columns = ["mean", *(f"{side}{lvl}" for lvl in STORED_LEVELS for side in ("lo", "hi"))]
    return [
        {"forecast_id": forecast_id, "ts": ts.to_pydatetime(), **dict(zip(columns, values, strict=True))}
        for ts, values in zip(frame.index, frame[columns].itertuples(index=False, name=None), strict=True)
    ]


def train_all(
    *,
    as_of: date,
    metric_store: MetricStore,
    db_url: str,
    settings: ForecastingSettings,
    series_ids: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> TrainSummary:
    """train_series over every stored series (or series_ids); a failing series is recorded, never fatal."""
    started = time.perf_counter()
    ids = list(series_ids) if series_ids is not None else [info.series_id for info in metric_store.series()]
    summary = TrainSummary(as_of=as_of, total=len(ids))
    for done, series_id in enumerate(ids, start=1):
        try:
            result = train_series(
                series_id=series_id, as_of=as_of, metric_store=metric_store, db_url=db_url, settings=settings
            )
        except Exception as exc:  # noqa: BLE001 - one bad series must not stop the batch
            log.warning("training %s as of %s failed", series_id, as_of, exc_info=True)
            summary.errors[series_id] = _describe(exc)
        else:
            if result.skipped is None:
                summary.trained.append(series_id)
            else:
                summary.skipped[series_id] = result.skipped
        if progress is not None:
            progress(done, len(ids), series_id)
    summary.seconds = time.perf_counter() - started
    return summary


def _describe(exc: Exception) -> str:
    message = str(exc) if isinstance(exc, UnknownSeriesError) else f"{type(exc).__name__}: {exc}"
    return message.splitlines()[0] if message else type(exc).__name__


def latest_forecast(session: Session, series_id: str, stat: str = "mean") -> ForecastRow | None:
    """The newest stored forecast of a series and statistic, with its points loaded, or None."""
    query = (
        select(ForecastRow)
        .where(ForecastRow.series_id == series_id, ForecastRow.stat == stat)
        .order_by(ForecastRow.as_of.desc(), ForecastRow.id.desc())
        .options(selectinload(ForecastRow.points))
        .limit(1)
    )
    return session.execute(query).scalar_one_or_none()


def active_model_version(session: Session, series_id: str, stat: str = "mean") -> ModelVersionRow | None:
    """The model version currently serving a series and statistic, or None."""
    query = select(ModelVersionRow).where(
        ModelVersionRow.series_id == series_id, ModelVersionRow.stat == stat, ModelVersionRow.status == "active"
    )
    return session.execute(query.order_by(ModelVersionRow.version.desc()).limit(1)).scalar_one_or_none()
