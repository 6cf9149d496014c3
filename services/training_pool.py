"""Train many series on several processes (`headroom train --jobs N`); each process opens its own stores."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from datetime import date

from services.metrics import MetricStore, open_metric_store
from services.settings import ForecastingSettings
from services.training import Progress, TrainSummary, train_all

_store: MetricStore | None = None
_db_url = ""
_settings: ForecastingSettings | None = None


def _init(metrics_url: str, db_url: str, settings: ForecastingSettings) -> None:
    global _store, _db_url, _settings
    _store, _db_url, _settings = open_metric_store(metrics_url), db_url, settings


def _train_one(series_id: str, as_of: date) -> TrainSummary:
    assert _store is not None and _settings is not None
    return train_all(as_of=as_of, metric_store=_store, db_url=_db_url, settings=_settings, series_ids=[series_id])


def train_in_processes(
    *,
    as_of: date,
    metrics_url: str,
    db_url: str,
    settings: ForecastingSettings,
    jobs: int,
    series_ids: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> TrainSummary:
    """Like train_all, spread over `jobs` processes (1 = in this process)."""
    started = time.perf_counter()
    if series_ids is None:
        store = open_metric_store(metrics_url)
        try:
            series_ids = [info.series_id for info in store.series()]
        finally:
            store.close()
    ids = list(series_ids)
    if jobs <= 1 or len(ids) <= 1:
        store = open_metric_store(metrics_url)
        try:
            return train_all(as_of=as_of, metric_store=store, db_url=db_url, settings=settings, series_ids=ids,
                             progress=progress)
        finally:
            store.close()
    summary = TrainSummary(as_of=as_of, total=len(ids))
    context = multiprocessing.get_context("spawn")  # no connections inherited from this process
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init,
                             initargs=(metrics_url, db_url, settings)) as pool:
        futures = {pool.submit(_train_one, sid, as_of): sid for sid in ids}
        for done, future in enumerate(as_completed(futures), start=1):
            part = future.result()
            summary.trained += part.trained
            summary.skipped |= part.skipped
            summary.errors |= part.errors
            if progress is not None:
                progress(done, len(ids), futures[future])
    summary.seconds = time.perf_counter() - started
    return summary
