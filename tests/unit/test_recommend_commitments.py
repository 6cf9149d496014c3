"""Commitment sizing on constructed hourly spend with a known optimum, the over-commitment guard, and spot."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from collector.catalog import Catalog
from collector.records import Resource
from services.recommend.base import Recommendation, Skipped
from services.recommend.commitments import (
    CommitmentSettings,
    SpotSettings,
    commitment_discounts,
    optimal_commitment,
    recommend_commitments,
    simulate_commitment,
    spot_candidates,
)

END = pd.Timestamp("2026-03-01", tz="UTC")
DAY = np.r_[np.full(6, 2.0), np.full(6, 6.0), np.full(12, 10.0)]  # $/h: 6 h at $2, 6 h at $6, 12 h at $10


def hourly(values: np.ndarray) -> pd.Series:
    return pd.Series(values, index=pd.date_range(end=END - pd.Timedelta(hours=1), periods=len(values), freq="h"))


def test_simulation_matches_the_formula_by_hand() -> None:
    # c = 6 at 40% off: covered a day = 6*2 + 6*6 + 12*6 = 120 of 168; paid 6 * 0.6 * 24 = 86.4; net 33.6 a day
    sim = simulate_commitment(np.tile(DAY, 30), commitment=6.0, discount=0.4)
    assert sim.covered == pytest.approx(120 * 30)
    assert sim.net_savings == pytest.approx(33.6 * 30)
    assert sim.monthly_net_savings == pytest.approx(33.6 / 24 * 730)
    assert sim.utilisation == pytest.approx(120 / 144)
    assert sim.coverage == pytest.approx(120 / 168)
    assert sim.committed_hourly == pytest.approx(3.6)
    # all upfront, break-even when 12 months' payment (6 * 0.6 * 730 * 12) is covered by 120/24 * 730 a month
    assert sim.break_even_month("1y", "all_upfront") == 9  # 0.6 * 12 / (120/144) = 8.64
    assert sim.break_even_month("1y", "no_upfront") == 1


def test_the_optimum_is_the_level_with_the_best_net_and_depends_on_the_discount() -> None:
    spend = np.tile(DAY, 30)
    # net a day at 40% off: c=2 -> 48 - 28.8 = 19.2; c=6 -> 120 - 86.4 = 33.6; c=10 -> 168 - 144 = 24
    best = optimal_commitment(spend, discount=0.4)
    assert best.commitment == 6.0 and best.net_savings == pytest.approx(33.6 * 30)
    for level in (0.0, 2.0, 4.0, 6.5, 10.0):
        assert simulate_commitment(spend, commitment=level, discount=0.4).net_savings <= best.net_savings
    # at 60% off: c=6 -> 120 - 57.6 = 62.4; c=10 -> 168 - 96 = 72: commit to the peak
    assert optimal_commitment(spend, discount=0.6).commitment == 10.0
    # at 5% off only the $2 floor pays (used every hour): 2 * 0.05 * 720 = 72; above it, unused hours cost more
    floor = optimal_commitment(spend, discount=0.05)
    assert (floor.commitment, floor.net_savings) == (2.0, pytest.approx(72.0))
    assert optimal_commitment(spend, discount=0.0).commitment == 0.0


def test_recommendations_per_term_with_guard_and_alternatives() -> None:
    spend = hourly(np.tile(DAY, 60))
    # guard p50 of each day: between the 12th and 13th of 24 sorted values (6 and 10) -> 8
    settings = CommitmentSettings(guard_percentile=50.0)
    recs = recommend_commitments(scope="fleet", spend=spend, discounts={"1y": 0.4, "3y": 0.6}, settings=settings)
    one, three = recs
    assert isinstance(one, Recommendation) and isinstance(three, Recommendation)
    assert one.proposed["commitment_hourly_on_demand"] == 6.0  # under the cap of 8: the optimum stands
    assert one.monthly_savings_list == pytest.approx(round(33.6 / 24 * 730, 2))
    assert one.proposed["break_even_month"] == 9
    # 3y optimum is 10, capped at 8: covered 12*8 + 36 + 12 = 144 a day, paid 8 * 0.4 * 24 = 76.8, net 67.2
    assert three.evidence.observed["optimum_hourly"] == 10.0
    assert three.proposed["commitment_hourly_on_demand"] == 8.0
    assert three.proposed["commitment_hourly"] == pytest.approx(3.2)
    assert three.monthly_savings_list == pytest.approx(round(67.2 / 24 * 730, 2))
    assert three.proposed["utilisation"] == pytest.approx(0.75)
    assert three.proposed["break_even_month"] == 20  # 0.4 * 36 / 0.75 = 19.2
    assert any("Capped at $8.00/h" in r for r in three.evidence.reasons)
    assert [a["lookback_days"] for a in one.alternatives] == [7, 30, 60]


def test_a_recent_drop_caps_the_commitment_at_the_recent_floor() -> None:
    # 57 days at $10/h, then the fleet was right-sized to $4/h for the last 3 days
    spend = hourly(np.r_[np.full(57 * 24, 10.0), np.full(3 * 24, 4.0)])
    (rec, _) = recommend_commitments(scope="fleet", spend=spend, discounts={"1y": 0.4, "3y": 0.6})
    assert isinstance(rec, Recommendation)
    assert rec.evidence.observed["optimum_hourly"] == 10.0  # what the 30-day history alone would buy
    assert rec.proposed["commitment_hourly_on_demand"] == 4.0
    assert rec.proposed["utilisation"] == pytest.approx(1.0)
    assert rec.monthly_savings_list == pytest.approx(4 * 0.4 * 730)  # fully used: every hour saves 40% of $4


def test_too_little_spend_history_is_skipped_with_a_reason() -> None:
    out = recommend_commitments(scope="fleet", spend=hourly(np.tile(DAY, 5)), discounts={"1y": 0.4})
    assert len(out) == 2 and isinstance(out[0], Skipped)
    assert "30-day lookback" in out[0].reason
    missing = recommend_commitments(scope="fleet", spend=hourly(np.tile(DAY, 30)), discounts={"1y": 0.4})
    assert isinstance(missing[1], Skipped) and "no 3y price" in missing[1].reason


def test_discounts_come_from_the_catalog_weighted_by_price() -> None:
    catalog = Catalog.load()
    a = catalog.get("aws", "m4.large", "us-east-1")
    b = catalog.get("gcp", "e2-standard-4", "us-central1")
    resources = [
        Resource("i-a", "aws", "a", instance_type="m4.large", region="us-east-1"),
        Resource("i-b", "gcp", "b", instance_type="e2-standard-4", region="us-central1"),
        Resource("i-x", "aws", "x", instance_type="no-such-type", region="us-east-1"),
    ]
    assert a.price_1y is not None and b.price_1y is not None
    d = commitment_discounts(resources=resources, catalog=catalog)
    assert d["1y"] == pytest.approx(1 - (a.price_1y + b.price_1y) / (a.hourly_price + b.hourly_price))
    assert 0 < d["3y"] < 1


def test_spot_candidates_are_marked_workloads_with_a_spot_price() -> None:
    catalog = Catalog.load()
    entry = catalog.get("gcp", "e2-standard-4", "us-central1")
    assert entry.price_spot is not None
    resources = [
        Resource(
            "g-1",
            "gcp",
            "workers",
            instance_type="e2-standard-4",
            region="us-central1",
            hourly_price=entry.hourly_price,
            tags={"interruptible": "true"},
        ),  # fmt: skip
        Resource("g-2", "gcp", "db", instance_type="e2-standard-4", region="us-central1"),
        Resource("i-1", "aws", "batch", instance_type="m4.large", region="us-east-1", tags={"workload": "stateless"}),
        Resource("g-3", "gcp", "listed", instance_type="e2-standard-4", region="us-central1"),
    ]
    out = spot_candidates(resources=resources, catalog=catalog, settings=SpotSettings(resource_ids=["g-3"]))
    by_id = {o.resource_id: o for o in out}
    assert set(by_id) == {"g-1", "i-1", "g-3"}  # g-2 is not marked
    spot = by_id["g-1"]
    assert isinstance(spot, Recommendation) and spot.kind == "spot" and spot.evidence.risk == 2
    assert spot.monthly_savings_list == pytest.approx(round((entry.hourly_price - entry.price_spot) * 730, 2))
    assert isinstance(by_id["i-1"], Skipped) and "no spot price" in by_id["i-1"].reason
    assert isinstance(by_id["g-3"], Recommendation)
