"""Daily cost forecasts from cost_records, training-run counters, (series, day) idempotence and the API over them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.app import create_app
from collector.records import CostRecord, SampleBatch, SeriesRef
from ml_engine.ensemble import Ensemble
from services.auth import create_token, ensure_user
from services.costs.cost_series import daily_costs, period_total
from services.db.engine import session_scope
from services.db.migrate import upgrade
from services.db.models import ModelVersionRow
from services.forecasting.registry import NewVersion, forecast_points, register_version
from services.forecasting.training import latest_forecast
from services.forecasting.training_pool import train_in_processes
from services.ingest.ingest import upsert_costs
from services.metrics import open_metric_store
from services.settings import Settings, load_settings

AS_OF = date(2026, 11, 20)
FIRST_COST_DAY = AS_OF - timedelta(days=56)
COST_IDS = ["cost:total", "cost:provider:aws", "cost:provider:gcp"]


def aws_cost(day: date) -> float:
    return 120.0 if day.weekday() < 5 else 60.0  # weekdays cost twice the weekend


@pytest.fixture
def settings(tmp_path: Path) -> Iterator[Settings]:
    settings = load_settings(data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'h.db'}",
                             frontend_dist=tmp_path / "no-dist",
                             forecasting={"model": "seasonal_naive", "horizon_hours": 24, "history_days": 7})
    upgrade(settings.database_url)
    costs: list[CostRecord] = []
    for n in range(57):  # eight weeks of settled daily cost lines to AS_OF - 1, and AS_OF's, still filling
        day = FIRST_COST_DAY + timedelta(days=n)
        for provider, amount in (("aws", aws_cost(day)), ("gcp", 40.0)):
            for half in (0.5, 0.5):  # two lines per provider and day: summed per charge day
                value = Decimal(str(amount * half * (0.3 if day == AS_OF else 1.0)))  # AS_OF's bill: partial
                costs.append(CostRecord(provider=provider, charge_period_start=day,
                                        charge_period_end=day + timedelta(days=1), billed_cost=value,
                                        effective_cost=value, list_cost=value, service_name=f"svc-{half}-{provider}",
                                        resource_id=f"r-{len(costs)}"))
    with session_scope(settings.database_url) as session:
        upsert_costs(session, "test", costs)
    store = open_metric_store(settings.metrics_url)
    end = int(datetime.combine(AS_OF, datetime.min.time(), tzinfo=UTC).timestamp())
    ts = np.arange(end - 5 * 86400, end, 300, dtype=np.int64)
    store.write([SampleBatch(SeriesRef("web-1", "cpu_utilization"), ts, 40 + 10 * np.sin(ts / 86400 * 2 * np.pi))])
    store.close()
    yield settings


def test_cost_forecasts_runs_and_idempotence_through_the_api(settings: Settings) -> None:
    summary = train_in_processes(as_of=AS_OF, settings=settings, jobs=1)
    assert sorted(summary.trained) == sorted(["web-1/cpu_utilization", *COST_IDS]) and not summary.errors
    last_day = datetime.combine(AS_OF - timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    with session_scope(settings.database_url) as session:
        total = latest_forecast(session, "cost:total", "daily_cost")
        horizon = settings.training.cost_horizon_days
        assert total is not None and total.step_seconds == 86400 and len(total.points) == horizon
        assert total.points[0].ts == last_day + timedelta(days=1)
        assert total.points[-1].ts == last_day + timedelta(days=horizon)
        # seasonal naive with season 7 repeats the last week: weekday totals 160, weekend totals 100
        for p in total.points:
            assert p.mean == pytest.approx(aws_cost(p.ts.date()) + 40.0)
        gcp = latest_forecast(session, "cost:provider:gcp", "daily_cost")
        assert gcp is not None and {p.mean for p in gcp.points} == {40.0}
        versions = session.scalar(select(func.count()).select_from(ModelVersionRow))

    again = train_in_processes(as_of=AS_OF, settings=settings, jobs=1)
    assert again.trained == [] and len(again.skipped) == 4
    with session_scope(settings.database_url) as session:
        assert session.scalar(select(func.count()).select_from(ModelVersionRow)) == versions

    with session_scope(settings.database_url) as session:
        user = ensure_user(session, email="viewer@example.com", role="viewer")
        token = create_token(session, user=user, name="t", role="viewer", ttl=timedelta(days=1)).token
    auth = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(settings)) as client:
        body = client.get("/api/forecasts", params={"series_id": "cost:total", "stat": "daily_cost"},
                          headers=auth).json()
        assert body["step"] == 86400 and len(body["points"]) == settings.training.cost_horizon_days
        [run] = client.get("/api/training/runs", headers=auth).json()["items"]
        assert (run["as_of"], run["status"], run["total"], run["done"], run["skipped"], run["failed"]) == (
            AS_OF.isoformat(), "finished", 4, 4, 0, 0)
        models = client.get("/api/models", params={"series_id": "cost:total"}, headers=auth).json()["items"]
        assert [(m["stat"], m["version"], m["status"]) for m in models] == [("daily_cost", 1, "active")]
        assert models[0]["metrics"]["mase"] is not None
        assert client.get("/api/accuracy", headers=auth).json() == {"items": []}
        assert client.get("/api/anomalies", params={"series_id": "cost:total"}, headers=auth).json() == {"items": []}
        rollback = client.post("/api/models/rollback", json={"series_id": "cost:total", "stat": "daily_cost"},
                               headers=auth)
        assert rollback.status_code == 403  # a viewer may not


def viewer_headers(settings: Settings) -> dict[str, str]:
    with session_scope(settings.database_url) as session:
        user = ensure_user(session, email="viewer@example.com", role="viewer")
        token = create_token(session, user=user, name="t", role="viewer", ttl=timedelta(days=1)).token
    return {"Authorization": f"Bearer {token}"}


def test_models_api_shows_the_ensembles_member_weights_and_backtest_errors(settings: Settings) -> None:
    with session_scope(settings.database_url) as session:
        history = daily_costs(session, "cost:total", start=FIRST_COST_DAY, end=AS_OF)
    members = ["seasonal_naive", "theta", "auto_ets"]
    forecast = Ensemble(season_length=7, members=members).fit(history).predict(14, (80, 95))
    with session_scope(settings.database_url) as session:
        register_version(session, NewVersion(
            series_id="cost:total", stat="daily_cost", as_of=AS_OF, model_name="ensemble", params=forecast.params,
            metrics={"mase": 0.4}, data_start=history.index[0].to_pydatetime(),
            data_end=history.index[-1].to_pydatetime(), step_seconds=86400,
            points=forecast_points(forecast.to_frame())), artifacts=None)
    with TestClient(create_app(settings)) as client:
        [model] = client.get("/api/models", params={"series_id": "cost:total"},
                             headers=viewer_headers(settings)).json()["items"]
    got = {m["name"]: m for m in model["members"]}
    assert set(got) == set(members)
    assert sum(m["weight"] for m in model["members"]) == pytest.approx(1.0, abs=1e-3)
    assert [m["weight"] for m in model["members"]] == sorted((m["weight"] for m in model["members"]), reverse=True)
    for name, weight in forecast.params["members"].items():
        assert got[name]["weight"] == pytest.approx(weight)
        assert got[name]["backtest_mae"] == forecast.params["backtest"]["mae"].get(name)
    # the weekly pattern repeats exactly: seasonal naive has no backtest error and carries the weight
    assert model["members"][0]["name"] == "seasonal_naive" and got["seasonal_naive"]["backtest_mae"] == 0.0


def test_credits_stay_out_of_the_cost_series_and_its_forecast_stays_non_negative(settings: Settings) -> None:
    credit_day = date(2026, 11, 1)
    credit = CostRecord(provider="aws", charge_period_start=credit_day, charge_period_end=credit_day + timedelta(1),
                        billed_cost=Decimal("-450"), effective_cost=Decimal("-450"), list_cost=Decimal("0"),
                        charge_category="Credit", service_name="credit")
    with session_scope(settings.database_url) as session:
        upsert_costs(session, "test", [credit])
        history = daily_costs(session, "cost:total", start=FIRST_COST_DAY, end=AS_OF)
    assert history[pd.Timestamp(credit_day, tz="UTC")] == aws_cost(credit_day) + 40.0  # the credit is not counted
    assert not train_in_processes(as_of=AS_OF, settings=settings, jobs=1).errors
    with session_scope(settings.database_url) as session:
        total = latest_forecast(session, "cost:total", "daily_cost")
        assert total is not None and min(p.lo95 for p in total.points if p.lo95 is not None) >= 0.0


def test_a_periods_total_interval_adds_daily_half_widths_in_quadrature() -> None:
    index = pd.date_range("2026-12-01", periods=92, freq="D", tz="UTC")
    mean = pd.Series(100.0, index=index)
    lower = {80: mean - 10.0, 95: (mean - 150.0)}
    upper = {80: mean + 30.0, 95: mean + 20.0}
    total = period_total(mean, lower, upper, start=date(2026, 12, 1), end=date(2027, 3, 3))
    assert (total.days, total.mean) == (92, 9200.0)
    lo80, hi80 = total.bounds[80]
    assert (lo80, hi80) == pytest.approx((9200.0 - 10.0 * 92**0.5, 9200.0 + 30.0 * 92**0.5))  # asymmetry kept
    assert total.bounds[95][0] == pytest.approx(9200.0 - 150.0 * 92**0.5)  # daily lower bounds < 0: not clipped
    one_day = period_total(mean, {80: mean * 0.0}, {80: mean * 2.0}, start=date(2026, 12, 1), end=date(2026, 12, 2))
    assert (one_day.days, one_day.bounds[80]) == (1, (0.0, 200.0))  # one day: its own bounds
