"""The alerts API: admins manage channels and rules, editors silences; secrets never come back; test messages; the
log."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from services.auth import create_token, ensure_user
from services.db.engine import session_scope
from services.db.migrate import upgrade
from services.settings import load_settings
from tests.integration.test_alerting.receivers import Answer, Receiver

pytestmark = pytest.mark.integration


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, dict[str, str]]]]:
    settings = load_settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'api.db'}",
                             frontend_dist=tmp_path / "no-dist", config_dir=tmp_path / "no-config")
    settings.alerts.allowed_hosts = ["127.0.0.1"]
    upgrade(settings.database_url)
    headers = {}
    for role in ("viewer", "editor", "admin"):
        with session_scope(settings.database_url) as session:
            user = ensure_user(session, email=f"{role}@example.com", role=role)  # type: ignore[arg-type]
            token = create_token(session, user=user, name=f"{role}-token", role=role, ttl=None).token  # type: ignore[arg-type]
        headers[role] = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(settings)) as client:
        yield client, headers


def test_channels_rules_silences_and_test_messages(api: tuple[TestClient, dict[str, dict[str, str]]],
                                                   receiver: Receiver) -> None:
    client, h = api
    slack = {"name": "ops", "type": "slack", "config": {"webhook_url": f"{receiver.url}/services/T/B/TOPSECRET"}}
    assert client.put("/api/alerts/channels", json=slack, headers=h["viewer"]).status_code == 403
    assert client.put("/api/alerts/channels", json=slack, headers=h["editor"]).status_code == 403  # admins only
    r = client.put("/api/alerts/channels", json=slack, headers=h["admin"])
    assert r.status_code == 200, r.text
    assert "TOPSECRET" not in r.text and r.json()["config"]["webhook_url"] == f"http://127.0.0.1:{receiver.port}/…"
    # refused at save time: the metadata address, and a private host that is not allow-listed
    for url in ("https://169.254.169.254/hook", "https://10.1.2.3/hook", "http://example.com/hook"):
        bad = client.put("/api/alerts/channels", json={"name": "bad", "type": "slack",
                                                      "config": {"webhook_url": url}}, headers=h["admin"])
        assert bad.status_code == 422 and ("refused" in bad.json()["detail"]), bad.text
    assert "TOPSECRET" not in client.get("/api/alerts/channels", headers=h["viewer"]).text

    rule = {"name": "cpu-high", "kind": "capacity", "channels": ["ops"], "params": {"threshold": 85}}
    r = client.post("/api/alerts/rules", json=rule, headers=h["admin"])
    assert r.status_code == 201 and r.json()["params"]["quantile"] == "p90"
    bad_rule = client.post("/api/alerts/rules", json={**rule, "name": "x", "params": {"thresold": 1}},
                           headers=h["admin"])
    assert bad_rule.status_code == 422 and "thresold" in bad_rule.json()["detail"]
    unknown = client.post("/api/alerts/rules", json={**rule, "name": "y", "channels": ["nope"]}, headers=h["admin"])
    assert unknown.status_code == 422 and "unknown channels" in unknown.json()["detail"]
    r = client.patch("/api/alerts/rules/cpu-high", json={"severity": "critical", "for_seconds": 600},
                     headers=h["admin"])
    assert r.status_code == 200 and r.json()["severity"] == "critical" and r.json()["params"]["threshold"] == 85

    r = client.post("/api/alerts/silences", json={"rule": "cpu-high", "matchers": {"resource_id": "i-1"},
                                                 "minutes": 60, "comment": "maintenance"}, headers=h["editor"])
    assert r.status_code == 201 and r.json()["created_by"] == "editor-token"
    assert len(client.get("/api/alerts/silences", headers=h["viewer"]).json()) == 1

    r = client.post("/api/alerts/channels/ops/test", headers=h["admin"])
    assert r.status_code == 200 and r.json()["status"] == "delivered" and r.json()["log"][0]["status_code"] == 200
    assert receiver.requests[-1].json()["text"].startswith("[TEST]")
    receiver.answers.append(Answer(404, body=b"no_service"))
    failed = client.post("/api/alerts/channels/ops/test", headers=h["admin"]).json()
    assert failed["status"] == "dead" and "HTTP 404: no_service" in failed["last_error"]
    log = client.get("/api/alerts/deliveries", headers=h["viewer"]).json()
    assert [d["status"] for d in log] == ["dead", "delivered"] and "TOPSECRET" not in str(log)
    assert client.get("/api/alerts?state=firing", headers=h["viewer"]).json() == []
    assert client.delete("/api/alerts/rules/cpu-high", headers=h["admin"]).status_code == 204
