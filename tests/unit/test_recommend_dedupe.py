"""Overlapping recommendations count once, and commitments are sized on the spend left after them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from collector.records import Resource
from services.recommend.base import Evidence, Recommendation
from services.recommend.commitments import recommend_commitments
from services.recommend.dedupe import adjusted_hourly_spend, deduplicate
from services.recommend.idle import idle_machine
from services.recommend.schedule import offhours_schedule

END = pd.Timestamp("2026-02-02 00:00", tz="UTC")  # a Monday
INDEX = pd.date_range(end=END - pd.Timedelta(hours=1), periods=28 * 24, freq="h")
MONTHLY = 0.2 * 730  # every machine here costs $0.20 an hour


def dev(rid: str) -> Resource:
    return Resource(resource_id=rid, provider="aws", name=rid, hourly_price=0.2, environment="dev")


def nine_to_five() -> pd.Series:
    busy = (INDEX.dayofweek < 5) & (INDEX.hour >= 9) & (INDEX.hour < 17)
    return pd.Series(np.where(busy, 40.0, 1.0), index=INDEX)


def rightsize(rid: str) -> Recommendation:
    """What the right-sizer would say: halve the machine ($0.20 -> $0.10 an hour)."""
    return Recommendation(
        kind="rightsize", resource_id=rid, finding="over_provisioned", title="resize",
        evidence=Evidence(coverage_hours=672, coverage_ratio=1.0), current={"hourly": 0.2}, proposed={"hourly": 0.1},
        monthly_savings_list=MONTHLY / 2, monthly_savings_effective=MONTHLY / 2,
    )  # fmt: skip


def commitment(term: str, saving: float) -> Recommendation:
    return Recommendation(
        kind="commitment", resource_id="fleet", finding="waste", title=term,
        evidence=Evidence(coverage_hours=720, coverage_ratio=1.0), proposed={"term": term},
        monthly_savings_list=saving, monthly_savings_effective=saving,
    )  # fmt: skip


def test_savings_on_one_resource_are_never_counted_twice() -> None:
    quiet = pd.Series(1.0, index=INDEX)
    idle = idle_machine(resource=dev("a"), cpu=quiet, network_bytes=None)
    schedule_a = offhours_schedule(resource=dev("a"), cpu=nine_to_five())  # a schedule for "a", as if from last month
    schedule_b = offhours_schedule(resource=dev("b"), cpu=nine_to_five())
    assert isinstance(idle, Recommendation) and isinstance(schedule_a, Recommendation)
    assert isinstance(schedule_b, Recommendation)
    runway = Recommendation(kind="runway", resource_id="a", finding="at_risk", title="cpu", evidence=Evidence(0, 1.0))
    recs = [schedule_a, rightsize("a"), idle, schedule_b, rightsize("b"), runway, commitment("1y", 30.0),
            commitment("3y", 50.0)]  # fmt: skip
    naive = sum(r.monthly_savings_list for r in recs)
    result = deduplicate(recs)
    # a: idle (all of $146) beats rightsize ($73) and schedule; b: rightsize ($73) beats schedule; 3y beats 1y
    assert {(r.resource_id, r.kind) for r in result.kept} == {
        ("a", "idle"), ("b", "rightsize"), ("a", "runway"), ("fleet", "commitment")
    }  # fmt: skip
    assert result.monthly_savings_list == pytest.approx(MONTHLY + MONTHLY / 2 + 50.0)
    assert naive - result.monthly_savings_list == pytest.approx(
        schedule_a.monthly_savings_list + MONTHLY / 2 + schedule_b.monthly_savings_list + 30.0
    )
    reasons = {(s.resource_id, s.kind): s.reason for s in result.superseded}
    assert "superseded by the idle recommendation" in reasons[("a", "rightsize")]
    assert "only one can be bought" in reasons[("fleet", "commitment")]


def test_commitments_are_sized_on_the_spend_left_after_the_other_savings() -> None:
    quiet = pd.Series(1.0, index=INDEX)
    idle = idle_machine(resource=dev("a"), cpu=quiet, network_bytes=None)
    schedule_c = offhours_schedule(resource=dev("c"), cpu=nine_to_five())
    assert isinstance(idle, Recommendation) and isinstance(schedule_c, Recommendation)
    kept = deduplicate([idle, rightsize("b"), schedule_c]).kept
    spend = {rid: pd.Series(0.2, index=INDEX) for rid in ("a", "b", "c", "d")}
    left = adjusted_hourly_spend(spend=spend, kept=kept)
    # a is gone, b halves to 0.1, c runs only Mon-Fri 08:00-17:00 (UTC), d untouched
    on_c = (INDEX.dayofweek < 5) & (INDEX.hour >= 8) & (INDEX.hour < 17)
    expected = 0.1 + 0.2 + np.where(on_c, 0.2, 0.0)
    np.testing.assert_allclose(left.to_numpy(), expected)
    raw = pd.concat(spend, axis=1).sum(axis=1)
    before = recommend_commitments(scope="fleet", spend=raw, discounts={"1y": 0.4})[0]
    after = recommend_commitments(scope="fleet", spend=left, discounts={"1y": 0.4})[0]
    assert isinstance(before, Recommendation) and isinstance(after, Recommendation)
    # before: a flat $0.80/h, all of it committed; after: only the $0.30/h that runs every hour
    assert before.proposed["commitment_hourly_on_demand"] == pytest.approx(0.8)
    assert after.proposed["commitment_hourly_on_demand"] == pytest.approx(0.3)
    assert after.monthly_savings_list == pytest.approx(round(0.3 * 0.4 * 730, 2))
