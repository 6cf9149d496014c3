"""The demo fleet's scalable groups: an ASG and an HPA deployment with daily cycles, planned by `autoscaling`."""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd

from collector.catalog import Catalog
from collector.config import DemoSourceSettings
from collector.demo import DemoCollector
from services.recommend.base import Recommendation
from services.recommend.registry import ResourceContext, plugin_outcomes

NOW = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def test_groups_are_off_by_default_and_on_when_asked() -> None:
    catalog = Catalog.load()
    plain = DemoCollector(DemoSourceSettings(resources=3, days=2), catalog, now=NOW)
    assert [r.kind for r in plain.discover()] == ["vm"] * 3
    demo = DemoCollector(DemoSourceSettings(resources=3, days=2, scalable_groups=True), catalog, now=NOW)
    groups = [r for r in demo.discover() if r.kind != "vm"]
    assert sorted(r.kind for r in groups) == ["asg", "deployment"]
    assert all(int(r.tags["headroom:max_size"]) > int(r.tags["headroom:min_size"]) for r in groups)
    assert all(r.hourly_price and r.hourly_price > 0 for r in groups)


def test_a_group_cpu_has_a_daily_cycle_and_gets_an_autoscaling_plan() -> None:
    catalog = Catalog.load()
    demo = DemoCollector(DemoSourceSettings(resources=1, days=21, scalable_groups=True), catalog, now=NOW)
    asg = next(r for r in demo.discover() if r.kind == "asg")
    batch = next(b for b in demo.collect_metrics(None, NOW) if b.series.resource_id == asg.resource_id)
    cpu = pd.Series(batch.values, index=pd.to_datetime(batch.timestamps, unit="s", utc=True))
    by_hour = cpu.groupby(cpu.index.hour).mean()
    assert by_hour.max() > 3 * by_hour.min()  # a daily cycle worth planning for
    outcomes = plugin_outcomes(ResourceContext(asg, cpu, None, {}, catalog, NOW, None), {})
    assert isinstance(outcomes[0], Recommendation) and outcomes[0].kind == "autoscaling"
    assert outcomes[0].proposed["cost_vs_oracle"] < outcomes[0].current["cost_vs_oracle"]
