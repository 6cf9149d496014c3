"""Training: fit a forecaster per series and statistic, backtest it, register the version and serve its forecast.

Metric series get hourly forecasts of the mean and the p95 within the hour; cost series (cost:total,
cost:provider:<name>) daily forecasts of effective cost. Each (series, day) is trained once unless forced.
"""

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
from sqlalchemy.orm import Session

from ml_engine import Forecast, Forecaster, clip_forecast, holdout_backtest, regularize_hourly
from ml_engine.metrics import seasonal_scale
from services.costs.cost_series import COST_STAT, DAY_SECONDS, daily_costs, is_cost_series
from services.db.engine import session_scope
from services.db.models import ForecastRow, ModelVersionRow
from services.forecasting.forecasters import build_forecaster
from services.forecasting.registry import ArtifactStore, NewVersion, active_version, forecast_points, register_version
from services.forecasting.registry import served_forecast as _served_forecast
from services.forecasting.training_runs import FINAL, item_status, record_item, refresh_run
from services.metrics.base import MetricStore, UnknownSeriesError
from services.settings import ForecastingSettings, TrainingSettings

log = logging.getLogger(__name__)

STATS = ("mean", "p95")  # hourly mean, and the p95 of the samples within each hour
STEP_SECONDS = 3600
SEASON_HOURS = 24
SEASON_DAYS = 7
HOLDOUT_SHARE = 0.2  # the backtest holds out min(horizon, 20% of history)

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class StatResult:
    """One trained statistic of a series: its version, whether it was promoted, and the served forecast."""

    stat: str
    model_name: str
    model_version: int
    status: str  # active (promoted) or candidate
    forecast_id: int | None
    points: int
    metrics: dict[str, Any]


@dataclass(frozen=True)
class TrainResult:
    """The outcome for one series: trained statistics, or the reason it was skipped."""

    series_id: str
    as_of: date
    history_points: int = 0
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
class _Plan:
    """How one kind of series is modelled."""

    stats: tuple[str, ...]
    season: int
    horizon: int
    step_seconds: int


@dataclass(frozen=True)
class _Fitted:
    stat: str
    history: pd.Series
    forecast: Forecast
    metrics: dict[str, Any]
    params: dict[str, Any]


class _TooShort(Exception):
    """The series has too little history; the message says how much."""


def history_window(*, watermark: datetime, as_of: date, history_days: int) -> tuple[datetime, datetime]:
    """[start, end) of the history to read: history_days ending after the watermark's hour, but never
    past the end of the as_of day, so re-training a past day sees only what that day could have seen."""
    last_hour = watermark.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    end = min(last_hour + timedelta(hours=1), datetime.combine(as_of + timedelta(days=1), dt_time(), tzinfo=UTC))
    return end - timedelta(days=history_days), end


def _metric_histories(series_id: str, as_of: date, store: MetricStore, settings: ForecastingSettings
                      ) -> list[tuple[str, pd.Series, dict[str, Any]]] | None:
    watermark = store.watermark(series_id)
    if watermark is None:
        # read() tells an unknown series (raises) from a known one without samples (returns nothing)
        store.read(series_id, datetime(1970, 1, 1, tzinfo=UTC), datetime(1970, 1, 1, 1, tzinfo=UTC))
        return None
    start, end = history_window(watermark=watermark, as_of=as_of, history_days=settings.history_days)
    out = []
    for stat in STATS:
        history, report = regularize_hourly(store.read(series_id, start, end, STEP_SECONDS, stat),
                                            season_length=SEASON_HOURS)
        if len(history) < settings.min_history_hours:
            raise _TooShort(
                f"{len(history)} hours of history between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M} UTC, "
                f"fewer than min_history_hours={settings.min_history_hours}"
            )
        out.append((stat, history, report.as_dict()))
    return out


def _cost_histories(series_id: str, as_of: date, db_url: str, training: TrainingSettings
                    ) -> list[tuple[str, pd.Series, dict[str, Any]]] | None:
    start = as_of - timedelta(days=training.cost_history_days - 1)
    with session_scope(db_url) as session:
        history = daily_costs(session, series_id, start=start, end=as_of)
    if history.empty:
        return None
    if len(history) < training.cost_min_history_days:
        raise _TooShort(f"{len(history)} days of cost history up to {as_of}, fewer than "
                        f"cost_min_history_days={training.cost_min_history_days}")
    return [(COST_STAT, history, {"days": len(history)})]


