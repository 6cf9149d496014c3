"""Train many series on several processes (`headroom train --jobs N`); each process opens its own stores.

The day's global network is trained (or found stored) first and every process loads it, exactly as the Celery
retrain does (services.tasks.retrain_global, retrain_chunk): the demo, `headroom train` and the daily retrain fit
the same ensemble, global network included, which is the one `headroom eval` measures."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from datetime import date

from services.db.engine import session_scope
from services.forecasting.global_model import ensure_global_model, load_global_model
from services.forecasting.registry import open_artifact_store
from services.forecasting.training import Progress, TrainSummary, train_all
from services.forecasting.training_runs import start_run
from services.metrics import open_metric_store
from services.settings import Settings


@dataclass(frozen=True)
class _Job:
    settings: Settings
    as_of: date
    force: bool


_job: _Job | None = None


def _init(job: _Job) -> None:
    global _job
    _job = job


def _train(series_ids: list[str], progress: Progress | None = None) -> TrainSummary:
    assert _job is not None
    settings = _job.settings
    store = open_metric_store(settings.metrics_url)
    try:
        return train_all(as_of=_job.as_of, metric_store=store, db_url=settings.database_url,
                         settings=settings.forecasting, series_ids=series_ids, progress=progress,
                         training=settings.training, artifacts=open_artifact_store(settings.artifacts_url),
                         force=_job.force, global_nn=load_global_model(settings, _job.as_of))
    finally:
        store.close()


def all_series_ids(settings: Settings) -> list[str]:
    """Every metric series and every cost series (cost:total, cost:provider:<name>)."""
    from services.costs.cost_series import cost_series_ids

    store = open_metric_store(settings.metrics_url)
    try:
        ids = [info.series_id for info in store.series()]
    finally:
        store.close()
    with session_scope(settings.database_url) as session:
        return ids + cost_series_ids(session)


def train_in_processes(
    *,
    as_of: date,
    settings: Settings,
    jobs: int,
    series_ids: Sequence[str] | None = None,
    progress: Progress | None = None,
    force: bool = False,
) -> TrainSummary:
    """train_all over series_ids (default: all metric and cost series) spread over `jobs` processes (1 = in this
    process), recorded as the day's training run."""
    started = time.perf_counter()
    ids = list(series_ids) if series_ids is not None else all_series_ids(settings)
    with session_scope(settings.database_url) as session:
        start_run(session, as_of, len(ids))
    ensure_global_model(settings, as_of)
    job = _Job(settings, as_of, force)
    if jobs <= 1 or len(ids) <= 1:
        _init(job)
        return _train(ids, progress)
    summary = TrainSummary(as_of=as_of, total=len(ids))
    context = multiprocessing.get_context("spawn")  # no connections inherited from this process
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_init, initargs=(job,)) as pool:
        futures = {pool.submit(_train, [sid]): sid for sid in ids}
        for done, future in enumerate(as_completed(futures), start=1):
            part = future.result()
            summary.trained += part.trained
            summary.skipped |= part.skipped
            summary.errors |= part.errors
            if progress is not None:
                progress(done, len(ids), futures[future])
    summary.seconds = time.perf_counter() - started
    return summary
