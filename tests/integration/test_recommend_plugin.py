"""A recommender installed from a test-only package, through its entry point alone: it runs in the fleet refresh
and appears in GET /api/recommendations/kinds, in the ?kind= filter and in `headroom recommend kinds`. (The
dashboard's filter is checked by the browser test, whose demo runs with the same package installed.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from services.auth import create_token, ensure_user
from services.db.engine import session_scope
from services.recommend.registry import RECOMMENDERS
from services.settings import load_settings
from tests.integration.recommend_fleet import build_fleet, hour_now, write_catalog

PLUGINS = Path(__file__).resolve().parents[1] / "fixtures" / "plugins"
BUILTIN = ["rightsize", "container_rightsize", "idle", "unattached", "schedule", "commitment", "spot", "runway",
           "autoscaling"]


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.syspath_prepend(str(PLUGINS))
    RECOMMENDERS.reload()
    yield
    monkeypatch.undo()
    RECOMMENDERS.reload()


def test_without_the_package_only_the_builtins_are_known() -> None:
    RECOMMENDERS.reload()
    assert RECOMMENDERS.names() == BUILTIN


def test_entry_point_recommender_runs_and_is_listed_by_the_api(installed: None, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'h.db'}"
    build_fleet(url, hour_now())
    settings = load_settings(
        data_dir=tmp_path, database_url=url, frontend_dist=tmp_path / "no-dist",
        recommend={"catalog_path": str(write_catalog(tmp_path / "catalog.csv")),
                   "plugins": {"busy_cpu": {"threshold_percent": 30}}},
    )
    with session_scope(url) as session:
        user = ensure_user(session, email="editor@example.com", role="editor")
        token = create_token(session, user=user, name="editor", role="editor", ttl=timedelta(days=1)).token
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(settings)) as client:
        kinds = client.get("/api/recommendations/kinds", headers=auth).json()
        assert [k["kind"] for k in kinds] == [*BUILTIN, "busy_cpu"]
        assert kinds[-1] == {"kind": "busy_cpu", "label": "Busy CPU (test plug-in)", "plugin": True,
                             "description": "Flags machines whose CPU p95 is above a threshold."}
        assert client.post("/api/recommendations/refresh", headers=auth).status_code == 200
        page = client.get("/api/recommendations", params={"kind": "busy_cpu"}, headers=auth)
        assert page.status_code == 200, page.text
        flagged = {r["resource_key"]: r for r in page.json()["items"]}
        assert flagged, "the plug-in's recommendations were not stored"
        assert all(r["kind"] == "busy_cpu" and r["evidence"]["observed"]["cpu_p95"] > 30 for r in flagged.values())
        unknown = client.get("/api/recommendations", params={"kind": "nope"}, headers=auth)
        assert unknown.status_code == 422 and "busy_cpu" in unknown.json()["detail"]


def test_entry_point_recommender_is_listed_by_the_cli(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PLUGINS), os.environ.get("PYTHONPATH", "")]),
           "HEADROOM_DATA_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "cli.main", "recommend", "kinds", "--output", "json"], env=env,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert [r["kind"] for r in rows] == [*BUILTIN, "busy_cpu"] and rows[-1]["plugin"] == "yes"
