"""The dashboard's routes over a real (SQLite) database: GET /api/fleet and POST /api/forecasts/adhoc."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from collector.records import Resource, SampleBatch, SeriesRef
from services.auth import create_token, ensure_user
from services.db.engine import session_scope
from services.db.migrate import upgrade
from services.forecasting.adhoc_jobs import run_job
from services.ingest.ingest import upsert_resources
from services.metrics import open_metric_store
from services.settings import load_settings

START = datetime(2026, 10, 1, tzinfo=UTC)


def _cpu(seed: int, level: float) -> tuple[np.ndarray, np.ndarray]:
    ts = np.arange(int(START.timestamp()), int((START + timedelta(days=9)).timestamp()), 300, dtype=np.int64)
    values = level + 10 * np.sin(2 * np.pi * (ts - ts[0]) / 86400) + np.random.default_rng(seed).normal(0, 2, ts.size)
    return ts, values


Samples = tuple[np.ndarray, np.ndarray]
Client = tuple[TestClient, dict[str, dict[str, str]], dict[str, Samples]]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[Client]:
    settings = load_settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'd.db'}",
                             frontend_dist=tmp_path / "no-dist", adhoc={"max_upload_bytes": 20_000})
    upgrade(settings.database_url)
    with session_scope(settings.database_url) as session:
        upsert_resources(session, [
            Resource(resource_id=f"i-{n}", provider="aws", name=f"web-{n}", account="a", region="r",
                     instance_type="m5.large", environment="production", tags={"team": "core" if n else "edge"})
            for n in range(3)
        ])
    store = open_metric_store(settings.metrics_url)
    written: dict[str, Samples] = {}
    for n, level in enumerate([30.0, 70.0]):
        ts, values = _cpu(n, level)
        store.write([SampleBatch(SeriesRef(f"i-{n}", "cpu_utilization", "percent"), ts, values)])
        written[f"i-{n}"] = (ts, values)
    store.close()
    headers: dict[str, dict[str, str]] = {}
    with session_scope(settings.database_url) as session:
        for role in ("viewer", "editor"):
            user = ensure_user(session, email=f"{role}@example.com", role=role)  # type: ignore[arg-type]
            token = create_token(session, user=user, name=role, role=role, ttl=timedelta(days=1)).token  # type: ignore[arg-type]
            headers[role] = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(settings)) as c:
        yield c, headers, written


def test_fleet_computes_p95_of_the_last_week_and_sorts_by_it(client: Client) -> None:
    c, headers, written = client
    r = c.get("/api/fleet", params={"sort": "-cpu_p95_7d"}, headers=headers["viewer"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == 3
    names = [i["name"] for i in body["items"]]
    assert names == ["web-1", "web-0", "web-2"]  # highest p95 first, no data last
    ts, values = written["i-1"]
    week = np.sort(values[ts > ts[-1] - 7 * 86400])
    expected = week[int(np.floor(week.size * 0.95 + 0.5)) - 1]
    assert body["items"][0]["cpu_p95_7d"] == pytest.approx(expected)
    newest = datetime.fromtimestamp(int(ts[-1]), UTC).strftime("%Y-%m-%dT%H:%M")
    assert body["items"][0]["last_data_at"].startswith(newest)
    assert body["items"][2]["cpu_p95_7d"] is None and body["items"][2]["last_data_at"] is None


def test_fleet_filters_by_tag_and_pages(client: Client) -> None:
    c, headers, _ = client
    r = c.get("/api/fleet", params={"tag": "team=core", "size": 1, "page": 2}, headers=headers["viewer"])
    assert r.status_code == 200
    assert r.json()["total"] == 2 and [i["name"] for i in r.json()["items"]] == ["web-2"]
    bad = c.get("/api/fleet", params={"sort": "colour"}, headers=headers["viewer"])
    assert bad.status_code == 422 and "'colour' is not accepted: use one of name" in bad.json()["detail"]


def _csv(hours: int = 24 * 10) -> bytes:
    t0 = int(START.timestamp())
    rows = [f"{datetime.fromtimestamp(t0 + 3600 * h, UTC).isoformat()},{50 + 10 * np.sin(h / 24 * 2 * np.pi):.2f}"
            for h in range(hours)]
    return ("timestamp,value\n" + "\n".join(rows) + "\n").encode()


def worker_runs(c: TestClient, accepted: Any, headers: dict[str, str]) -> dict[str, Any]:
    """Run the queued job as a worker would, then read the answer at the job URL."""
    assert accepted.status_code == 202, accepted.text
    job = accepted.json()
    assert job["status"] == "queued" and accepted.headers["location"] == job["url"]
    settings = c.app.state.settings  # type: ignore[attr-defined]
    store = open_metric_store(settings.metrics_url)
    with session_scope(settings.database_url) as session:
        run_job(session, store, job["id"])
    done = c.get(job["url"], headers=headers).json()
    assert done["status"] == "done", done
    result: dict[str, Any] = done["result"]
    return result

def test_forecaster_choices_come_from_the_registry(client: Client) -> None:
    c, headers, _ = client
    r = c.get("/api/forecasters", headers=headers["viewer"])
    assert r.status_code == 200, r.text
    names = [f["name"] for f in r.json()]
    assert names == ["ensemble", "auto_ets", "auto_arima", "mstl", "theta", "prophet", "weekly_naive", "seasonal_naive"]
    assert r.json()[-1] == {"name": "seasonal_naive", "label": "Seasonal naive (fast)", "plugin": False}
    unknown = c.post("/api/forecasts/adhoc", files={"file": ("load.csv", _csv(), "text/csv")},
                     data={"model": "oracle"}, headers=headers["viewer"])
    assert unknown.status_code == 422 and "choose one of ensemble, auto_ets" in unknown.json()["detail"]


def test_adhoc_forecast_has_intervals_and_a_backtest(client: Client) -> None:
    c, headers, _ = client
    r = c.post("/api/forecasts/adhoc", files={"file": ("load.csv", _csv(), "text/csv")},
               data={"horizon_hours": "48", "model": "seasonal_naive"}, headers=headers["viewer"])
    body = worker_runs(c, r, headers["viewer"])
    assert len(body["points"]) == 48 and len(body["history"]) == 240
    first = body["points"][0]
    assert first["lo95"] <= first["lo80"] <= first["mean"] <= first["hi80"] <= first["hi95"]
    assert body["backtest"]["mase"] is not None and 0 <= body["backtest"]["coverage95"] <= 1
    assert body["stored_series_id"] is None


def test_adhoc_errors_say_what_to_fix(client: Client) -> None:
    c, headers, _ = client
    h = headers["viewer"]
    big = c.post("/api/forecasts/adhoc", files={"file": ("big.csv", _csv(24 * 40), "text/csv")}, headers=h)
    assert big.status_code == 413 and "larger than 20,000 bytes" in big.json()["detail"]
    bad = b"timestamp,value\n2026-10-01T00:00:00Z,1\nyesterday,2\n2026-10-01T02:00:00Z,lots\n"
    r = c.post("/api/forecasts/adhoc", files={"file": ("bad.csv", bad, "text/csv")}, headers=h)
    assert r.status_code == 422
    assert "line 3: timestamp 'yesterday'" in r.json()["detail"] and "line 4: value 'lots'" in r.json()["detail"]
    r = c.post("/api/forecasts/adhoc", files={"file": ("h.csv", b"time,cpu\n1,2\n", "text/csv")}, headers=h)
    assert r.status_code == 422 and "header `timestamp,value`" in r.json()["detail"]
    r = c.post("/api/forecasts/adhoc", files={"file": ("s.csv", _csv(10), "text/csv")}, headers=h)
    assert r.status_code == 422 and "at least 48 hours" in r.json()["detail"]


def test_adhoc_upload_is_stored_only_when_asked_by_an_editor(client: Client) -> None:
    c, headers, _ = client
    form = {"save": "true", "name": "checkout", "horizon_hours": "24", "model": "seasonal_naive"}
    r = c.post("/api/forecasts/adhoc", files={"file": ("l.csv", _csv(), "text/csv")}, data=form,
               headers=headers["viewer"])
    assert r.status_code == 403 and "editor role" in r.json()["detail"]
    listed = c.get("/api/series", params={"resource_id": "upload:checkout"}, headers=headers["viewer"])
    assert listed.json()["items"] == []
    r = c.post("/api/forecasts/adhoc", files={"file": ("l.csv", _csv(), "text/csv")}, data=form,
               headers=headers["editor"])
    assert worker_runs(c, r, headers["editor"])["stored_series_id"] == "upload:checkout/value"
    stored = c.get("/api/metrics", params={"series_id": "upload:checkout/value", "start": "2026-10-01T00:00:00Z"},
                   headers=headers["viewer"]).json()
    assert len(stored["points"]) == 240


def test_spend_splits_the_month_to_date_by_provider_and_tag(client: Client) -> None:
    from datetime import date
    from decimal import Decimal

    from services.db.models import CostRow

    c, headers, _ = client
    url = str(c.app.state.settings.database_url)  # type: ignore[attr-defined]
    lines = [
        ("aws", "EC2", {"team": "core"}, date(2026, 9, 30), "5"),
        ("aws", "EC2", {"team": "core"}, date(2026, 10, 1), "10"),
        ("gcp", "GCE", {"team": "edge"}, date(2026, 10, 2), "4.5"),
        ("aws", "S3", {}, date(2026, 10, 2), "1"),
        ("aws", "Credit", {}, date(2026, 10, 2), "-3"),
    ]
    with session_scope(url) as session:
        for n, (provider, service, tags, day, cost) in enumerate(lines):
            session.add(CostRow(dedup_key=f"k{n}", provider=provider, service_name=service, tags=tags,
                                charge_category="Credit" if service == "Credit" else "Usage",
                                charge_period_start=day, charge_period_end=day, billed_cost=Decimal(cost),
                                effective_cost=Decimal(cost), list_cost=Decimal(cost)))
    r = c.get("/api/spend", params={"by": "provider"}, headers=headers["viewer"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["period_start"] == "2026-10-01" and body["through"] == "2026-10-02"
    assert body["month_to_date"] == pytest.approx(12.5)
    assert body["parts"] == [{"name": "aws", "effective": 8.0}, {"name": "gcp", "effective": 4.5}]
    assert [d["effective"] for d in body["daily"]] == [5.0, 10.0, 2.5]
    assert [d["one_off"] for d in body["daily"]] == [0.0, 0.0, -3.0]  # the credit, drawn as its own series
    team = c.get("/api/spend", params={"by": "tag:team"}, headers=headers["viewer"]).json()
    # the credit is its own part: it does not turn "(untagged)" negative
    assert {p["name"]: p["effective"] for p in team["parts"]} == {
        "core": 10.0, "edge": 4.5, "(untagged)": 1.0, "(credits and adjustments)": -3.0}
    bad = c.get("/api/spend", params={"by": "colour"}, headers=headers["viewer"])
    assert bad.status_code == 422 and "tag:<key>" in bad.json()["detail"]


def _cost_app(tmp_path: Path, budgets: dict[str, float]) -> tuple[TestClient, dict[str, str], str]:
    from datetime import date
    from decimal import Decimal

    from services.db.models import CostRow

    settings = load_settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'c.db'}",
                             frontend_dist=tmp_path / "no-dist", recommend={"budgets": budgets})
    upgrade(settings.database_url)
    with session_scope(settings.database_url) as session:
        user = ensure_user(session, email="viewer@example.com", role="viewer")
        token = create_token(session, user=user, name="v", role="viewer", ttl=timedelta(days=1)).token
        for n in range(10):  # October 1-10: a committed aws machine (8 of list 10) and an on-demand gcp one (2 of 2)
            day = date(2026, 10, 1 + n)
            for provider, rid, effective, listed in (("aws", "i-1", "8", "10"), ("gcp", "g-1", "2", "2")):
                session.add(CostRow(dedup_key=f"{rid}-{n}", provider=provider, resource_id=rid, charge_period_start=day,
                                    charge_period_end=day, billed_cost=Decimal(effective),
                                    effective_cost=Decimal(effective), list_cost=Decimal(listed)))
        session.add(CostRow(dedup_key="credit", provider="aws", charge_category="Credit",
                            charge_period_start=date(2026, 10, 1), charge_period_end=date(2026, 10, 1),
                            billed_cost=Decimal("-5"), effective_cost=Decimal("-5"), list_cost=Decimal("0")))
    return TestClient(create_app(settings)), {"Authorization": f"Bearer {token}"}, settings.database_url


def test_budgets_compare_month_to_date_and_the_month_end_forecast(tmp_path: Path) -> None:
    from services.forecasting.registry import NewVersion, register_version

    c, auth, url = _cost_app(tmp_path, {"total": 310.0, "aws": 500.0})
    days = [datetime(2026, 10, 10, tzinfo=UTC) + timedelta(days=n) for n in range(22)]  # Oct 10 (filling) - Oct 31
    points = [{"ts": ts, "mean": 10.0, "lo80": 8.0, "hi80": 12.0, "lo95": 6.0, "hi95": 14.0} for ts in days]
    with session_scope(url) as session:
        register_version(session, NewVersion(
            series_id="cost:total", stat="daily_cost", as_of=days[0].date(), model_name="seasonal_naive", params={},
            metrics={"mase": 0.5}, data_start=START, data_end=days[0], step_seconds=86400, points=points),
            artifacts=None)
    with c:
        body = c.get("/api/spend/budgets", headers=auth).json()
    assert (body["period_start"], body["period_end"], body["through"]) == ("2026-10-01", "2026-10-31", "2026-10-10")
    aws, total = body["items"]
    assert total["month_to_date"] == pytest.approx(95.0)  # 10 days x 10, less the credit
    month = total["month_end"]
    # Oct 1-9 actual (90 - 5), Oct 10-31 forecast (22 x 10); the interval of a sum: sqrt(22) x the daily half-width
    assert month["forecast_from"] == "2026-10-10" and month["mean"] == pytest.approx(305.0)
    assert (month["lo80"], month["hi80"]) == pytest.approx((305.0 - 2 * 22**0.5, 305.0 + 2 * 22**0.5))
    assert total["status"] == "at_risk" and total["used"] == pytest.approx(95.0 / 310.0)  # hi80 above the budget
    assert aws["scope"] == "aws" and aws["month_to_date"] == pytest.approx(75.0) and aws["month_end"] is None
    assert aws["status"] == "unknown" and "no stored forecast of cost:provider:aws" in aws["reason"]


def test_no_budget_configured_says_how_to_set_one(tmp_path: Path) -> None:
    c, auth, _ = _cost_app(tmp_path, {})
    with c:
        body = c.get("/api/spend/budgets", headers=auth).json()
    assert body["items"] == [] and "recommend.budgets" in body["reason"]


def test_commitment_coverage_per_week_and_why_it_cannot_tell(tmp_path: Path) -> None:
    from sqlalchemy import update

    from services.db.models import CostRow

    c, auth, url = _cost_app(tmp_path, {})
    with c:
        weekly = c.get("/api/spend/commitment-coverage", headers=auth).json()
        assert weekly["available"] is True and weekly["period"] == "week" and "PricingCategory" in weekly["basis"]
        # Oct 1 2026 is a Thursday: Oct 1-4 in the week of Monday Sep 28, Oct 5-10 in the next; credits not eligible
        assert [(p["start"], p["eligible_list"], p["covered_list"], p["effective"]) for p in weekly["items"]] == [
            ("2026-09-28", 48.0, 40.0, 40.0), ("2026-10-05", 72.0, 60.0, 60.0)]
        assert [p["coverage"] for p in weekly["items"]] == pytest.approx([10 / 12, 10 / 12])
        daily = c.get("/api/spend/commitment-coverage", params={"period": "day", "days": 3}, headers=auth).json()
        assert [p["start"] for p in daily["items"]] == ["2026-10-08", "2026-10-09", "2026-10-10"]
        assert c.get("/api/spend/commitment-coverage", params={"period": "month"}, headers=auth).status_code == 422
        with session_scope(url) as session:  # a source without list prices (list = billed): it cannot tell
            session.execute(update(CostRow).values(list_cost=CostRow.effective_cost))
        blind = c.get("/api/spend/commitment-coverage", headers=auth).json()
    assert blind["available"] is False and "list = billed" in blind["reason"]
    assert blind["items"] and all(p["coverage"] is None for p in blind["items"])