def train_series(
    *,
    series_id: str,
    as_of: date,
    metric_store: MetricStore,
    db_url: str,
    settings: ForecastingSettings,
    training: TrainingSettings | None = None,
    artifacts: ArtifactStore | None = None,
    force: bool = False,
    global_nn: Any = None,
) -> TrainResult:
    """Fit settings.model on a series (hourly mean and p95, or daily cost) and register a version per statistic;
    a version no worse than the active one (backtest MASE) is promoted and serves its forecast.

    A series already trained (or skipped) for as_of is skipped unless force. Returns a skipped result (with the
    reason) for a series with too little history; raises UnknownSeriesError for a series never written.
    artifacts=None stores no artifact (library use); the app always passes the configured store.
    """
    training = training or TrainingSettings()
    if not force:
        with session_scope(db_url) as session:
            if (done := item_status(session, as_of, series_id)) in FINAL:
                return TrainResult(series_id, as_of, skipped=f"already {done} for {as_of} (force to retrain)")
    cost = is_cost_series(series_id)
    if cost:
        plan = _Plan((COST_STAT,), SEASON_DAYS, training.cost_horizon_days, DAY_SECONDS)
    else:
        plan = _Plan(STATS, SEASON_HOURS, settings.horizon_hours, STEP_SECONDS)
    try:
        histories = (_cost_histories(series_id, as_of, db_url, training) if cost
                     else _metric_histories(series_id, as_of, metric_store, settings))
    except _TooShort as exc:
        return _skip(db_url, series_id, as_of, str(exc), force=force)
    if histories is None:
        return _skip(db_url, series_id, as_of, "no cost records" if cost else "no samples stored", force=force)
    with session_scope(db_url) as session:
        states = {stat: _warm_state(session, series_id, stat) for stat in plan.stats}
    # the series id names the metric (e.g. .../cpu_utilization): the forecaster bounds it to its domain (0..100%)
    fitted = [_fit_stat(stat, history.rename(series_id), report, plan, settings, states[stat], global_nn)
              for stat, history, report in histories]
    with session_scope(db_url) as session:
        if not force and item_status(session, as_of, series_id) in FINAL:  # another worker got there first
            return TrainResult(series_id, as_of, skipped=f"already trained for {as_of} by another worker")
        stats = tuple(_store(session, series_id=series_id, as_of=as_of, fitted=f, plan=plan, artifacts=artifacts,
                             stale_after_days=training.stale_after_days) for f in fitted)
        # in the same transaction as the versions: the item and the models are committed together or not at all
        record_item(session, as_of, series_id, "trained", ", ".join(f"{s.stat} v{s.model_version} {s.status}"
                                                                     for s in stats))
        refresh_run(session, as_of)
    return TrainResult(series_id, as_of, history_points=len(fitted[0].history), stats=stats)


def _skip(db_url: str, series_id: str, as_of: date, reason: str, *, force: bool) -> TrainResult:
    with session_scope(db_url) as session:
        record_item(session, as_of, series_id, "skipped", reason)
        refresh_run(session, as_of)
    return TrainResult(series_id, as_of, skipped=reason)


def _warm_state(session: Session, series_id: str, stat: str) -> Any:
    active = active_version(session, series_id, stat)
    return active.params.get("state") if active is not None else None


def _backtest_metrics(forecaster: Forecaster, forecast: Forecast, history: pd.Series, plan: _Plan,
                      settings: ForecastingSettings) -> dict[str, Any]:
    """The version's backtest score, for promotion: the ensemble's own rolling-origin backtest when it made one
    (a second, independent backtest would cost as much as the whole fit again), else a holdout backtest."""
    own = forecast.params.get("backtest")
    if isinstance(own, dict) and own.get("ensemble_mase") is not None:
        coverage = {f"coverage{k}": v for k, v in (own.get("coverage") or {}).items()}  # as holdout_backtest names it
        return {"method": "rolling-origin", "model": forecast.model, "origins": own.get("origins"),
                "holdout": own.get("horizon"), "mase": own["ensemble_mase"], "mae": own.get("ensemble_mae"),
                **coverage}
    holdout = max(1, min(plan.horizon, int(len(history) * HOLDOUT_SHARE)))
    return holdout_backtest(forecaster, history, holdout, settings.levels)


