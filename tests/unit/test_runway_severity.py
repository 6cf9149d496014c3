"""Runway severity: already over, inside the lead time on the mean or only the band, noise and poor live accuracy
as uncertain, the forecast's reach said, and the order most severe first."""

from __future__ import annotations

from typing import Any

from services.recommend.runway_severity import SEVERITIES, LiveAccuracy, runway_severity


def runway(**fields: Any) -> dict[str, Any]:
    base = {"p50_days": None, "p90_days": None, "lead_time_days": 30.0, "horizon_days": 92.0, "current": 50.0,
            "threshold": 80.0}
    return {**base, **fields}


def test_already_over_is_said() -> None:
    sev = runway_severity(runway(current=93.0, p50_days=0.0, p90_days=0.0))
    assert sev.level == "over" and "already over" in sev.reason


def test_mean_inside_the_lead_time_is_critical_band_only_is_a_warning() -> None:
    assert runway_severity(runway(current=87.0, threshold=90.0, p50_days=1.3, p90_days=0.8)).level == "critical"
    warning = runway_severity(runway(current=60.0, p50_days=None, p90_days=12.0))
    assert warning.level == "warning" and "1 in 10" in warning.reason


def test_a_noisy_band_far_below_the_threshold_is_uncertain_not_urgent() -> None:
    noise = runway_severity(runway(current=0.1, p50_days=None, p90_days=2.0))
    assert noise.level == "uncertain" and "band's upper edge" in noise.reason
    critical = runway_severity(runway(current=87.0, threshold=90.0, p50_days=1.3, p90_days=0.8))
    assert critical.rank < noise.rank  # the real exhaustion case sorts first


def test_poor_live_accuracy_makes_a_band_crossing_uncertain() -> None:
    sev = runway_severity(runway(current=60.0, p90_days=10.0), LiveAccuracy(mase=3.1, coverage80=0.4))
    assert sev.level == "uncertain" and "40%" in sev.reason and "3.10" in sev.reason


def test_a_forecast_shorter_than_the_lead_time_says_how_far_it_reaches() -> None:
    sev = runway_severity(runway(horizon_days=6.95))
    assert sev.level == "ok" and "6.95" not in sev.reason and "7.0 days" in sev.reason and "30" in sev.reason
    assert SEVERITIES[0] == "over" and SEVERITIES[-1] == "ok"
