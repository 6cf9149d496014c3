"""Celery tasks through a real worker process: on Redis (distributed) and on the SQLite transport (embedded)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.db.engine import session_scope
from services.db.migrate import upgrade
from services.db.models import ForecastRow, ResourceRow
from services.metrics import open_metric_store
from services.settings import load_settings
from services.tasks import TASK_CHECK_FOR_RETRAIN, TASK_COLLECT_SOURCE, make_celery

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
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "services.tasks:app", "worker", "--concurrency=2", "--loglevel=INFO",
         f"--hostname=test-{request.param}@%h"],
        env=_env(**settings), stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        yield settings | {"database_url": resolved.database_url, "metrics_url": resolved.metrics_url,
                          "broker_url": resolved.broker_url, "result_backend": resolved.result_backend}
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        log.close()


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
