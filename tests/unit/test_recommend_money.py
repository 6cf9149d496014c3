"""Money both ways: an upsize shows what it costs and what it prevents, a saving its negative cost and its risk."""

from __future__ import annotations

from services.db.models import RecommendationRow
from services.recommend.money import monthly_cost_change, risk_change


def row(**fields: object) -> RecommendationRow:
    base: dict[str, object] = {"kind": "rightsize", "finding": "waste", "title": "t", "risk": 1, "proposed": {},
                               "evidence": {}, "monthly_savings_effective": 0.0}
    return RecommendationRow(**{**base, **fields})


def test_an_upsize_costs_money_and_says_what_it_prevents() -> None:
    upsize = row(finding="under_provisioned", proposed={"monthly_cost_change_effective": 70.08},
                 evidence={"observed": {"cpu_p95": 96.0, "mem_max": 50.0}, "forecast_peak": {"cpu": 99.0},
                           "projected_utilisation": {"cpu": 49.5, "memory": 25.0}})
    assert monthly_cost_change(upsize) == 70.08
    words = risk_change(upsize)
    assert words.startswith("prevents saturation") and "CPU 99% now or forecast, 50% after" in words
    assert "memory 50% now or forecast, 25% after" in words


def test_a_saving_is_a_negative_cost_with_the_risk_it_takes_on() -> None:
    saving = row(monthly_savings_effective=120.0, risk=2, evidence={"projected_utilisation": {"cpu": 61.0}})
    assert monthly_cost_change(saving) == -120.0
    assert risk_change(saving) == "performance risk medium after the change (projected cpu 61%)"
