"""What the fleet run reads for each resource: usage windows from the metric store and the stored forecasts."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pandas as pd
from sqlalchemy.orm import Session

from collector.records import series_id_for
from ml_engine.base import Forecast
from services.autoscaling.inventory import HISTORY_DAYS as GROUP_DAYS
from services.autoscaling.inventory import SCALABLE_KINDS
from services.metrics import MetricStore
from services.recommend.config import RecommendSettings
from services.recommend.inputs import FleetResource, read_usage, stored_forecasts

MACHINE_KINDS = ("vm", "database")
READ_CONCURRENCY = 4  # metric-store reads in flight: the store answers one while the last answer is parsed


@dataclass
class Usage:
    """One resource's usage as the recommenders read it."""

    cpu: pd.Series | None = None
    memory: pd.Series | None = None
    network: pd.Series | None = None
    hourly: dict[str, pd.Series] = field(default_factory=dict)  # metric -> hourly means for runway and spend
    forecasts: dict[tuple[str, str], Forecast] = field(default_factory=dict)  # (metric, stat) -> stored forecast


def read_fleet(
    session: Session, store: MetricStore, fleet: list[FleetResource], s: RecommendSettings, now: datetime
) -> dict[str, Usage]:
    """Every resource's usage by resource key: the stored forecasts in a few queries, the metric store's windows
    READ_CONCURRENCY at a time (both stores take reads from several threads)."""
    forecasts = _fleet_forecasts(session, fleet, s)
    with ThreadPoolExecutor(max_workers=READ_CONCURRENCY, thread_name_prefix="recommend-read") as pool:
        read = pool.map(lambda item: _read(store, item, s, now, forecasts), fleet)
        return {item.key: usage for item, usage in zip(fleet, read, strict=True)}


def _forecast_metrics(s: RecommendSettings) -> list[str]:
    return sorted({"cpu_utilization", *s.runway.thresholds})  # CPU also sizes commitments and groups


def _fleet_forecasts(
    session: Session, fleet: list[FleetResource], s: RecommendSettings
) -> dict[tuple[str, str], Forecast]:
    """The stored forecasts _read uses, of the whole fleet, by (series id, stat): a few queries, not 6 a machine."""
    machines = [series_id_for(f.resource.resource_id, m) for f in fleet if f.resource.kind in MACHINE_KINDS
                for m in _forecast_metrics(s)]
    containers = [series_id_for(f.resource.resource_id, m) for f in fleet if f.resource.kind == "container"
                  for m in ("cpu_utilization", "memory_utilization")]
    wanted = {"mean": machines, "p95": machines + containers}
    return {(sid, stat): f for stat, ids in wanted.items() for sid, f in stored_forecasts(session, ids, stat).items()}


def _read(
    store: MetricStore, item: FleetResource, s: RecommendSettings, now: datetime,
    forecasts: dict[tuple[str, str], Forecast],
) -> Usage:
    rid, usage = item.resource.resource_id, Usage()
    if item.resource.kind in SCALABLE_KINDS:  # a group's demand: enough weeks to replay its last one
        usage.cpu = read_usage(store, rid, "cpu_utilization", start=now - timedelta(days=GROUP_DAYS), end=now)
        return usage
    if item.resource.kind not in (*MACHINE_KINDS, "container"):
        return usage
    sizing_days = max(s.vm.lookback_days, s.idle.lookback_days, s.schedule.lookback_days)
    start = now - timedelta(days=sizing_days)
    usage.cpu = read_usage(store, rid, "cpu_utilization", start=start, end=now)
    usage.memory = read_usage(store, rid, "memory_utilization", start=start, end=now)
    if item.resource.kind == "container":
        for metric in ("cpu_utilization", "memory_utilization"):
            forecast = forecasts.get((series_id_for(rid, metric), "p95"))
            if forecast is not None:
                usage.forecasts[(metric, "p95")] = forecast
        return usage
    net = [read_usage(store, rid, m, start=start, end=now) for m in ("network_in_bytes", "network_out_bytes")]
    present = [n for n in net if n is not None]
    usage.network = pd.concat(present, axis=1).sum(axis=1) if present else None
    history_days = max(s.runway.trend_lookback_days, float(max(s.commitments.lookback_days)))
    for metric in _forecast_metrics(s):
        hourly = read_usage(store, rid, metric, start=now - timedelta(days=history_days), end=now, step=3600)
        if hourly is not None:
            usage.hourly[metric] = hourly
        for stat in ("mean", "p95"):
            forecast = forecasts.get((series_id_for(rid, metric), stat))
            if forecast is not None:
                usage.forecasts[(metric, stat)] = forecast
    return usage


