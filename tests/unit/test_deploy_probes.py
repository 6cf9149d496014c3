"""/api/ready names what is down without leaking secrets; request ids in and out; /metrics by route template."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from services.db.migrate import upgrade
from services.settings import Settings, load_settings
from services.telemetry import EXPORTED_METRICS


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    loaded = load_settings(data_dir=tmp_path / "var", config_dir=tmp_path / "none",
                           frontend_dist=tmp_path / "no-dashboard")
    upgrade(loaded.database_url)
    return loaded


def test_ready_when_everything_answers(settings: Settings) -> None:
    response = TestClient(create_app(settings)).get("/api/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "down": [],
                               "checks": {"database": "ok", "metric_store": "ok", "broker": "ok"}}


def test_not_ready_names_what_is_down_and_hides_passwords(settings: Settings) -> None:
    # nothing listens on port 1: the broker and the metric store are down, the SQLite database is up
    broken = settings.model_copy(update={"broker_url": "redis://:brokerpw@127.0.0.1:1/0",
                                         "metrics_url": "influxdb://headroom:influxpw@127.0.0.1:1/headroom"})
    response = TestClient(create_app(broken)).get("/api/ready")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready" and body["down"] == ["broker", "metric_store"]
    assert body["checks"]["database"] == "ok"
    assert "brokerpw" not in response.text and "influxpw" not in response.text
    assert response.headers["x-request-id"]


def test_request_ids_are_echoed_or_made(settings: Settings) -> None:
    client = TestClient(create_app(settings))
    assert client.get("/api/health", headers={"X-Request-ID": "abc.123"}).headers["x-request-id"] == "abc.123"
    made = client.get("/api/health", headers={"X-Request-ID": "not ok!" * 40}).headers["x-request-id"]
    assert len(made) == 32 and made.isalnum()


def test_metrics_are_prometheus_text_labelled_by_route_template(settings: Settings) -> None:
    client = TestClient(create_app(settings))
    client.get("/api/resources/abc123")  # unauthenticated: 401 on a templated route
    client.get("/api/no/such/route")
    families = {f.name: f for f in text_string_to_metric_families(client.get("/metrics").text)}
    latency = families["headroom_http_request_duration_seconds"]
    routes = {(s.labels["route"], s.labels["status"]) for s in latency.samples if s.name.endswith("_count")}
    assert ("/api/{path:path}", "404") in routes and ("/api/resources/{resource_pk}", "401") in routes
    assert not any("abc" in route for route, _ in routes)
    assert {name for name in families if name.startswith("headroom_")} <= set(EXPORTED_METRICS)