def _fit_stat(stat: str, history: pd.Series, regularized: dict[str, Any], plan: _Plan,
              settings: ForecastingSettings, state: Any, global_nn: Any) -> _Fitted:
    forecaster = build_forecaster(settings.model, plan.season, global_nn=global_nn)
    warm_start = getattr(forecaster, "warm_start", None)
    if state is not None and warm_start is not None:
        warm_start(state)
    forecast = forecaster.fit(history).predict(plan.horizon, settings.levels)
    non_negative = bool(history.min() >= 0.0)
    if non_negative:  # a metric (or a cost) that never went below zero will not start now
        forecast = clip_forecast(forecast, lower=0.0)
    metrics = _backtest_metrics(forecaster, forecast, history, plan, settings)
    params = {
        **forecast.params,
        "forecaster": settings.model,
        "season_length": plan.season,
        "horizon": plan.horizon,
        "step_seconds": plan.step_seconds,
        "levels": list(settings.levels),
        "clipped_at_zero": non_negative,
        "regularize": regularized,
        "warm_started": state is not None,
        # the live MASE of this version's forecasts is scaled by the same in-sample error as its backtest
        "mase_scale": seasonal_scale(history.to_numpy(dtype=np.float64), plan.season),
    }
    return _Fitted(stat, history, forecast, metrics, params)


def _store(session: Session, *, series_id: str, as_of: date, fitted: _Fitted, plan: _Plan,
           artifacts: ArtifactStore | None, stale_after_days: int) -> StatResult:
    new = NewVersion(
        series_id=series_id, stat=fitted.stat, as_of=as_of, model_name=fitted.forecast.model, params=fitted.params,
        metrics=fitted.metrics, data_start=fitted.history.index[0].to_pydatetime(),
        data_end=fitted.history.index[-1].to_pydatetime(), step_seconds=plan.step_seconds,
        points=forecast_points(fitted.forecast.to_frame()),
    )
    version = register_version(session, new, artifacts=artifacts, stale_after_days=stale_after_days)
    served = _served_forecast(session, series_id, fitted.stat, with_points=False)
    return StatResult(
        stat=fitted.stat,
        model_name=fitted.forecast.model,
        model_version=version.version,
        status=version.status,
        forecast_id=served.id if served is not None else None,
        points=len(fitted.forecast.mean),
        metrics=version.metrics,
    )


def train_all(
    *,
    as_of: date,
    metric_store: MetricStore,
    db_url: str,
    settings: ForecastingSettings,
    series_ids: Sequence[str] | None = None,
    progress: Progress | None = None,
    training: TrainingSettings | None = None,
    artifacts: ArtifactStore | None = None,
    force: bool = False,
    global_nn: Any = None,
) -> TrainSummary:
    """train_series over every stored series (or series_ids); a failing series is recorded, never fatal."""
    started = time.perf_counter()
    ids = list(series_ids) if series_ids is not None else [info.series_id for info in metric_store.series()]
    summary = TrainSummary(as_of=as_of, total=len(ids))
    for done, series_id in enumerate(ids, start=1):
        try:
            result = train_series(
                series_id=series_id, as_of=as_of, metric_store=metric_store, db_url=db_url, settings=settings,
                training=training, artifacts=artifacts, force=force, global_nn=global_nn,
            )
        except Exception as exc:  # noqa: BLE001 - one bad series must not stop the batch
            log.warning("training %s as of %s failed", series_id, as_of, exc_info=True)
            summary.errors[series_id] = _describe(exc)
            with session_scope(db_url) as session:
                record_item(session, as_of, series_id, "failed", summary.errors[series_id])
                refresh_run(session, as_of)
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
    """The forecast a series and statistic serves (the newest of its active model version), with its points, or None.
    Cost forecasts: latest_forecast(session, "cost:total", "daily_cost")."""
    return _served_forecast(session, series_id, stat)


def active_model_version(session: Session, series_id: str, stat: str = "mean") -> ModelVersionRow | None:
    """The model version currently serving a series and statistic, or None."""
    return active_version(session, series_id, stat)
