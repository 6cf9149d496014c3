"""GET /api/forecasts: the newest stored forecast of a series, with its intervals.

A forecast changes once a day and is read on every resource page, so each API process keeps the rendered body of
the forecasts it served (api.response_cache): a read costs one indexed query for the served forecast's id, and the
points are loaded and rendered again only when that id changes. The ETag lets a browser revalidate for nothing
(304)."""

from __future__ import annotations

from typing import Annotated, Literal

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi import APIRouter, HTTPException, Query, Request, Response

from api.deps import CurrentPrincipal, SettingsDep
from api.response_cache import Rendered, ResponseCache
from api.schemas import ForecastPointRead, ForecastRead
from services.db.engine import session_scope
from services.db.models import ForecastRow
from services.forecasting.registry import served_forecast, served_forecast_id

router = APIRouter(prefix="/forecasts", tags=["forecasts"])
CACHE_ENTRIES = 2048  # a 5-minute day of points renders to about 40 KB: at most about 80 MB per API process


LOOKUP_THREADS = 4  # look-ups at once per process: each holds a database connection (api.deps.SESSION_CONCURRENCY)


def rendered_forecasts(request: Request) -> tuple[ResponseCache, CapacityLimiter]:
    """The app's cache of rendered forecasts (one per app: one per database) and the threads that look them up."""
    app_state = request.app.state
    if not hasattr(app_state, "rendered_forecasts"):
        app_state.rendered_forecasts = ResponseCache(CACHE_ENTRIES)
        app_state.forecast_lookups = CapacityLimiter(LOOKUP_THREADS)
    return app_state.rendered_forecasts, app_state.forecast_lookups


def render(row: ForecastRow) -> bytes:
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
    ).model_dump_json().encode()


@router.get("", response_model=ForecastRead)
async def read_forecast(
    request: Request,
    settings: SettingsDep,
    _: CurrentPrincipal,
    series_id: Annotated[str, Query(min_length=1, max_length=400)],
    stat: Literal["mean", "p95", "daily_cost"] = "mean",
) -> Response:
    cache, threads = rendered_forecasts(request)

    def look_up() -> Rendered | None:
        """On one thread, with the session open only here (no thread or connection is held otherwise)."""
        with session_scope(settings.database_url) as session:
            served = served_forecast_id(session, series_id, stat)
            if served is None:
                return None

            def load_and_render() -> bytes:
                row = served_forecast(session, series_id, stat)
                assert row is not None  # noqa: S101 (its id was just read in the same transaction)
                return render(row)

            return cache.get_or_render((series_id, stat), served, load_and_render)

    rendered = await anyio.to_thread.run_sync(look_up, limiter=threads)
    if rendered is None:
        raise HTTPException(
            404, f"no {stat} forecast for {series_id!r} yet: it appears after the next training run (`headroom train`)"
        )
    headers = {"ETag": rendered.etag, "Cache-Control": "private, no-cache"}  # revalidate: a retrain may replace it
    if request.headers.get("if-none-match") == rendered.etag:
        return Response(status_code=304, headers=headers)
    return Response(rendered.body, media_type="application/json", headers=headers)
