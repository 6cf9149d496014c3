"""Ad-hoc forecasts are jobs: queued for a worker (never fitted in the API), bounded in size, per token and in time."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from celery.exceptions import SoftTimeLimitExceeded

from collector.records import SampleBatch
from services.db.engine import session_scope
from services.db.models import AdhocJobRow
from services.forecasting import adhoc_jobs, adhoc_tasks
from services.metrics import open_metric_store
from services.settings import get_settings
from services.tasks import make_celery
from testbed.servers import celery_worker
from tests.integration.test_security.conftest import Api

START = datetime(2026, 10, 1, tzinfo=UTC)


def _csv(hours: int = 72, gap_years: int = 0) -> bytes:
    stamps = [START + timedelta(hours=h) for h in range(hours)]
    if gap_years:
        stamps.append(stamps[-1] + timedelta(days=365 * gap_years))
    return ("timestamp,value\n" + "".join(f"{t.isoformat()},{40 + i % 24}\n" for i, t in enumerate(stamps))).encode()


def _post(api: Api, role: str = "viewer", csv: bytes | None = None, **form: str) -> Any:
    return api.client.post("/api/forecasts/adhoc", files={"file": ("u.csv", csv or _csv())},
                           data={"model": "seasonal_naive", **form}, headers=api.as_(role))


def _queued_tasks(api: Api) -> list[tuple[str, list[Any]]]:
    with make_celery(api.settings).connection_for_read() as conn:
        queue = conn.SimpleQueue("celery")
        found = []
        while queue.qsize():
            message = queue.get(block=False)
            found.append((message.headers["task"], message.decode()[0]))
            message.ack()
        queue.close()
    return found


def test_the_forecast_is_queued_for_a_worker_not_run_in_the_api(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def inline(*_: object, **__: object) -> None:
        raise AssertionError("the API process fitted a model")

    monkeypatch.setattr(adhoc_jobs, "forecast_upload", inline)
    r = _post(api)
    assert r.status_code == 202, r.text
    job = r.json()
    assert job["status"] == "queued" and job["result"] is None and r.headers["location"] == job["url"]
    assert _queued_tasks(api) == [(adhoc_tasks.TASK_ADHOC_FORECAST, [job["id"]])]
    assert api.client.get(job["url"], headers=api.as_("viewer")).json()["status"] == "queued"


def test_a_five_year_gap_is_refused_before_anything_is_queued(api: Api) -> None:
    r = _post(api, csv=_csv(72, gap_years=5))
    assert r.status_code == 422
    assert "spans 43,8" in r.json()["detail"] and "adhoc.jobs.max_hours" in r.json()["detail"]
    assert _queued_tasks(api) == []


def test_each_token_has_a_few_jobs_at_once(make_api: Callable[..., Api]) -> None:
    api = make_api(adhoc={"jobs": {"per_token_concurrency": 2}})
    assert [_post(api).status_code for _ in range(2)] == [202, 202]
    refused = _post(api)
    assert refused.status_code == 429 and "adhoc.jobs.per_token_concurrency" in refused.json()["detail"]
    assert int(refused.headers["retry-after"]) > 0
    assert _post(api, role="editor").status_code == 202  # another token is not held up


def test_a_job_is_its_owners(api: Api) -> None:
    url = _post(api).json()["url"]
    assert api.client.get(url, headers=api.as_("editor")).status_code == 404
    assert api.client.get(url, headers=api.as_("admin")).status_code == 200
    assert api.client.get("/api/forecasts/adhoc/jobs/not-an-id", headers=api.as_("viewer")).status_code == 422


def test_the_time_limit_fails_the_job(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    job = _post(api).json()
    monkeypatch.setenv("HEADROOM_DATABASE_URL", api.settings.database_url)
    monkeypatch.setenv("HEADROOM_DATA_DIR", str(api.settings.data_dir))
    get_settings.cache_clear()

    def too_slow(*_: object, **__: object) -> str:
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(adhoc_tasks, "run_job", too_slow)
    try:
        assert adhoc_tasks.adhoc_forecast_task(job["id"]) == "failed"
    finally:
        get_settings.cache_clear()
    failed = api.client.get(job["url"], headers=api.as_("viewer")).json()
    assert failed["status"] == "failed" and "adhoc.jobs.time_limit_seconds" in failed["error"]


def test_a_job_no_worker_finished_reads_as_failed_and_frees_its_slot(make_api: Callable[..., Api]) -> None:
    api = make_api(adhoc={"jobs": {"per_token_concurrency": 1}})
    job = _post(api).json()
    with session_scope(api.settings.database_url) as session:
        session.get_one(AdhocJobRow, job["id"]).created_at = datetime.now(UTC) - timedelta(hours=1)
    assert api.client.get(job["url"], headers=api.as_("viewer")).json()["status"] == "failed"
    assert _post(api).status_code == 202


def test_a_stored_upload_is_not_overwritten_silently(api: Api) -> None:
    store = open_metric_store(api.settings.metrics_url)
    store.write([SampleBatch(adhoc_jobs.upload_series_ref("checkout"), np.array([1_700_000_000]), np.array([1.0]))])
    taken = _post(api, role="editor", save="true", name="checkout")
    assert taken.status_code == 409 and "replace=true" in taken.json()["detail"]
    assert _post(api, role="editor", save="true", name="checkout", replace="true").status_code == 202


def test_a_real_worker_answers_the_job(api: Api, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEADROOM_")}
    env |= {"HEADROOM_DATA_DIR": str(api.settings.data_dir), "HEADROOM_DATABASE_URL": api.settings.database_url,
            "HEADROOM_CONFIG_DIR": str(tmp_path / "no-config")}
    job = _post(api, role="editor", save="true", name="load").json()
    with celery_worker(env, tmp_path / "worker.log", "adhoc"):
        deadline = time.monotonic() + 120
        while (state := api.client.get(job["url"], headers=api.as_("editor")).json())["status"] in ("queued",
                                                                                                     "running"):
            assert time.monotonic() < deadline, (tmp_path / "worker.log").read_text()[-3000:]
            time.sleep(0.5)
    assert state["status"] == "done", state
    assert len(state["result"]["history"]) == 72 and state["result"]["stored_series_id"] == "upload:load/value"
