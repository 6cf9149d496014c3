"""What-if scenarios: compounding growth, launches, migrations, scale-out, and comparison with the baseline."""

from __future__ import annotations

from datetime import date

import pytest

from collector.catalog import Catalog
from collector.records import Resource
from services.recommend.scenarios import (
    BaselineItem,
    Growth,
    Launch,
    Migration,
    Scenario,
    ScenarioSettings,
    compare,
    project,
    run_scenario,
)

START = date(2026, 3, 1)
WEB = BaselineItem(
    resource_id="web-1", instance_type="m4.xlarge", vcpus=4, hourly_price=0.2, utilisation=50.0,
    provider="aws", region="us-east-1", family="m4",
)  # fmt: skip
FIXED = ScenarioSettings(scale="fixed")


def test_growth_compounds_month_by_month_against_a_flat_baseline() -> None:
    result = run_scenario(items=[WEB], scenario=Scenario("growth", growth=Growth(10.0)), start=START, settings=FIXED)
    months = result.months
    assert [m.month for m in months][:3] == [date(2026, 3, 1), date(2026, 4, 1), date(2026, 5, 1)]
    assert len(months) == 12
    for m, row in enumerate(months):
        assert row.scenario_utilisation == pytest.approx(50.0 * 1.1**m)  # compounding, not 50 + 5m
        assert row.baseline_utilisation == pytest.approx(50.0)
        assert row.cost_delta == pytest.approx(0.0)  # a fixed fleet costs the same, it just runs hotter
    assert months[3].utilisation_delta == pytest.approx(66.55 - 50.0)
    over = [row.month for row in result.scenario.months if row.over_target]
    assert over[0] == date(2026, 8, 1)  # month 4: 50 * 1.1^4 = 73.2; month 5 (August): 50 * 1.1^5 = 80.5 > 80
    assert result.scenario.months[5].over_target == ("web-1",)


def test_scale_out_adds_instances_when_the_target_would_be_exceeded() -> None:
    result = run_scenario(items=[WEB], scenario=Scenario("growth", growth=Growth(10.0)), start=START)
    # load 2 vCPUs * 1.1^m; one 4-vCPU instance holds 3.2 at 80%; 1.1^5 = 1.61 -> 3.22 needs a second one in month 5
    instances = [m.instances for m in result.scenario.months]
    assert instances == [1] * 5 + [2] * 7
    monthly = 0.2 * 730
    assert result.scenario.months[5].monthly_cost == pytest.approx(2 * monthly)
    assert result.total_cost_delta == pytest.approx(7 * monthly)
    assert result.scenario.months[5].utilisation_percent == pytest.approx(100 * 2 * 1.1**5 / 8)


def test_a_launch_adds_a_step_that_grows_from_its_month() -> None:
    launch = Launch(on=date(2026, 5, 17), added_percent=50.0)  # May: month 2
    flat = project(items=[WEB], scenario=Scenario("launch", launches=(launch,)), start=START, settings=FIXED)
    assert [round(m.utilisation_percent, 6) for m in flat.months[:4]] == [50.0, 50.0, 75.0, 75.0]
    grown = project(
        items=[WEB], scenario=Scenario("both", growth=Growth(10.0), launches=(launch,)), start=START, settings=FIXED
    )
    assert grown.months[4].demand_vcpus == pytest.approx(2 * 1.1**4 + 1 * 1.1**2)


def test_a_migration_reprices_from_its_month_with_the_catalog() -> None:
    catalog = Catalog.load()
    target = catalog.get("aws", "c5.xlarge", "us-east-1")  # the smallest c5 with 4 vCPUs
    move = Migration(on=date(2026, 6, 1), to_family="c5", from_family="m4", performance_factor=1.25)
    result = run_scenario(
        items=[WEB], scenario=Scenario("to c5", migrations=(move,)), start=START, catalog=catalog, settings=FIXED
    )
    months = result.months
    assert months[2].cost_delta == pytest.approx(0.0)
    assert months[3].scenario_cost == pytest.approx(target.hourly_price * 730)
    assert months[3].cost_delta == pytest.approx((target.hourly_price - 0.2) * 730)
    assert months[3].scenario_utilisation == pytest.approx(40.0)  # 2 vCPUs of work / 1.25 on 4 vCPUs
    with pytest.raises(ValueError, match="no c5 type with 128"):
        project(items=[BaselineItem("x", "big", 128, 5.0, 10.0, provider="aws", region="us-east-1")],
                scenario=Scenario("x", migrations=(Migration(START, "c5"),)), start=START, catalog=catalog)  # fmt: skip


def test_scenarios_must_share_months_and_start_after_the_baseline() -> None:
    with pytest.raises(ValueError, match="before the projection start"):
        project(items=[WEB], scenario=Scenario("x", launches=(Launch(date(2026, 1, 1), 10.0),)), start=START)
    a = project(items=[WEB], scenario=Scenario("a"), start=START)
    b = project(items=[WEB], scenario=Scenario("b"), start=date(2026, 4, 1))
    with pytest.raises(ValueError, match="different months"):
        compare(baseline=a, scenario=b)


def test_items_are_built_from_discovered_resources() -> None:
    catalog = Catalog.load()
    vm = Resource("i-1", "aws", "web", instance_type="m4.xlarge", region="us-east-1")
    item = BaselineItem.from_resource(vm, utilisation=50.0, catalog=catalog)
    assert (item.vcpus, item.hourly_price, item.family) == (4, 0.2, "m4")
    assert project(items=[item], scenario=Scenario("x"), start=START).months[0].monthly_cost == pytest.approx(146.0)
    with pytest.raises(ValueError, match="price unknown"):
        BaselineItem.from_resource(Resource("i-2", "aws", "odd", instance_type="zz.huge"), utilisation=1.0)
