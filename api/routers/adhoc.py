"""POST /api/forecasts/adhoc queues a forecast of an uploaded `timestamp,value` CSV (202 + job URL);
GET /api/forecasts/adhoc/jobs/{id} answers it, with intervals and a backtest score, once a worker has run it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Path, Response, UploadFile, status

from api.deps import CurrentPrincipal, MetricStoreDep, SessionDep, SettingsDep
from api.schemas_dashboard import AdhocForecastRead, AdhocJobRead
from services.db.models import AdhocJobRow
from services.forecasting.adhoc_forecast import UploadError
from services.forecasting.adhoc_jobs import (
    RETRY_AFTER_SECONDS,
    JobRequest,
    TooManyJobs,
    check_upload,
    job_status,
    submit_job,
    upload_series_ref,
)
from services.forecasting.adhoc_tasks import enqueue_job
from services.forecasting.forecasters import FORECASTERS
from services.settings import MAX_HORIZON_HOURS

router = APIRouter(prefix="/forecasts", tags=["forecasts"])
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
JOB_ID = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="The id POST /api/forecasts/adhoc returned.")]


def _job_read(row: AdhocJobRow, settings: SettingsDep) -> AdhocJobRead:
    state, error = job_status(row, settings.adhoc.jobs)
    return AdhocJobRead(id=row.id, status=state, error=error, url=f"/api/forecasts/adhoc/jobs/{row.id}",
                        created_at=row.created_at, finished_at=row.finished_at,
                        result=AdhocForecastRead.model_validate(row.result) if state == "done" and row.result else None)


@router.post("/adhoc", response_model=AdhocJobRead, status_code=status.HTTP_202_ACCEPTED)
def forecast_adhoc(
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    store: MetricStoreDep,
    principal: CurrentPrincipal,
    file: Annotated[UploadFile, File(description="CSV with the header `timestamp,value`; ISO 8601 or epoch seconds")],
    horizon_hours: Annotated[int, Form(ge=1, le=MAX_HORIZON_HOURS, description="At most adhoc.max_horizon_hours")]
    = 168,
    model: Annotated[str | None, Form(description="A forecaster name; default: the configured one")] = None,
    save: Annotated[bool, Form(description="Store the upload as series upload:<name>/value (editor)")] = False,
    name: Annotated[str | None, Form(pattern=NAME_PATTERN, description="Name to store it under")] = None,
    replace: Annotated[bool, Form(description="With save: replace a stored upload of that name")] = False,
) -> AdhocJobRead:
    """Check the upload now (422 with the line at fault) and queue its forecast for a worker: the answer is at the
    returned job URL. Each token has at most adhoc.jobs.per_token_concurrency jobs queued or running (429)."""
    limit = settings.adhoc.max_upload_bytes
    content = file.file.read(limit + 1)
    if len(content) > limit:
        raise HTTPException(413, f"the upload is larger than {limit:,} bytes (adhoc.max_upload_bytes): send fewer "
                                 "or coarser rows, e.g. hourly instead of per-minute samples")
    if horizon_hours > settings.adhoc.max_horizon_hours:
        raise HTTPException(422, f"form field 'horizon_hours': at most {settings.adhoc.max_horizon_hours} "
                                 "(adhoc.max_horizon_hours)")
    chosen = model or settings.forecasting.model
    if chosen not in FORECASTERS:
        raise HTTPException(422, f"form field 'model': unknown model {chosen!r}: choose one of "
                                 f"{', '.join(FORECASTERS.names())}")
    if save:
        if not principal.allows("editor"):
            raise HTTPException(403, f"storing an upload needs the editor role; your token is {principal.role}")
        if not name:
            raise HTTPException(422, "form field 'name': give a name to store the upload under (or save=false)")
        if not replace and store.watermark(upload_series_ref(name).series_id) is not None:
            raise HTTPException(409, f"an upload named {name!r} is stored already: choose another name, or send "
                                     "replace=true to add these rows to it")
    try:
        check_upload(content, settings.adhoc.jobs)
        row = submit_job(session, token_id=principal.token_id, user_id=principal.user_id, content=content,
                         request=JobRequest(horizon_hours=horizon_hours, model=chosen,
                                            levels=settings.forecasting.levels, save_as=name if save else None),
                         limits=settings.adhoc.jobs)
    except UploadError as exc:
        raise HTTPException(422, str(exc)) from exc
    except TooManyJobs as exc:
        raise HTTPException(429, str(exc), headers={"Retry-After": str(RETRY_AFTER_SECONDS)}) from exc
    session.commit()  # before the worker can look for it
    enqueue_job(settings, row.id)
    response.headers["Location"] = f"/api/forecasts/adhoc/jobs/{row.id}"
    return _job_read(row, settings)


@router.get("/adhoc/jobs/{job_id}", response_model=AdhocJobRead)
def read_adhoc_job(job_id: JOB_ID, session: SessionDep, settings: SettingsDep,
                   principal: CurrentPrincipal) -> AdhocJobRead:
    """The job's status (queued, running, done, failed) and, once done, the forecast. Only its owner sees it."""
    row = session.get(AdhocJobRow, job_id)
    if row is None or (row.user_id != principal.user_id and not principal.allows("admin")):
        raise HTTPException(404, f"no ad-hoc forecast job {job_id}: jobs are kept for their owner only")
    return _job_read(row, settings)
