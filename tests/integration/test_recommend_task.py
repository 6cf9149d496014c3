"""The daily recommendation refresh through a real Celery worker (embedded SQLite transport), and its beat entry."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from services.db.engine import session_scope
from services.recommend import TASK_REFRESH_RECOMMENDATIONS
from services.recommend.store import list_recommendations
from services.settings import load_settings
from services.tasks import make_celery
from testbed.servers import celery_worker
from tests.integration.recommend_fleet import EXPECTED_OPEN, build_fleet, hour_now, write_catalog

pytestmark = pytest.mark.integration


def test_refresh_task_through_a_worker(tmp_path: Path) -> None:
    data = tmp_path / "var"
    data.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADROOM_")}
    env |= {
        "HEADROOM_DATA_DIR": str(data),
        "HEADROOM_CONFIG_DIR": str(tmp_path / "no-config"),
        "HEADROOM_RECOMMEND__CATALOG_PATH": str(write_catalog(tmp_path / "catalog.csv")),
    }
    settings = load_settings(data_dir=data)
    build_fleet(settings.database_url, hour_now())
    with celery_worker(env, tmp_path / "worker.log", "test-recommend"):
        app = make_celery(settings)
        first = app.send_task(TASK_REFRESH_RECOMMENDATIONS).get(timeout=180)
        again = app.send_task(TASK_REFRESH_RECOMMENDATIONS).get(timeout=180)
    assert first["created"] > 0 and again == {**first, "created": 0, "updated": first["created"]}
    with session_scope(settings.database_url) as session:
        rows, _ = list_recommendations(session, size=1000)
    assert {r.resource_key: (r.kind, r.monthly_savings_list) for r in rows if r.kind != "runway"} == EXPECTED_OPEN


def test_the_refresh_runs_after_the_daily_training(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, forecasting={"retrain_hour_utc": 23})
    entry = make_celery(settings).conf.beat_schedule["refresh-recommendations"]
    assert entry["task"] == TASK_REFRESH_RECOMMENDATIONS
    assert entry["schedule"].hour == {(23 + settings.recommend.refresh_hours_after_training) % 24}
