"""Ad-hoc forecast jobs: accepted by the API (checked, bounded, counted per token), run by a Celery worker."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from collector.records import SampleBatch, SeriesRef
from services.db.models import AdhocJobRow
from services.forecasting.adhoc_forecast import MIN_HOURS, AdhocResult, UploadError, forecast_upload, parse_csv
from services.metrics import MetricStore
from services.settings import AdhocJobSettings

ACTIVE = ("queued", "running")
RETRY_AFTER_SECONDS = 10


class TooManyJobs(Exception):
    """The token has as many ad-hoc jobs queued or running as it may."""


@dataclass(frozen=True)
class JobRequest:
    """What to forecast: the form fields of POST /api/forecasts/adhoc."""

    horizon_hours: int
    model: str
    levels: list[int]
    save_as: str | None  # store the upload as series upload:<name>/value


def upload_series_ref(name: str) -> SeriesRef:
    return SeriesRef(resource_id=f"upload:{name}", metric="value", labels={"source": "upload"})


def check_upload(content: bytes, limits: AdhocJobSettings) -> pd.Series:
    """The parsed upload, refused unless its hourly grid (gaps filled) fits `max_hours`: a few rows years apart
    would otherwise become tens of thousands of points to fit."""
    raw = parse_csv(content)
    hours = int((raw.index[-1] - raw.index[0]).total_seconds() // 3600) + 1
    if hours < MIN_HOURS:
        raise UploadError(f"the data covers {hours} hour(s); a forecast needs at least {MIN_HOURS} hours of history")
    if hours > limits.max_hours:
        gaps = raw.index.to_series().diff().dropna()
        widest = gaps.max() if len(gaps) else pd.Timedelta(0)
        raise UploadError(
            f"the upload spans {hours:,} hours from {raw.index[0]:%Y-%m-%d} to {raw.index[-1]:%Y-%m-%d} (limit "
            f"{limits.max_hours:,}, adhoc.jobs.max_hours; its widest gap is {widest}): upload a shorter stretch"
        )
    return raw


def _stale_before(limits: AdhocJobSettings, now: datetime) -> datetime:
    """Jobs created before this and still not finished are lost (their worker died, or the queue dropped them)."""
    return now - timedelta(seconds=3 * limits.time_limit_seconds)


def submit_job(session: Session, *, token_id: int, user_id: int, content: bytes, request: JobRequest,
               limits: AdhocJobSettings, now: datetime | None = None) -> AdhocJobRow:
    """Store a queued job for the token, or TooManyJobs when it already has its share queued or running."""
    now = now or datetime.now(UTC)
    active = session.scalar(select(func.count()).select_from(AdhocJobRow).where(
        AdhocJobRow.token_id == token_id, AdhocJobRow.status.in_(ACTIVE),
        AdhocJobRow.created_at >= _stale_before(limits, now)))
    if (active or 0) >= limits.per_token_concurrency:
        raise TooManyJobs(f"this token has {active} ad-hoc forecast(s) queued or running (limit "
                          f"{limits.per_token_concurrency}, adhoc.jobs.per_token_concurrency): wait for one to finish")
    row = AdhocJobRow(id=secrets.token_hex(16), token_id=token_id, user_id=user_id, status="queued",
                      params={"horizon_hours": request.horizon_hours, "model": request.model,
                              "levels": request.levels, "save_as": request.save_as},
                      upload=content.decode("utf-8-sig"), created_at=now)
    session.add(row)
    session.flush()
    return row


def job_status(row: AdhocJobRow, limits: AdhocJobSettings, now: datetime | None = None) -> tuple[str, str]:
    """(status, error) as a caller sees it: a job unfinished long past its time limit has failed."""
    if row.status in ACTIVE and row.created_at < _stale_before(limits, now or datetime.now(UTC)):
        return "failed", (f"the job did not finish within {limits.time_limit_seconds} s of being accepted "
                          "(adhoc.jobs.time_limit_seconds): try a shorter upload or the seasonal_naive model")
    return row.status, row.error


def _opt(v: float) -> float | None:
    return None if v != v else float(v)  # NaN -> None


def result_document(result: AdhocResult, horizon_hours: int, stored: str | None) -> dict[str, Any]:
    """The forecast as JSON, in the shape of the API's AdhocForecastRead."""
    points = [
        {"t": t.isoformat(), "mean": float(row["mean"]),
         **{k: _opt(row.get(k, float("nan"))) for k in ("lo80", "hi80", "lo95", "hi95")}}
        for t, row in result.forecast.iterrows()
    ]
    return {
        "model": result.model, "horizon_hours": horizon_hours,
        "history": [{"t": t.isoformat(), "v": float(v)} for t, v in result.history.items()],
        "points": points, "backtest": result.backtest, "regularized": result.regularized,
        "stored_series_id": stored,
    }


def run_job(session: Session, store: MetricStore, job_id: str) -> str:
    """Fit and store the answer of a queued job (the worker's side); returns the final status.

    The upload was checked when accepted; a failure now (a model that cannot fit) is recorded, not raised."""
    row = session.get(AdhocJobRow, job_id)
    if row is None or row.status not in ACTIVE:
        return row.status if row else "missing"
    row.status, row.started_at = "running", datetime.now(UTC)
    session.commit()
    params = row.params
    try:
        result = forecast_upload(row.upload.encode(), horizon_hours=params["horizon_hours"], model=params["model"],
                                 levels=params["levels"])
        stored = None
        if params.get("save_as"):
            ref = upload_series_ref(params["save_as"])
            epochs = np.array([int(t.timestamp()) for t in result.raw.index], dtype=np.int64)
            store.write([SampleBatch(ref, epochs, result.raw.to_numpy())])
            stored = ref.series_id
        row.result, row.status = result_document(result, params["horizon_hours"], stored), "done"
    except UploadError as exc:
        row.status, row.error = "failed", str(exc)
    row.upload, row.finished_at = "", datetime.now(UTC)
    session.commit()
    return row.status


def fail_job(session: Session, job_id: str, error: str) -> None:
    """Mark a job failed (the worker's time limit struck)."""
    row = session.get(AdhocJobRow, job_id)
    if row is not None and row.status in ACTIVE:
        row.status, row.error, row.upload, row.finished_at = "failed", error, "", datetime.now(UTC)
        session.commit()
