"""Source settings refuse the values the providers' APIs refuse, and CloudWatch periods follow retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from collector.aws.metrics import kept_days, retained_period, retention_chunks
from collector.config import AwsSourceSettings, AzureSourceSettings

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("minutes", [2, 7, 10, 45, 120, 1439])
def test_azure_intervals_are_the_time_grains_the_metrics_api_accepts(minutes: int) -> None:
    with pytest.raises(ValidationError, match="interval_minutes"):
        AzureSourceSettings(interval_minutes=minutes)


def test_azure_accepts_each_documented_time_grain() -> None:
    assert [AzureSourceSettings(interval_minutes=m).interval_minutes for m in (1, 5, 15, 30, 60, 360, 720, 1440)]


@pytest.mark.parametrize("seconds", [90, 150, 301])
def test_cloudwatch_periods_are_multiples_of_60(seconds: int) -> None:
    with pytest.raises(ValidationError, match="metrics_period_seconds"):
        AwsSourceSettings(metrics_period_seconds=seconds)


def test_cloudwatch_periods_follow_retention() -> None:
    assert [retained_period(60, NOW - timedelta(days=d), NOW) for d in (1, 15, 16, 63, 64, 455, 456)] == [
        60, 60, 300, 300, 3600, 3600, None]  # fmt: skip
    assert retained_period(120, NOW - timedelta(days=20), NOW) == 300  # a multiple of the tier, not 120
    assert (kept_days(60), kept_days(300), kept_days(3600)) == (15, 63, 455)


def test_a_90_day_backfill_is_cut_at_the_retention_boundaries_on_whole_hours() -> None:
    chunks = retention_chunks(NOW - timedelta(days=90), NOW, 60, NOW)
    assert chunks[0][0] == NOW - timedelta(days=90) and chunks[-1][1] == NOW
    assert all(a[1] == b[0] for a, b in zip(chunks, chunks[1:], strict=False))  # no gap, no overlap
    periods = [retained_period(60, start, NOW) for start, _ in chunks]
    assert sorted(set(periods), reverse=True) == [3600, 300, 60] and periods == sorted(periods, reverse=True)
    for (start, end), period in zip(chunks, periods, strict=True):
        assert (end - start) <= timedelta(seconds=201 * period)  # one GetMetricData call per 500 queries


def test_cost_explorer_is_never_asked_past_its_13_months() -> None:
    from collector.aws.costs import cost_days

    start, end = cost_days(None, NOW, settled_after_days=3, history_days=455)
    assert (start.isoformat(), end.isoformat()) == ("2025-10-01", "2026-11-21")  # 13 months and November so far
    start, _ = cost_days(NOW - timedelta(days=1), NOW, settled_after_days=3, history_days=455)
    assert start.isoformat() == "2026-11-17"
