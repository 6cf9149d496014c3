"""GET /api/series and GET /api/metrics: stored series and their samples over a range."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from api.deps import CurrentPrincipal, MetricStoreDep, SettingsDep
from api.schemas import Aggregation, MetricPoint, MetricsRead, SeriesPage, SeriesRead
from services.metrics import UnknownSeriesError

router = APIRouter(tags=["metrics"])
DEFAULT_RANGE = timedelta(days=7)
MAX_RAW_SPAN = timedelta(days=31)


@router.get("/series", response_model=SeriesPage)
def read_series(
    store: MetricStoreDep,
    _: CurrentPrincipal,
    resource_id: str | None = None,
    metric: str | None = None,
    provider: str | None = None,
) -> SeriesPage:
    filters = {k: v for k, v in {"resource_id": resource_id, "metric": metric, "provider": provider}.items() if v}
    return SeriesPage(
        items=[
            SeriesRead(series_id=s.series_id, resource_id=s.resource_id, metric=s.metric, unit=s.unit,
                       labels=s.labels)
            for s in store.series(filters)
        ]
    )


def _utc(ts: datetime) -> datetime:
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


@router.get("/metrics", response_model=MetricsRead)
def read_metrics(
    store: MetricStoreDep,
    settings: SettingsDep,
    _: CurrentPrincipal,
    series_id: Annotated[str, Query(min_length=1, max_length=400)],
    start: Annotated[datetime | None, Query(description="ISO 8601; default: 7 days before end")] = None,
    end: Annotated[datetime | None, Query(description="ISO 8601, exclusive; default: just after the newest sample")]
    = None,
    step: Annotated[int | None, Query(ge=1, le=31 * 86400, description="Bucket width in seconds")] = None,
    agg: Aggregation = "mean",
) -> MetricsRead:
    newest = store.watermark(series_id)
    if newest is None:
        raise UnknownSeriesError(series_id)
    end = _utc(end) if end else newest + timedelta(seconds=1)
    start = _utc(start) if start else end - DEFAULT_RANGE
    if start >= end:
        raise HTTPException(422, f"start ({start.isoformat()}) must be before end ({end.isoformat()})")
    span = (end - start).total_seconds()
    least = int(span // settings.max_points_per_request) + 1
    if step is None and span > MAX_RAW_SPAN.total_seconds():
        raise HTTPException(422, f"raw samples are served for at most {MAX_RAW_SPAN.days} days at once: "
                                 f"pass step={max(least, 60)} or more, or a shorter range")
    if step is not None and span / step > settings.max_points_per_request:
        raise HTTPException(
            422,
            f"this range would return up to {int(span / step):,} points (limit {settings.max_points_per_request:,}): "
            f"pass step={least} or more, or a shorter range",
        )
    values = store.read(series_id, start, end, step_seconds=step, agg=agg)
    if len(values) > settings.max_points_per_request:
        raise HTTPException(
            422,
            f"this range holds {len(values):,} samples (limit {settings.max_points_per_request:,}): "
            f"pass step={least} or more, or a shorter range",
        )
    return MetricsRead(
        series_id=series_id,
        start=start,
        end=end,
        step=step,
        agg=agg,
        points=[MetricPoint(t=t.to_pydatetime(), v=float(v)) for t, v in values.items()],
    )
