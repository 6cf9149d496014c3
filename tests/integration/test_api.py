"""The API over a real (SQLite) database: auth, roles, errors with messages, resources, metrics, forecasts."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from api.app import create_app
from api.schemas import ForecastRead
from collector.records import Resource, SampleBatch, SeriesRef
from services.auth import create_token, ensure_user, revoke_token
from services.db.engine import session_scope
from services.db.migrate import upgrade
from services.db.models import ApiTokenRow
from services.ingest.ingest import upsert_resources
from services.metrics import open_metric_store
from services.settings import Settings, load_settings

START = datetime(2026, 10, 1, tzinfo=UTC)
DAYS = 6


class Env:
    def __init__(self, settings: Settings, client: TestClient, tokens: dict[str, str]) -> None:
        self.settings = settings
        self.client = client
        self.tokens = tokens

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def _issue(db_url: str, role: str, *, ttl: timedelta | None = timedelta(days=1), now: datetime | None = None) -> str:
    with session_scope(db_url) as session:
        user = ensure_user(session, email=f"{role}@example.com", role=role)  # type: ignore[arg-type]
        return create_token(session, user=user, name=f"{role}-token", role=role, ttl=ttl, now=now).token  # type: ignore[arg-type]


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    settings = load_settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'api.db'}",
                             frontend_dist=tmp_path / "no-dist", max_points_per_request=10_000)
    upgrade(settings.database_url)
    with session_scope(settings.database_url) as session:
        upsert_resources(session, [
            Resource(resource_id=f"i-{n:03d}", provider=p, name=f"web-{n:03d}", account="acct-1", region="us-east-1",
                     instance_type="m5.large", vcpus=2, memory_gib=8, hourly_price=0.096, environment=e)
            for n, (p, e) in enumerate([("aws", "production"), ("aws", "staging"), ("gcp", "production")] * 3)
        ])
    store = open_metric_store(settings.metrics_url)
    ts = np.arange(int(START.timestamp()), int((START + timedelta(days=DAYS)).timestamp()), 300, dtype=np.int64)
    hours = (ts - ts[0]) / 3600.0
    values = 40 + 20 * np.sin(2 * np.pi * hours / 24) + np.random.default_rng(1).normal(0, 2, ts.size)
    store.write([SampleBatch(SeriesRef("i-000", "cpu_utilization", "percent", {"provider": "aws"}), ts, values)])
    store.close()
    tokens = {role: _issue(settings.database_url, role) for role in ("viewer", "editor", "admin")}
    with TestClient(create_app(settings)) as client:
        yield Env(settings, client, tokens)


def test_health_needs_no_token(env: Env) -> None:
    r = env.client.get("/api/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


@pytest.mark.parametrize("path", ["/api/resources", "/api/series", "/api/me", "/api/forecasts?series_id=x"])
def test_401_without_a_token(env: Env, path: str) -> None:
    r = env.client.get(path)
    assert r.status_code == 401
    assert "bearer token" in r.json()["detail"]
    assert r.headers["www-authenticate"] == "Bearer"


def test_401_for_unknown_expired_and_revoked_tokens(env: Env) -> None:
    r = env.client.get("/api/me", headers={"Authorization": "Bearer hdr_not-a-real-token"})
    assert r.status_code == 401 and "unknown token" in r.json()["detail"]
    old = _issue(env.settings.database_url, "viewer", ttl=timedelta(days=1), now=datetime.now(UTC) - timedelta(days=3))
    r = env.client.get("/api/me", headers={"Authorization": f"Bearer {old}"})
    assert r.status_code == 401 and "expired" in r.json()["detail"]
    with session_scope(env.settings.database_url) as session:
        row = session.scalars(select(ApiTokenRow).where(ApiTokenRow.name == "editor-token")).one()
        revoke_token(session, token_id=row.id)
    r = env.client.get("/api/me", headers=env.auth("editor"))
    assert r.status_code == 401 and "revoked" in r.json()["detail"]


def test_viewer_cannot_create_tokens(env: Env) -> None:
    r = env.client.post("/api/tokens", json={"name": "mine", "role": "viewer"}, headers=env.auth("viewer"))
    assert r.status_code == 403
    assert "admin role" in r.json()["detail"]


def test_admin_creates_a_token_that_is_stored_only_as_a_hash(env: Env) -> None:
    r = env.client.post("/api/tokens", json={"name": "ci", "role": "editor", "email": "ci@example.com"},
                        headers=env.auth("admin"))
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    assert token.startswith("hdr_") and len(token) > 40
    me = env.client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert me == {"user": {"email": "ci@example.com", "name": "ci"}, "role": "editor", "token_name": "ci"}
    listed = env.client.get("/api/tokens", headers=env.auth("admin")).json()["items"]
    assert all("token" not in t and "token_hash" not in t for t in listed)
    with session_scope(env.settings.database_url) as session:
        dump = "\n".join(str(row) for row in session.execute(text("SELECT * FROM api_tokens")).all())
        stored_hashes = set(session.scalars(select(ApiTokenRow.token_hash)))
    for clear in [token, *env.tokens.values()]:
        assert clear not in dump
        assert clear[4:] not in dump
    assert hashlib.sha256(token.encode()).hexdigest() in stored_hashes


def test_bad_range_is_422_with_a_message(env: Env) -> None:
    q = {"series_id": "i-000/cpu_utilization", "start": "2026-10-05T00:00:00Z", "end": "2026-10-02T00:00:00Z"}
    r = env.client.get("/api/metrics", params=q, headers=env.auth("viewer"))
    assert r.status_code == 422
    assert "must be before end" in r.json()["detail"]
    r = env.client.get("/api/metrics", params={**q, "start": "not-a-date"}, headers=env.auth("viewer"))
    assert r.status_code == 422 and "query parameter 'start'" in r.json()["detail"]
    r = env.client.get("/api/metrics", params={**q, "start": "2025-01-01T00:00:00Z"}, headers=env.auth("viewer"))
    assert r.status_code == 422 and "pass step=" in r.json()["detail"]
    r = env.client.get("/api/metrics", params={**q, "start": "2025-01-01T00:00:00Z", "step": 60},
                       headers=env.auth("viewer"))
    assert r.status_code == 422 and "limit 10,000" in r.json()["detail"]
    r = env.client.get("/api/metrics", params={**q, "start": "2026-10-01T00:00:00Z", "end": "2026-10-06T00:00:00Z"},
                       headers=env.auth("viewer"))
    assert r.status_code == 200 and len(r.json()["points"]) == 5 * 288  # raw, under the limit
    r = env.client.get("/api/metrics", params={**q, "start": "2026-10-01T00:00:00Z", "agg": "median"},
                       headers=env.auth("viewer"))
    assert r.status_code == 422 and "query parameter 'agg'" in r.json()["detail"]


def test_unknown_series_is_404(env: Env) -> None:
    r = env.client.get("/api/metrics", params={"series_id": "nope/cpu"}, headers=env.auth("viewer"))
    assert r.status_code == 404 and "unknown series" in r.json()["detail"]


def test_metrics_are_bucketed_by_step(env: Env) -> None:
    q = {"series_id": "i-000/cpu_utilization", "start": "2026-10-02T00:00:00Z", "end": "2026-10-03T00:00:00Z",
         "step": 3600, "agg": "max"}
    body = env.client.get("/api/metrics", params=q, headers=env.auth("viewer")).json()
    assert len(body["points"]) == 24
    raw_q = {k: v for k, v in q.items() if k not in ("step", "agg")}
    raw = env.client.get("/api/metrics", params=raw_q, headers=env.auth("viewer"))
    raw_points = raw.json()["points"]
    assert len(raw_points) == 288
    first_hour = [p["v"] for p in raw_points[:12]]
    assert body["points"][0]["v"] == pytest.approx(max(first_hour))


def test_resources_are_filtered_and_paginated(env: Env) -> None:
    page = env.client.get("/api/resources", params={"size": 4}, headers=env.auth("viewer")).json()
    assert page["total"] == 9 and len(page["items"]) == 4
    page3 = env.client.get("/api/resources", params={"size": 4, "page": 3}, headers=env.auth("viewer")).json()
    assert len(page3["items"]) == 1
    gcp = env.client.get("/api/resources", params={"provider": "gcp"}, headers=env.auth("viewer")).json()
    assert gcp["total"] == 3 and {i["provider"] for i in gcp["items"]} == {"gcp"}
    found = env.client.get("/api/resources", params={"q": "WEB-004"}, headers=env.auth("viewer")).json()
    assert [i["name"] for i in found["items"]] == ["web-004"]
    one = env.client.get(f"/api/resources/{found['items'][0]['id']}", headers=env.auth("viewer")).json()
    assert one["instance_type"] == "m5.large"
    assert env.client.get("/api/resources/99999", headers=env.auth("viewer")).status_code == 404


def test_forecast_is_404_until_trained_then_served(env: Env) -> None:
    from services.forecasting.training import train_all

    q = {"series_id": "i-000/cpu_utilization"}
    r = env.client.get("/api/forecasts", params=q, headers=env.auth("viewer"))
    assert r.status_code == 404 and "headroom train" in r.json()["detail"]
    store = open_metric_store(env.settings.metrics_url)
    train_all(as_of=date(2026, 10, 7), metric_store=store, db_url=env.settings.database_url,
              settings=env.settings.forecasting)
    store.close()
    for stat in ("mean", "p95"):
        body = env.client.get("/api/forecasts", params={**q, "stat": stat}, headers=env.auth("viewer")).json()
        assert len(body["points"]) == env.settings.forecasting.horizon_hours
        first = body["points"][0]
        assert datetime.fromisoformat(first["t"]) == START + timedelta(days=DAYS)
        for p in body["points"]:
            assert p["lo95"] <= p["lo80"] <= p["mean"] <= p["hi80"] <= p["hi95"]


def test_unknown_api_route_is_json_404(env: Env) -> None:
    r = env.client.get("/api/nope", headers=env.auth("viewer"))
    assert r.status_code == 404 and "no API route" in r.json()["detail"]


def test_openapi_and_docs_are_served(env: Env) -> None:
    schema = env.client.get("/api/openapi.json").json()
    assert "/api/metrics" in schema["paths"] and "/api/forecasts" in schema["paths"]
    assert env.client.get("/docs").status_code == 200


def test_sources_show_status_after_a_collection(env: Env) -> None:
    from collector.catalog import Catalog
    from collector.config import DemoSourceSettings
    from collector.demo import DemoCollector
    from services.ingest.ingest import run_collector

    store = open_metric_store(env.settings.metrics_url)
    run_collector(DemoCollector(DemoSourceSettings(resources=2, days=2), Catalog.load(), now=START),
                  db_url=env.settings.database_url, metric_store=store, until=START)
    store.close()
    items = {s["name"]: s for s in env.client.get("/api/sources", headers=env.auth("viewer")).json()["items"]}
    assert items["demo"]["last_success_at"] is not None and items["demo"]["last_error"] == ""
    assert items["demo"]["samples_written"] > 0 and items["demo"]["lag_seconds"] >= 0
    assert {s["name"] for s in items["demo"]["streams"]} == {"inventory", "metrics", "costs"}


def test_sources_show_the_months_api_spend_per_stream(env: Env) -> None:
    from decimal import Decimal

    from services.db.models import IngestStreamRow
    from services.ingest.spend import month_key

    this_month = month_key(datetime.now(UTC))  # the API reports the current calendar month
    with session_scope(env.settings.database_url) as session:
        for stream, month, usd in (("metrics", this_month, "12.5"), ("costs", this_month, "0.75"),
                                   ("inventory", "2001-01", "99")):  # fmt: skip
            session.add(IngestStreamRow(source="aws-prod", stream=stream, failures=0, last_error="", spend_month=month,
                                        spend_calls=1, spend_usd=Decimal(usd), detail={}))  # fmt: skip
    items = {s["name"]: s for s in env.client.get("/api/sources", headers=env.auth("viewer")).json()["items"]}
    assert items["aws-prod"]["spend_month_usd"] == 13.25  # last month's spend is not this month's
    assert {s["name"]: s["spend_month_usd"] for s in items["aws-prod"]["streams"]} == {
        "metrics": 12.5, "costs": 0.75, "inventory": 0.0}  # fmt: skip


def test_last_used_is_recorded_to_the_minute_so_reads_do_not_write_every_time(env: Env) -> None:
    from services.auth import authenticate

    url = env.settings.database_url
    token = env.tokens["viewer"]
    first = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    for now in (first, first + timedelta(seconds=30)):
        with session_scope(url) as session:
            authenticate(session, token, now=now)
    with session_scope(url) as session:
        row = session.scalars(select(ApiTokenRow).where(ApiTokenRow.name == "viewer-token")).one()
        assert row.last_used_at == first
    with session_scope(url) as session:
        authenticate(session, token, now=first + timedelta(minutes=1, seconds=5))
    with session_scope(url) as session:
        row = session.scalars(select(ApiTokenRow).where(ApiTokenRow.name == "viewer-token")).one()
        assert row.last_used_at == first + timedelta(minutes=1, seconds=5)


def test_a_forecast_is_rendered_once_revalidated_by_etag_and_replaced_by_the_next_training(env: Env) -> None:
    from services.forecasting.training import train_all

    q = {"series_id": "i-000/cpu_utilization"}
    store = open_metric_store(env.settings.metrics_url)
    try:
        train_all(as_of=date(2026, 10, 6), metric_store=store, db_url=env.settings.database_url,
                  settings=env.settings.forecasting)
        first = env.client.get("/api/forecasts", params=q, headers=env.auth("viewer"))
        again = env.client.get("/api/forecasts", params=q, headers=env.auth("viewer"))
        assert first.status_code == again.status_code == 200 and first.content == again.content
        assert first.headers["etag"] == again.headers["etag"] and "no-cache" in first.headers["cache-control"]
        cache = env.client.app.state.rendered_forecasts  # type: ignore[attr-defined]
        assert (cache.misses, cache.hits) == (1, 1)
        unchanged = env.client.get("/api/forecasts", params=q,
                                   headers={**env.auth("viewer"), "If-None-Match": first.headers["etag"]})
        assert unchanged.status_code == 304 and unchanged.content == b""
        train_all(as_of=date(2026, 10, 7), metric_store=store, db_url=env.settings.database_url,
                  settings=env.settings.forecasting)  # the next day's forecast replaces the served one
    finally:
        store.close()
    newer = env.client.get("/api/forecasts", params=q,
                           headers={**env.auth("viewer"), "If-None-Match": first.headers["etag"]})
    assert newer.status_code == 200 and newer.headers["etag"] != first.headers["etag"]
    assert newer.json()["as_of"] == "2026-10-07" and first.json()["as_of"] == "2026-10-06"
    assert len(ForecastRead.model_validate(newer.json()).points) == env.settings.forecasting.horizon_hours
