"""What the recommenders read: resources, usage from the metric store, stored forecasts and billed costs."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from collector.records import Resource, series_id_for
from ml_engine.base import Forecast
from services.costs.cost_series import cost_by_day
from services.db.models import CostRow, ForecastRow, ResourceRow
from services.forecasting.registry import served_forecasts
from services.forecasting.training import latest_forecast
from services.metrics import MetricStore, UnknownSeriesError


@dataclass(frozen=True)
class FleetResource:
    """A resource as the recommenders see it, with its row id and the key recommendations are filed under."""

    pk: int
    key: str  # provider:resource_id
    resource: Resource


def resource_key(provider: str, resource_id: str) -> str:
    return f"{provider}:{resource_id}"


def load_fleet(session: Session) -> list[FleetResource]:
    """Every resource of the inventory, ordered by provider and id."""
    rows = session.scalars(select(ResourceRow).order_by(ResourceRow.provider, ResourceRow.resource_id))
    return [FleetResource(r.id, resource_key(r.provider, r.resource_id), to_resource(r)) for r in rows]


def to_resource(row: ResourceRow) -> Resource:
    return Resource(
        resource_id=row.resource_id,
        provider=row.provider,
        name=row.name,
        kind=row.kind,
        account=row.account,
        region=row.region,
        instance_type=row.instance_type,
        vcpus=row.vcpus,
        memory_gib=row.memory_gib,
        hourly_price=row.hourly_price,
        environment=row.environment,
        tags=dict(row.tags or {}),
    )


def read_usage(
    store: MetricStore,
    resource_id: str,
    metric: str,
    *,
    start: datetime,
    end: datetime,
    step: int | None = None,
    agg: str = "mean",
) -> pd.Series | None:
    """The samples of one metric of one resource in [start, end), or None when the series was never written."""
    try:
        series = store.read(series_id_for(resource_id, metric), start, end, step, agg)
    except UnknownSeriesError:
        return None
    return series if len(series) else None


def stored_forecast(session: Session, series_id: str, stat: str = "mean") -> Forecast | None:
    """The newest stored forecast of a series and statistic as a Forecast (mean and 80/95% bands), or None."""
    row = latest_forecast(session, series_id, stat)
    if row is None or not row.points:
        return None
    return forecast_of(row)


FORECAST_BATCH = 500  # series per query when the forecasts of a whole fleet are read (the rows of one batch at once)


def stored_forecasts(session: Session, series_ids: Sequence[str], stat: str) -> dict[str, Forecast]:
    """stored_forecast of many series, by series id, in two queries per FORECAST_BATCH series: a fleet's forecasts
    without a query per series (the session holds its rows weakly: only the Forecasts stay); series without a
    forecast are left out."""
    ids = sorted(set(series_ids))
    out: dict[str, Forecast] = {}
    for start in range(0, len(ids), FORECAST_BATCH):
        for series_id, row in served_forecasts(session, ids[start : start + FORECAST_BATCH], stat).items():
            if row.points:
                out[series_id] = forecast_of(row)
    return out


def forecast_of(row: ForecastRow) -> Forecast:
    index = pd.DatetimeIndex([p.ts for p in row.points])
    index = index.tz_localize("UTC") if index.tz is None else index.tz_convert("UTC")

    def band(values: list[float | None]) -> pd.Series | None:
        return None if any(v is None for v in values) else pd.Series(values, index=index, dtype="float64")

    lower, upper = {}, {}
    for level in (80, 95):
        lo = band([getattr(p, f"lo{level}") for p in row.points])
        hi = band([getattr(p, f"hi{level}") for p in row.points])
        if lo is not None and hi is not None:
            lower[level], upper[level] = lo, hi
    mean = pd.Series([p.mean for p in row.points], index=index, dtype="float64")
    return Forecast(model=row.model_name, mean=mean, lower=lower, upper=upper, params={"as_of": row.as_of.isoformat()})


def forecast_peak(forecast: Forecast | None, *, now: datetime, hours: float) -> float | None:
    """The highest mean of a forecast within `hours` after `now` (None without a forecast or points there)."""
    if forecast is None:
        return None
    stamp = pd.Timestamp(now)
    window = forecast.mean[(forecast.mean.index > stamp) & (forecast.mean.index <= stamp + pd.Timedelta(hours=hours))]
    return float(window.max()) if len(window) else None


def effective_ratios(session: Session, *, since: date) -> dict[str, float]:
    """Per resource id, effective / list cost of its usage lines since `since` (below 1: discounted or committed)."""
    query = (
        select(CostRow.resource_id, func.sum(CostRow.effective_cost), func.sum(CostRow.list_cost))
        .where(CostRow.charge_period_start >= since, CostRow.resource_id != "", CostRow.charge_category == "Usage")
        .group_by(CostRow.resource_id)
    )
    out = {}
    for rid, effective, listed in session.execute(query):
        if listed and Decimal(listed) > 0:
            out[str(rid)] = float(Decimal(effective) / Decimal(listed))
    return out


def billed_days(session: Session, *, start: date, end: date, provider: str | None = None) -> int:
    """How many distinct days in [start, end) have any cost record (of `provider`): billing data coverage."""
    return len(cost_by_day(session, start=start, end=end, columns=(), provider=provider))
