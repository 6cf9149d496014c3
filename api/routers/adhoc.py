"""POST /api/forecasts/adhoc: a forecast with intervals and a backtest score of an uploaded `timestamp,value` CSV."""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, File, Form, HTTPException, UploadFile, status
from fastapi.concurrency import run_in_threadpool

from api.deps import CurrentPrincipal, MetricStoreDep, SettingsDep
from api.schemas import ForecastPointRead, MetricPoint
from api.schemas_dashboard import AdhocForecastRead
from collector.records import SampleBatch, SeriesRef
from services.forecasting.adhoc_forecast import UploadError, forecast_upload
from services.forecasting.forecasters import FORECASTERS

router = APIRouter(prefix="/forecasts", tags=["forecasts"])
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


def _too_large(limit: int) -> HTTPException:
    return HTTPException(
        status.HTTP_413_CONTENT_TOO_LARGE,
        f"the upload is larger than {limit:,} bytes (adhoc.max_upload_bytes): send fewer or coarser rows, "
        "e.g. hourly instead of per-minute samples",
    )


def _opt(v: float) -> float | None:
    return None if v != v else float(v)  # NaN -> None


@router.post("/adhoc", response_model=AdhocForecastRead)
async def forecast_adhoc(
    settings: SettingsDep,
    store: MetricStoreDep,
    principal: CurrentPrincipal,
    file: Annotated[UploadFile, File(description="CSV with the header `timestamp,value`; ISO 8601 or epoch seconds")],
    horizon_hours: Annotated[int, Form(ge=1, le=24 * 366)] = 168,
    model: Annotated[str | None, Form(description="A forecaster name; default: the configured one")] = None,
    save: Annotated[bool, Form(description="Store the upload as series upload:<name>/value (editor)")] = False,
    name: Annotated[str | None, Form(pattern=NAME_PATTERN, description="Name to store it under")] = None,
) -> AdhocForecastRead:
    limit = settings.adhoc.max_upload_bytes
    content = await file.read(limit + 1)
    if len(content) > limit:
        raise _too_large(limit)
    if horizon_hours > settings.adhoc.max_horizon_hours:
        raise HTTPException(422, f"horizon_hours may be at most {settings.adhoc.max_horizon_hours} "
                                 "(adhoc.max_horizon_hours)")
    chosen = model or settings.forecasting.model
    if chosen not in FORECASTERS:
        raise HTTPException(422, f"unknown model {chosen!r}: choose one of {', '.join(FORECASTERS.names())}")
    if save:
        if not principal.allows("editor"):
            raise HTTPException(403, f"storing an upload needs the editor role; your token is {principal.role}")
        if not name:
            raise HTTPException(422, "form field 'name': give a name to store the upload under (or save=false)")
    try:
        result = await run_in_threadpool(
            forecast_upload, content, horizon_hours=horizon_hours, model=chosen, levels=settings.forecasting.levels
        )
    except UploadError as exc:
        raise HTTPException(422, str(exc)) from exc
    stored = None
    if save and name:
        ref = SeriesRef(resource_id=f"upload:{name}", metric="value", labels={"source": "upload"})
        epochs = np.array([int(t.timestamp()) for t in result.raw.index], dtype=np.int64)
        await run_in_threadpool(store.write, [SampleBatch(ref, epochs, result.raw.to_numpy())])
        stored = ref.series_id
    frame = result.forecast
    return AdhocForecastRead(
        model=result.model,
        horizon_hours=horizon_hours,
        history=[MetricPoint(t=t.to_pydatetime(), v=float(v)) for t, v in result.history.items()],
        points=[
            ForecastPointRead(
                t=t.to_pydatetime(),
                mean=float(row["mean"]),
                lo80=_opt(row.get("lo80", float("nan"))),
                hi80=_opt(row.get("hi80", float("nan"))),
                lo95=_opt(row.get("lo95", float("nan"))),
                hi95=_opt(row.get("hi95", float("nan"))),
            )
            for t, row in frame.iterrows()
        ],
        backtest=result.backtest,
        regularized=result.regularized,
        stored_series_id=stored,
    )
