"""GET /api/autoscaling/groups and /groups/{id}/plan over a real (SQLite) database with a stored ASG."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from collector.records import Resource, SampleBatch, SeriesRef
from services.auth import create_token, ensure_user
from services.db.engine import session_scope
from services.db.migrate import upgrade
from services.ingest.ingest import upsert_resources
from services.metrics import open_metric_store
from services.settings import load_settings

DAYS = 21


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = load_settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'api.db'}",
                             frontend_dist=tmp_path / "no-dist", max_points_per_request=10_000)
    upgrade(settings.database_url)
    with session_scope(settings.database_url) as session:
        upsert_resources(session, [
            Resource(resource_id="arn:asg/web", provider="aws", name="web", kind="asg", region="us-east-1",
                     instance_type="m5.large", hourly_price=0.096,
                     tags={"headroom:min_size": "2", "headroom:max_size": "12"}),
            Resource(resource_id="i-001", provider="aws", name="db", kind="vm", region="us-east-1"),
        ])
        user = ensure_user(session, email="viewer@example.com", role="viewer")
        token = create_token(session, user=user, name="t", role="viewer", ttl=timedelta(days=1)).token
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    ts = np.arange(int((now - timedelta(days=DAYS)).timestamp()) // 300 * 300, int(now.timestamp()), 300)
    hours = (ts - ts[0]) / 3600.0
    values = 45 - 30 * np.cos(2 * np.pi * hours / 24) + np.random.default_rng(2).normal(0, 2, ts.size)
    store = open_metric_store(settings.metrics_url)
    store.write([SampleBatch(SeriesRef("arn:asg/web", "cpu_utilization", "percent"), ts.astype(np.int64), values)])
    store.close()
    with TestClient(create_app(settings)) as test_client:
        test_client.headers["Authorization"] = f"Bearer {token}"
        yield test_client


def test_groups_lists_only_scalable_groups_with_their_sizes(client: TestClient) -> None:
    body = client.get("/api/autoscaling/groups").json()
    assert body["total"] == 1
    assert body["items"][0]["name"] == "web" and body["items"][0]["max_size"] == 12


def test_a_group_plan_carries_48_hours_the_reactive_part_and_the_replay(client: TestClient) -> None:
    group = client.get("/api/autoscaling/groups").json()["items"][0]
    r = client.get(f"/api/autoscaling/groups/{group['id']}/plan", params={"risk": 0.05})
    assert r.status_code == 200, r.text
    plan = r.json()
    assert len(plan["hourly"]) == 48 and min(plan["hourly"]) >= 2 and max(plan["hourly"]) <= 12
    assert plan["blocks"] and plan["warmup_seconds"] == 600 and 0.7 <= plan["target_utilisation"] <= 1.0
    policies = {row["policy"]: row for row in plan["replay"]}
    assert policies["oracle"]["cost"] == pytest.approx(1.0)
    assert policies["headroom predictive"]["cost"] < policies["reactive target tracking"]["cost"]
    series = plan["replay_series"]
    assert len(series["timestamps"]) == len(series["plan"]) == len(series["reactive"]) == 7 * 288


def test_an_unknown_group_or_a_machine_is_404_with_a_way_out(client: TestClient) -> None:
    r = client.get("/api/autoscaling/groups/999/plan")
    assert r.status_code == 404 and "GET /api/autoscaling/groups" in r.json()["detail"]
