"""Recommendations through persistence and the API on a real PostgreSQL: every kind on a hand-checkable fleet,
evidence, skips with reasons, dedupe, lifecycle, runway with a stored forecast, scenarios and the summary."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from collector.records import Resource
from services.auth import create_token, ensure_user
from services.costs.cost_series import add_months, next_calendar_quarter
from services.db.engine import session_scope
from services.ingest.ingest import upsert_costs, upsert_resources
from services.settings import Settings, load_settings
from tests.integration.recommend_fleet import (
    EXPECTED_OPEN,
    build_fleet,
    cost_line,
    credit_line,
    hour_now,
    store_forecast,
    write_catalog,
)

pytestmark = pytest.mark.integration
EVIDENCE = {
    "coverage_hours",
    "coverage_ratio",
    "percentile",
    "headroom",
    "observed",
    "forecast_peak",
    "projected_utilisation",
    "risk",
    "reasons",
}


@dataclass
class Env:
    settings: Settings
    client: TestClient
    tokens: dict[str, str]
    now: datetime

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def get(self, path: str, **params: object) -> object:
        r = self.client.get(path, params=params, headers=self.auth("viewer"))  # type: ignore[arg-type]
        assert r.status_code == 200, r.text
        return r.json()

    def post(self, path: str, role: str = "editor", json: object = None) -> object:
        r = self.client.post(path, json=json, headers=self.auth(role))
        assert r.status_code in (200, 201), r.text
        return r.json()


@pytest.fixture
def env(tmp_path: Path, make_postgres_db: Callable[[], str]) -> Iterator[Env]:
    url = make_postgres_db()
    now = hour_now()
    build_fleet(url, now)
    settings = load_settings(
        data_dir=tmp_path,
        database_url=url,
        frontend_dist=tmp_path / "no-dist",
        recommend={"catalog_path": str(write_catalog(tmp_path / "catalog.csv"))},
    )
    tokens = {}
    with session_scope(url) as session:
        for role in ("viewer", "editor"):
            user = ensure_user(session, email=f"{role}@example.com", role=role)  # type: ignore[arg-type]
            tokens[role] = create_token(
                session,
                user=user,
                name=role,
                role=role,  # type: ignore[arg-type]
                ttl=timedelta(days=1),
            ).token
    with TestClient(create_app(settings)) as client:
        yield Env(settings, client, tokens, now)


def _open(env: Env) -> dict[str, dict]:  # type: ignore[type-arg]
    page = env.get("/api/recommendations", size=500)
    return {r["resource_key"]: r for r in page["items"] if r["kind"] != "runway"}  # type: ignore[index]


def test_refresh_needs_an_editor_and_finds_every_kind_with_its_evidence(env: Env) -> None:
    r = env.client.post("/api/recommendations/refresh", headers=env.auth("viewer"))
    assert r.status_code == 403
    result = env.post("/api/recommendations/refresh")
    assert result["created"] > 0 and result["updated"] == 0  # type: ignore[index]
    recs = _open(env)
    assert {k: (v["kind"], v["monthly_savings_list"]) for k, v in recs.items()} == EXPECTED_OPEN
    big = recs["aws:i-big"]
    assert big["proposed"]["instance_type"] == "m9.xlarge" and big["current"]["instance_type"] == "m9.4xlarge"
    assert big["monthly_savings_effective"] == 438.0  # no billing discount: effective = list
    assert big["evidence"]["percentile"] == "cpu p95, memory max" and big["evidence"]["headroom"] == 0.2
    assert big["evidence"]["projected_utilisation"] == pytest.approx({"cpu": 40.0, "memory": 80.0})
    assert big["risk"] == 2  # projected 80% reaches the 60% and 75% bands
    # money both ways, and the resource named: a saving is a negative monthly cost change with the risk it takes on
    assert big["monthly_cost_change"] == -438.0 and big["risk_change"].startswith("performance risk medium")
    assert big["resource_name"] and big["resource_pk"] is not None
    for rec in recs.values():
        assert set(rec["evidence"]) >= EVIDENCE
        assert rec["reasons"] and rec["status"] == "open"
        assert {"monthly_savings_list", "monthly_savings_effective", "risk"} <= set(rec)
    detail = env.get(f"/api/recommendations/{big['id']}")
    assert detail["history"] == [] and detail["evidence"]["coverage_hours"] == 240.0  # type: ignore[index]


def test_not_enough_data_hpa_and_superseded_are_skipped_with_reasons(env: Env) -> None:
    env.post("/api/recommendations/refresh")
    assert not any(k == "aws:i-short" for k in _open(env))
    short = env.get("/api/recommendations/skipped", resource="i-short")["items"]  # type: ignore[index]
    assert any(s["kind"] == "rightsize" and "not enough data: 20.0 hours" in s["reason"] for s in short)
    hpa = env.get("/api/recommendations/skipped", resource="ctr-hpa")["items"]  # type: ignore[index]
    assert [s["kind"] for s in hpa] == ["container_rightsize"]
    assert "HPA web scales this workload on CPU and memory" in hpa[0]["reason"]
    big = env.get("/api/recommendations/skipped", resource="i-big", kind="spot")["items"]  # type: ignore[index]
    assert "superseded by the rightsize recommendation" in big[0]["reason"]


def test_filters_sort_and_pagination(env: Env) -> None:
    env.post("/api/recommendations/refresh")
    page = env.get("/api/recommendations", kind="idle")
    assert [r["resource_key"] for r in page["items"]] == ["aws:i-idle"]  # type: ignore[index]
    page = env.get("/api/recommendations", min_savings=100, sort="-savings")
    assert [r["monthly_savings_effective"] for r in page["items"]] == [438.0, 204.4]  # type: ignore[index]
    first = env.get("/api/recommendations", sort="id", size=2, page=1)
    second = env.get("/api/recommendations", sort="id", size=2, page=2)
    assert first["total"] == second["total"] and first["size"] == 2  # type: ignore[index]
    assert {r["id"] for r in first["items"]}.isdisjoint(r["id"] for r in second["items"])  # type: ignore[index]
    r = env.client.get("/api/recommendations", params={"kind": "nope"}, headers=env.auth("viewer"))
    assert r.status_code == 422 and "unknown kind 'nope'" in r.json()["detail"]
    r = env.client.get("/api/recommendations", params={"sort": "bogus"}, headers=env.auth("viewer"))
    assert r.status_code == 422 and "unknown sort" in r.json()["detail"]


def test_lifecycle_refresh_keeps_status_and_savings_are_never_counted_twice(env: Env) -> None:
    env.post("/api/recommendations/refresh")
    recs = _open(env)
    big, vol = recs["aws:i-big"]["id"], recs["aws:vol-1"]["id"]
    r = env.client.post(f"/api/recommendations/{vol}/dismiss", json={"reason": ""}, headers=env.auth("editor"))
    assert r.status_code == 422
    dismissed = env.post(f"/api/recommendations/{vol}/dismiss", json={"reason": "kept for the audit"})
    assert dismissed["status"] == "dismissed" and dismissed["dismissed_reason"] == "kept for the audit"  # type: ignore[index]
    assert env.post(f"/api/recommendations/{big}/accept")["status"] == "accepted"  # type: ignore[index]
    again = env.post("/api/recommendations/refresh")
    assert again["created"] == 0 and again["kept"] == 2  # type: ignore[index]
    recs = _open(env)
    assert recs["aws:vol-1"]["status"] == "dismissed" and recs["aws:i-big"]["status"] == "accepted"
    assert recs["aws:i-big"]["id"] == big  # updated in place, never duplicated
    spot = env.get("/api/recommendations/skipped", resource="i-big", kind="spot")["items"]  # type: ignore[index]
    assert spot, "the spot saving on the accepted resource must stay set aside"

    r = env.client.post(f"/api/recommendations/{big}/verify", headers=env.auth("editor"))
    assert r.status_code == 409 and "accepted; it cannot become verified" in r.json()["detail"]
    env.post(f"/api/recommendations/{big}/implement", json={"note": "resized on Monday"})
    r = env.client.post(f"/api/recommendations/{big}/verify", headers=env.auth("editor"))
    assert r.status_code == 422 and "cannot measure realised savings" in r.json()["detail"]
    with session_scope(env.settings.database_url) as session:  # the machine now runs the proposed type
        upsert_resources(
            session,
            [
                Resource(
                    resource_id="i-big",
                    provider="aws",
                    name="i-big",
                    account="acct",
                    region="us-east-1",
                    instance_type="m9.xlarge",
                    vcpus=4,
                    memory_gib=16,
                    hourly_price=0.2,
                )
            ],
        )
    verified = env.post(f"/api/recommendations/{big}/verify")
    assert verified["status"] == "verified" and verified["realised_savings_monthly"] == 438.0  # type: ignore[index]
    assert verified["realised_detail"]["method"] == "inventory"  # type: ignore[index]
    r = env.client.post(f"/api/recommendations/{big}/accept", headers=env.auth("editor"))
    assert r.status_code == 409 and "it is final" in r.json()["detail"]
    r = env.client.post(f"/api/recommendations/{big}/dismiss", json={"reason": "x"}, headers=env.auth("viewer"))
    assert r.status_code == 403
    history = env.get(f"/api/recommendations/{big}")["history"]  # type: ignore[index]
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        ("open", "accepted"),
        ("accepted", "implemented"),
        ("implemented", "verified"),
    ]
    assert history[1]["note"] == "resized on Monday" and history[0]["actor"].startswith("editor@example.com")

    summary = env.get("/api/summary")
    open_savings = 73.00 + 204.40 + 33.58  # idle, spot on i-spare, container; the volume is dismissed
    assert summary["identified_monthly_savings_list"] == pytest.approx(open_savings)  # type: ignore[index]
    assert summary["realised_monthly_savings"] == 438.0  # type: ignore[index]
    kinds = {k["kind"]: k for k in summary["by_kind"]}  # type: ignore[index]
    assert kinds["rightsize"]["realised_monthly"] == 438.0 and kinds["rightsize"]["count"] == 0
    assert kinds["idle"]["identified_monthly_list"] == 73.0 and "unattached" not in kinds
    assert summary["status_counts"]["dismissed"] == 1  # type: ignore[index]


def test_summary_counts_one_saving_per_resource(env: Env) -> None:
    env.post("/api/recommendations/refresh")
    summary = env.get("/api/summary")
    assert summary["identified_monthly_savings_list"] == pytest.approx(sum(v for _, v in EXPECTED_OPEN.values()))  # type: ignore[index]
    assert summary["identified_monthly_savings_list"] < sum(v for _, v in EXPECTED_OPEN.values()) + 408.8  # type: ignore[index]
    assert summary["not_counted_twice"] == 0  # type: ignore[index]
    assert summary["forecast_next_quarter"]["available"] is False  # type: ignore[index]
    assert "not available yet" in summary["forecast_next_quarter"]["reason"]  # type: ignore[index]


def test_runway_through_the_api_matches_the_analytic_answer(env: Env) -> None:
    env.post("/api/recommendations/refresh")
    page = env.get("/api/runway", metric="cpu_utilization")
    grow = next(r for r in page["resources"] if r["resource_key"] == "aws:i-grow")  # type: ignore[index]
    # the forecast starts at the hour the data ends; the runway counts from the refresh, a little later
    refreshed = datetime.fromisoformat(env.get("/api/summary")["last_refresh"])  # type: ignore[index]
    late = (refreshed - env.now) / timedelta(days=1)
    assert grow["p50_days"] == pytest.approx(15.0 - late, abs=1e-4)  # (80 - 50) / 2 per day
    assert grow["p90_days"] == pytest.approx(10.0 - late, abs=1e-4)  # (80 - 60) / 2 per day
    assert grow["flagged"] is True and grow["lead_time_days"] == 30.0 and grow["method"] == "forecast"
    flagged = env.get("/api/runway", flagged=True)
    assert [r["resource_key"] for r in flagged["resources"]] == ["aws:i-grow"]  # type: ignore[index]
    groups = env.get("/api/runway", group_by="environment")["groups"]  # type: ignore[index]
    assert {g["resource_key"] for g in groups} == {"group:environment=production", "group:environment=staging"}
    # the overview asks for the few most severe, and for the runways of one fleet page's rows, never the whole fleet
    every = env.get("/api/runway")["resources"]  # type: ignore[index]
    top = env.get("/api/runway", limit=1)
    assert [r["id"] for r in top["resources"]] == [every[0]["id"]]  # type: ignore[index]
    assert top["resource_total"] == len(every) > 1 and every[0]["resource_key"] == "aws:i-grow"  # type: ignore[index]
    rows = env.get("/api/runway", resource_key=["aws:i-grow", "aws:nowhere"])["resources"]  # type: ignore[index]
    assert {r["resource_key"] for r in rows} == {"aws:i-grow"} and rows[0]["resource_name"]


def test_summary_reads_the_stored_cost_forecast_and_month_to_date(env: Env) -> None:
    today = env.now.date()
    store_forecast(
        env.settings.database_url,
        "cost:total",
        "daily_cost",
        datetime(today.year, today.month, today.day, tzinfo=env.now.tzinfo),
        step=86400,
        mean=np.full(200, 100.0),
        band80=10.0,
        band95=20.0,
    )
    first = date(today.year, today.month, 1)
    # a -30 credit on the 1st of each of the last two complete months: it recurs, so the quarter expects three
    credits = [credit_line(add_months(first, -n), "-30") for n in (1, 2)]
    with session_scope(env.settings.database_url) as session:
        upsert_costs(
            session,
            "test",
            [cost_line(first, "12.50", effective="10"), cost_line(first - timedelta(days=1), "99"), *credits],
        )
    fq = env.get("/api/summary")["forecast_next_quarter"]  # type: ignore[index]
    start, end = next_calendar_quarter(today)  # the next calendar quarter, not the next 92 days
    days = (end - start).days
    assert (fq["period_start"], fq["period_end"]) == (start.isoformat(), end.isoformat()) and start.day == 1
    assert fq["available"] is True and fq["days_covered"] == days and fq["credits"] == -90.0
    # the interval of a quarter's total: daily half-widths add in quadrature (sqrt(days) x 10), not days x 10
    half80, half95 = round(days**0.5 * 10.0, 2), round(days**0.5 * 20.0, 2)
    total = 100.0 * days - 90.0
    assert (fq["mean"], fq["lo80"], fq["hi80"], fq["lo95"], fq["hi95"]) == pytest.approx(
        (total, total - half80, total + half80, total - half95, total + half95), abs=0.011
    )
    by_provider = env.get("/api/summary")["forecast_next_quarter_by_provider"]  # type: ignore[index]
    assert [(p["provider"], p["available"]) for p in by_provider] == [("aws", False)]
    assert "no stored forecast of 'cost:provider:aws'" in by_provider[0]["reason"]
    mtd = env.get("/api/summary")["spend_month_to_date"]  # type: ignore[index]
    assert (mtd["billed"], mtd["effective"]) == (12.5, 10.0)


def test_scenarios_saved_compared_and_deleted(env: Env) -> None:
    body = {
        "name": "double",
        "growth": {"percent_per_month": 100},
        "months": 3,
        "environment": "staging",
        "provider": "aws",
    }
    r = env.client.post("/api/scenarios", json=body, headers=env.auth("viewer"))
    assert r.status_code == 403
    created = env.post("/api/scenarios", json=body)
    r = env.client.post("/api/scenarios", json=body, headers=env.auth("editor"))
    assert r.status_code == 409 and "exists" in r.json()["detail"]
    sid = created["id"]  # type: ignore[index]
    assert [s["name"] for s in env.get("/api/scenarios")["items"]] == ["double"]  # type: ignore[index]
    cmp = env.get(f"/api/scenarios/{sid}/compare")
    # i-idle (2 vCPU, $0.10, 1%) and i-spare (8 vCPU, $0.40, 30%): $365 a month. Doubling each month, i-spare's
    # 2.4 busy vCPU become 9.6 in month 3, over 80% of 8 vCPU: a second i-spare, +0.40 x 730 = 292.
    assert cmp["resources"] == 2  # type: ignore[index]
    months = cmp["months"]  # type: ignore[index]
    assert [m["baseline_cost"] for m in months] == [365.0, 365.0, 365.0]
    assert [m["scenario_cost"] for m in months] == [365.0, 365.0, 657.0]
    assert months[2]["scenario_demand_vcpus"] == pytest.approx(4 * 2.42)
    assert cmp["total_cost_delta"] == 292.0  # type: ignore[index]
    r = env.client.delete(f"/api/scenarios/{sid}", headers=env.auth("editor"))
    assert r.status_code == 204
    r = env.client.get(f"/api/scenarios/{sid}/compare", headers=env.auth("viewer"))
    assert r.status_code == 404 and "no scenario" in r.json()["detail"]


def test_the_scenario_baseline_is_the_executive_run_rate(env: Env) -> None:
    # a week of bills for the two staging machines, then one still-filling day: the run rate is the settled week
    today = env.now.date()
    lines = [cost_line(today - timedelta(days=n), amount, rid) for n in range(1, 9)
             for rid, amount in (("i-idle", "3.00"), ("i-spare", "12.00"))]
    lines.append(credit_line(today - timedelta(days=3), "-50"))  # one-off: not part of a rate
    with session_scope(env.settings.database_url) as session:
        upsert_costs(session, "test", lines)
    rate = env.get("/api/summary")["monthly_run_rate"]  # type: ignore[index]
    assert rate["monthly"] == pytest.approx(15.0 * 730 / 24, abs=0.01) and rate["resources"] == 2
    body = {"name": "flat", "growth": {"percent_per_month": 0}, "months": 2, "environment": "staging"}
    sid = env.post("/api/scenarios", json=body)["id"]  # type: ignore[index]
    cmp = env.get(f"/api/scenarios/{sid}/compare")
    assert cmp["fleet_monthly_cost"] == pytest.approx(rate["monthly"], abs=0.01)  # type: ignore[index]
    # i-spare at 30% stays under the 80% target: its baseline month adds nothing to the fleet as billed
    assert cmp["months"][0]["baseline_cost"] == pytest.approx(rate["monthly"], abs=0.01)  # type: ignore[index]


def test_budget_runway_from_the_stored_cost_forecast(env: Env) -> None:
    today = env.now.date()
    first = date(today.year, today.month, 1)
    spent_days = (today - first).days
    if spent_days == 0:
        pytest.skip("on the first of the month no spend of this month is billed yet")
    with session_scope(env.settings.database_url) as session:
        upsert_costs(session, "test", [cost_line(first + timedelta(days=d), "10") for d in range(spent_days)])
    midnight = datetime(today.year, today.month, today.day, tzinfo=env.now.tzinfo)
    store_forecast(
        env.settings.database_url,
        "cost:total",
        "daily_cost",
        midnight,
        step=86400,
        mean=np.full(200, 10.0),
        band80=2.0,
        band95=4.0,
    )
    env.settings.recommend.budgets = {"total": 1000.0}
    env.post("/api/recommendations/refresh")
    budget = env.get("/api/runway")["budgets"]  # type: ignore[index]
    assert [b["resource_key"] for b in budget] == ["budget:total"]
    refreshed = datetime.fromisoformat(env.get("/api/summary")["last_refresh"])  # type: ignore[index]
    spent = 10.0 * spent_days
    # forecast day k (midnight + k days) brings the total to spent + 10 k (mean) or spent + 12 k (80% upper edge)
    p50 = midnight + timedelta(days=(1000.0 - spent) / 10.0)
    p90 = midnight + timedelta(days=(1000.0 - spent) / 12.0)
    assert budget[0]["p50_days"] == pytest.approx((p50 - refreshed) / timedelta(days=1), abs=1e-3)
    assert budget[0]["p90_days"] == pytest.approx((p90 - refreshed) / timedelta(days=1), abs=1e-3)
    assert budget[0]["current"] == spent and budget[0]["threshold"] == 1000.0
