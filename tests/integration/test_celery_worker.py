"""Celery tasks through a real worker process: on Redis (distributed) and on the SQLite transport (embedded)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from collector.records import SampleBatch, SeriesRef
from services.db.engine import session_scope
from services.db.migrate import upgrade
from services.db.models import ForecastRow, ModelVersionRow, ResourceRow, TrainingItemRow, TrainingRunRow
from services.metrics import open_metric_store
from services.settings import load_settings
from services.tasks import TASK_CHECK_FOR_RETRAIN, TASK_COLLECT_SOURCE, TASK_RETRAIN_CHUNK, make_celery
from testbed.servers import celery_worker, start_celery_worker, stop_celery_worker

pytestmark = pytest.mark.integration


def _env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADROOM_")}
    env.update(values)
    return env


@pytest.fixture(params=["redis", "embedded"])
def deployment(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, str]]:
    if request.param == "redis":
        settings = {
            "HEADROOM_DATABASE_URL": request.getfixturevalue("make_postgres_db")(),
            "HEADROOM_BROKER_URL": request.getfixturevalue("redis_url"),
            "HEADROOM_RESULT_BACKEND": request.getfixturevalue("redis_url"),
        }
    else:
        settings = {}
    settings |= {
        "HEADROOM_DATA_DIR": str(tmp_path / "var"),
        "HEADROOM_CONFIG_DIR": str(tmp_path / "no-config"),
        "HEADROOM_PROVIDERS__DEMO__RESOURCES": "3",
        "HEADROOM_PROVIDERS__DEMO__DAYS": "4",
        "HEADROOM_FORECASTING__MODEL": "seasonal_naive",
    }
    resolved = load_settings(**{k.removeprefix("HEADROOM_").lower(): v for k, v in settings.items()
                                if "__" not in k})
    upgrade(resolved.database_url)
    with celery_worker(_env(**settings), tmp_path / "worker.log", f"test-{request.param}", concurrency=2):
        yield settings | {"database_url": resolved.database_url, "metrics_url": resolved.metrics_url,
                          "broker_url": resolved.broker_url, "result_backend": resolved.result_backend}


def test_collect_then_retrain_through_a_worker(deployment: dict[str, str]) -> None:
    app = make_celery(load_settings(broker_url=deployment["broker_url"],
                                    result_backend=deployment["result_backend"],
                                    data_dir=Path(deployment["HEADROOM_DATA_DIR"])))
    result = app.send_task(TASK_COLLECT_SOURCE, args=["demo"]).get(timeout=180)
    assert result["source"] == "demo" and result["resources"] == 3 and result["samples"] > 0
    with session_scope(deployment["database_url"]) as session:
        assert session.scalar(select(func.count()).select_from(ResourceRow)) == 3
    # the same task again stores nothing new: the watermark is respected
    again = app.send_task(TASK_COLLECT_SOURCE, args=["demo"]).get(timeout=180)
    assert again["samples"] < result["samples"] / 100
    store = open_metric_store(deployment["metrics_url"])
    n_series = len(store.series())
    store.close()
    # the daily check fans out one retrain task per series; each stores a forecast per statistic
    app.send_task(TASK_CHECK_FOR_RETRAIN, args=[datetime.now(UTC).date().isoformat()])
    deadline = time.monotonic() + 240
    count = 0
    while time.monotonic() < deadline:
        with session_scope(deployment["database_url"]) as session:
            count = session.scalar(select(func.count()).select_from(ForecastRow)) or 0
        if count >= 2 * n_series:
            break
        time.sleep(1)
    assert count == 2 * n_series


def _task_ids(log: str, event: str) -> set[str]:
    return set(re.findall(rf"Task {re.escape(TASK_RETRAIN_CHUNK)}\[([0-9a-f-]+)\] {event}", log))


def test_a_worker_killed_mid_chunk_and_a_second_one_train_every_series_exactly_once(
    make_postgres_db: Callable[[], str], redis_url: str, tmp_path: Path
) -> None:
    database_url = make_postgres_db()
    upgrade(database_url)
    day = date(2026, 11, 20)
    series = 6
    end = int(datetime(2026, 11, 20, 23, tzinfo=UTC).timestamp())
    ts = np.arange(end - 6 * 86400, end, 300, dtype=np.int64)
    store = open_metric_store(database_url)
    store.write([SampleBatch(SeriesRef(f"vm-{n}", "cpu_utilization"), ts,
                             30 + n + 10 * np.sin(2 * np.pi * ts / 86400)
                             + np.random.default_rng(n).normal(0, 1, ts.size)) for n in range(series)])
    store.close()
    env = _env(HEADROOM_DATABASE_URL=database_url, HEADROOM_BROKER_URL=redis_url, HEADROOM_RESULT_BACKEND=redis_url,
               HEADROOM_DATA_DIR=str(tmp_path / "var"), HEADROOM_CONFIG_DIR=str(tmp_path / "no-config"),
               HEADROOM_FORECASTING__MODEL="auto_ets", HEADROOM_FORECASTING__HISTORY_DAYS="6",
               HEADROOM_TRAINING__CHUNK_SIZE="2", HEADROOM_TRAINING__VISIBILITY_TIMEOUT_SECONDS="5")
    settings = load_settings(database_url=database_url, broker_url=redis_url, result_backend=redis_url,
                             data_dir=tmp_path / "var")
    app = make_celery(settings)

    def items() -> int:
        with session_scope(database_url) as session:
            return session.scalar(select(func.count()).select_from(TrainingItemRow)) or 0

    first = start_celery_worker(env, tmp_path / "first.log", "first")
    second: subprocess.Popen[bytes] | None = None
    try:
        app.send_task(TASK_CHECK_FOR_RETRAIN, args=[day.isoformat()])
        # kill the first worker in the middle of a chunk: one of its two series is committed, the other is fitting
        deadline = time.monotonic() + 120
        while (done := items()) % 2 == 0 or done >= series:
            assert done < series and time.monotonic() < deadline, "never caught the worker inside a chunk"
            time.sleep(0.02)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        killed_at = items()
        assert killed_at < series
        time.sleep(6)  # past the visibility timeout: the chunk the dead worker held goes back to the queue
        second = start_celery_worker(env, tmp_path / "second.log", "second")
        in_flight = _task_ids((tmp_path / "first.log").read_text(), "received") - _task_ids(
            (tmp_path / "first.log").read_text(), "succeeded")
        assert len(in_flight) == 1, "the killed worker should have held exactly one chunk"
        # done when every series is trained and the second worker has run the dead worker's chunk (it may find
        # all of that chunk committed already: the kill can land between the commit and the acknowledgement).
        # With a 5 s visibility timeout a chunk may even be handed out twice: the (series, day) items absorb it.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with session_scope(database_url) as session:
                finished = session.scalars(select(TrainingRunRow)).one().status == "finished"
            if finished and in_flight <= _task_ids((tmp_path / "second.log").read_text(), "succeeded"):
                break
            time.sleep(0.5)
    finally:
        stop_celery_worker(first)
        if second is not None:
            stop_celery_worker(second)
    second_log = (tmp_path / "second.log").read_text()
    assert in_flight <= _task_ids(second_log, "succeeded"), second_log[-3000:]  # redelivered and finished
    with session_scope(database_url) as session:
        run = session.scalars(select(TrainingRunRow)).one()
        assert (run.as_of, run.status, run.total, run.done, run.skipped, run.failed) == (
            day, "finished", series, series, 0, 0)
        item_rows = session.scalars(select(TrainingItemRow)).all()
        assert len(item_rows) == series and {(i.status, i.attempts) for i in item_rows} == {("trained", 1)}
        per_series = session.execute(
            select(ModelVersionRow.series_id, ModelVersionRow.stat, func.count())
            .where(ModelVersionRow.as_of == day).group_by(ModelVersionRow.series_id, ModelVersionRow.stat)
        ).all()
        assert len(per_series) == 2 * series and {n for _, _, n in per_series} == {1}  # exactly once each
        assert session.scalar(select(func.count()).select_from(ForecastRow)) == 2 * series
