"""Each rule kind on rows written through the models: what fires, what does not, and scope filters."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.alerting.params import RuleParamsError, check_params
from services.alerting.rules import EVALUATORS, RuleView
from services.costs.cost_series import COST_STAT, COST_TOTAL
from services.db.engine import session_scope
from services.db.models import AnomalyRow, CostRow, RecommendationRow, ResourceRow
from tests.integration.test_alerting.test_end_to_end import write_forecast

pytestmark = pytest.mark.integration
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def session(db_url: str) -> Iterator[Session]:
    with session_scope(db_url) as s:
        for rid, env in (("i-prod", "production"), ("i-stage", "staging")):
            s.add(ResourceRow(provider="aws", resource_id=rid, name=rid, account="a1", environment=env,
                              tags={"team": "web"}))
        s.flush()
        yield s


def run(session: Session, kind: str, params: dict[str, object], scope: dict[str, object] | None = None) -> list[str]:
    rule = RuleView("r", kind, check_params(kind, params), scope or {})
    return [f.subject for f in EVALUATORS[kind](session, rule, NOW)]


def ramp(start: float, end: float, hours: int = 168) -> list[float]:
    return [start + (end - start) * h / (hours - 1) for h in range(hours)]


def test_capacity_p50_p90_horizon_and_scope(session: Session) -> None:
    # mean climbs 60 → 78 over the week; the 80% band's upper edge is 5 above: only p90 crosses 80
    write_forecast(session, "i-prod/cpu_utilization", "mean", NOW.date(), NOW, ramp(60, 78), HOUR, 5.0)
    write_forecast(session, "i-stage/cpu_utilization", "mean", NOW.date(), NOW, ramp(60, 78), HOUR, 5.0)
    base = {"metric": "cpu_utilization", "threshold": 80}
    assert run(session, "capacity", base | {"quantile": "p90"}) == ["i-prod/cpu_utilization",
                                                                     "i-stage/cpu_utilization"]
    assert run(session, "capacity", base | {"quantile": "p50"}) == []
    assert run(session, "capacity", base | {"quantile": "p90", "horizon_days": 2}) == []  # crosses later than that
    assert run(session, "capacity", base, {"environment": "production"}) == ["i-prod/cpu_utilization"]
    assert run(session, "capacity", base, {"tags": {"team": "data"}}) == []


def test_runway_extends_the_trend_beyond_the_forecast(session: Session) -> None:
    # +7 points a week from 40: the forecast never reaches 80, its trend does in ~5 weeks (p90: a bit sooner)
    write_forecast(session, "i-prod/cpu_utilization", "mean", NOW.date(), NOW, ramp(40, 47), HOUR, 2.0)
    assert run(session, "runway", {"threshold": 80, "lead_time_days": 45}) == ["i-prod/cpu_utilization"]
    assert run(session, "runway", {"threshold": 80, "lead_time_days": 20}) == []


def test_runway_from_the_persisted_runway_recommendations(session: Session) -> None:
    prod = session.scalars(select(ResourceRow).where(ResourceRow.resource_id == "i-prod")).one()
    for key, pk, p90 in (("aws:i-prod", prod.id, 12.0), ("group:environment=staging", None, 40.0)):
        session.add(RecommendationRow(resource_pk=pk, resource_key=key, dedupe_key=f"runway-{key}", kind="runway",
                                      finding="at_risk", title="cpu", current={"metric": "cpu_utilization",
                                                                               "threshold": 80.0},
                                      proposed={"p50_days": p90 + 5, "p90_days": p90, "method": "trend"}))
    session.flush()
    params = {"source": "recommendations", "threshold": 80, "lead_time_days": 30}
    assert run(session, "runway", params) == ["aws:i-prod/cpu_utilization"]
    assert run(session, "runway", params | {"lead_time_days": 60}) == ["aws:i-prod/cpu_utilization",
                                                                         "group:environment=staging/cpu_utilization"]
    assert run(session, "runway", params, {"environment": "staging"}) == []


def test_growth_over_the_window(session: Session) -> None:
    write_forecast(session, "i-prod/cpu_utilization", "mean", NOW.date(), NOW, ramp(40, 60), HOUR, 2.0)
    write_forecast(session, "i-stage/cpu_utilization", "mean", NOW.date(), NOW, ramp(40, 42), HOUR, 2.0)
    assert run(session, "growth", {"percent": 20, "window_days": 7}) == ["i-prod/cpu_utilization"]


def _cost(session: Session, day: datetime, amount: float) -> None:
    session.add(CostRow(dedup_key=f"c-{day:%Y%m%d}-{amount}", provider="aws", charge_period_start=day.date(),
                        charge_period_end=day.date() + timedelta(days=1), billed_cost=Decimal(amount),
                        effective_cost=Decimal(amount), list_cost=Decimal(amount)))


def test_cost_anomaly_by_ratio_or_band_and_month_end_budget(session: Session) -> None:
    day0 = NOW.replace(hour=0) - timedelta(days=2)
    write_forecast(session, COST_TOTAL, COST_STAT, day0.date(), day0, [100.0] * 15, timedelta(days=1), 5.0)
    for d in range(2):
        _cost(session, day0 + timedelta(days=d), 100.0)
    _cost(session, NOW.replace(hour=0), 125.0)  # below 150% of 100, but above the 95% band (110)
    session.flush()
    assert run(session, "cost_anomaly", {"ratio": 1.5, "band": 95}) == [COST_TOTAL]
    assert run(session, "cost_anomaly", {"ratio": 1.5}, {"provider": "gcp"}) == []
    # November: 325 spent by the 20th, 10 more forecast days at 100 → 1325
    assert run(session, "budget", {"monthly_budget": 1300}) == [COST_TOTAL]
    assert run(session, "budget", {"monthly_budget": 1400}) == []


def test_metric_anomalies_from_the_anomalies_table(session: Session) -> None:
    for sid, score in (("i-prod/cpu_utilization", 6.0), ("i-stage/memory_utilization", 2.0)):
        session.add(AnomalyRow(series_id=sid, kind="metric", started_at=NOW - HOUR, ended_at=NOW, peak_at=NOW,
                               actual=99.0, expected=40.0, lower=30.0, upper=50.0, score=score, status="open"))
    session.flush()
    assert run(session, "metric_anomaly", {}) == ["i-prod/cpu_utilization", "i-stage/memory_utilization"]
    assert run(session, "metric_anomaly", {"min_score": 3}) == ["i-prod/cpu_utilization"]
    assert run(session, "metric_anomaly", {"metric": "memory_utilization"}, {"environment": "production"}) == []


def test_params_are_checked_with_a_message_naming_the_field() -> None:
    with pytest.raises(RuleParamsError, match=r"capacity rule: params.quantile"):
        check_params("capacity", {"quantile": "p99"})
    with pytest.raises(RuleParamsError, match=r"budget rule: params.monthly_budget: Field required"):
        check_params("budget", {})
