"""GET /api/forecasts: the newest stored forecast of a series, with its intervals."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query

from api.deps import CurrentPrincipal, SessionDep
from api.schemas import ForecastPointRead, ForecastRead
from services.forecasting.training import latest_forecast

router = APIRouter(prefix="/forecasts", tags=["forecasts"])


@router.get("", response_model=ForecastRead)
def read_forecast(
    session: SessionDep,
    _: CurrentPrincipal,
    series_id: Annotated[str, Query(min_length=1, max_length=400)],
    stat: Literal["mean", "p95", "daily_cost"] = "mean",
) -> ForecastRead:
    row = latest_forecast(session, series_id, stat)
    if row is None:
        raise HTTPException(
            404, f"no {stat} forecast for {series_id!r} yet: it appears after the next training run (`headroom train`)"
        )
    return ForecastRead(
        series_id=row.series_id,
        stat=row.stat,
        model=row.model_name,
        as_of=row.as_of,
        created_at=row.created_at,
        step=row.step_seconds,
        points=[
            ForecastPointRead(t=p.ts, mean=p.mean, lo80=p.lo80, hi80=p.hi80, lo95=p.lo95, hi95=p.hi95)
            for p in row.points
        ],
    )
