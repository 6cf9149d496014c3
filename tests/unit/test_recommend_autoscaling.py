"""The `autoscaling` recommendation kind: registered, run on scalable groups, carrying the replay as evidence."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from collector.catalog import Catalog
from collector.records import Resource
from services.recommend.base import Recommendation, Skipped
from services.recommend.registry import RECOMMENDERS, ResourceContext, plugin_outcomes

NOW = datetime(2024, 4, 1, tzinfo=UTC)


def group_cpu(days: int, seed: int = 3) -> pd.Series:
    """An ASG's CPU with a daily cycle, 5-minute steps, ending at NOW."""
    rng = np.random.default_rng(seed)
    index = pd.date_range(end=NOW, periods=days * 288, freq="5min", tz="UTC")
    t = np.arange(index.size)
    return pd.Series((45 - 30 * np.cos(2 * np.pi * t / 288)) * (1 + 0.05 * rng.standard_normal(t.size)), index=index)


def context(cpu: pd.Series | None, price: float | None = 0.192, max_size: int | None = None) -> ResourceContext:
    tags = {"headroom:max_size": str(max_size)} if max_size else {}
    asg = Resource(resource_id="arn:aws:autoscaling:web", provider="aws", name="web", kind="asg",
                   instance_type="m5.xlarge", region="us-east-1", hourly_price=price, tags=tags)
    return ResourceContext(asg, cpu, None, {}, Catalog.load(), NOW, None)


def test_autoscaling_is_a_registered_kind_for_scalable_groups_only() -> None:
    plugin = RECOMMENDERS.get("autoscaling")
    assert plugin.recommend is not None and "asg" in plugin.resource_kinds and "vm" not in plugin.resource_kinds


def test_a_daily_cycle_gets_a_plan_cheaper_than_target_tracking_with_its_evidence() -> None:
    outcomes = plugin_outcomes(context(group_cpu(21)), {})
    assert len(outcomes) == 1 and isinstance(outcomes[0], Recommendation)
    rec = outcomes[0]
    assert rec.kind == "autoscaling" and rec.finding == "over_provisioned"
    assert rec.proposed["cost_vs_oracle"] < rec.current["cost_vs_oracle"]
    assert rec.proposed["under_provisioned"] <= max(rec.current["under_provisioned"], 0.05)
    saved = rec.proposed["instances_saved_per_hour"]
    assert rec.monthly_savings_list == pytest.approx(saved * 0.192 * 730)
    assert any("Replayed on the last 7 days" in reason for reason in rec.evidence.reasons)


def test_too_little_history_is_skipped_with_the_reason() -> None:
    outcomes = plugin_outcomes(context(group_cpu(9)), {})
    assert isinstance(outcomes[0], Skipped) and "7 days of history" in outcomes[0].reason
    assert "no CPU usage" in plugin_outcomes(context(None), {})[0].reason


def test_a_plan_that_needs_the_maximum_size_says_so() -> None:
    roomy = plugin_outcomes(context(group_cpu(21), max_size=100), {})[0]
    assert isinstance(roomy, Recommendation) and roomy.proposed["reaches_max"] is False
    tight = plugin_outcomes(context(group_cpu(21), max_size=5), {})[0]
    assert isinstance(tight, Recommendation) and tight.proposed["reaches_max"] is True
    assert tight.proposed["peak_instances_48h"] == 5
    assert any("maximum size 5" in reason for reason in tight.evidence.reasons)
