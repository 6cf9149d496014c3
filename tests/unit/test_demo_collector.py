"""The demo fleet: determinism across windows, catalog prices, and the behaviours the recommenders need."""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from collector.catalog import Catalog
from collector.config import DemoSourceSettings
from collector.demo import DemoCollector
from collector.demo_costs import COMPUTE_SERVICES, SPIKE_EVERY_DAYS, TRANSFER_SERVICES
from collector.records import SampleBatch

NOW = datetime(2026, 3, 4, 10, 17, 33, tzinfo=UTC)
LABELS = {"provider", "account", "region", "environment", "team", "service", "instance_type"}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


@pytest.fixture(scope="module")
def demo(catalog: Catalog) -> DemoCollector:
    return DemoCollector(DemoSourceSettings(), catalog, now=NOW)


@pytest.fixture(scope="module")
def batches(demo: DemoCollector) -> dict[str, SampleBatch]:
    return {b.series.series_id: b for b in demo.collect_metrics(None, NOW)}


def series(batch: SampleBatch) -> pd.Series:
    return pd.Series(batch.values, index=pd.to_datetime(batch.timestamps, unit="s", utc=True))


def by_metric(batches: dict[str, SampleBatch], metric: str) -> dict[str, SampleBatch]:
    return {b.series.resource_id: b for b in batches.values() if b.series.metric == metric}


def test_full_history_generates_in_seconds(catalog: Catalog) -> None:
    started = time.perf_counter()
    points = sum(len(b) for b in DemoCollector(DemoSourceSettings(), catalog, now=NOW).collect_metrics(None, NOW))
    elapsed = time.perf_counter() - started
    assert points > 3_000_000
    assert elapsed < 10.0, f"{points} points took {elapsed:.1f}s"


def test_history_is_days_of_steps_ending_at_now_floored(demo: DemoCollector, batches: dict[str, SampleBatch]) -> None:
    end = int(datetime(2026, 3, 4, 10, 15, tzinfo=UTC).timestamp())
    for batch in batches.values():
        assert len(batch) == 90 * 288
        assert batch.timestamps[0] == end - 90 * 86400 and batch.timestamps[-1] == end - 300
    assert list(demo.collect_metrics(NOW, NOW + timedelta(days=1))) == []
    assert list(demo.collect_metrics(None, NOW - timedelta(days=91))) == []


def test_split_windows_give_exactly_the_same_samples(demo: DemoCollector, batches: dict[str, SampleBatch]) -> None:
    cuts = [None, NOW - timedelta(days=61, minutes=7), NOW - timedelta(days=3, seconds=1), NOW]
    parts: dict[str, list[SampleBatch]] = {}
    for since, until in zip(cuts, cuts[1:], strict=False):
        for b in demo.collect_metrics(since, until):  # type: ignore[arg-type]
            parts.setdefault(b.series.series_id, []).append(b)
    assert parts.keys() == batches.keys()
    for sid, whole in batches.items():
        np.testing.assert_array_equal(np.concatenate([p.timestamps for p in parts[sid]]), whole.timestamps)
        np.testing.assert_array_equal(np.concatenate([p.values for p in parts[sid]]), whole.values)


def test_a_later_collector_agrees_where_histories_overlap(catalog: Catalog, batches: dict[str, SampleBatch]) -> None:
    later = DemoCollector(DemoSourceSettings(), catalog, now=NOW + timedelta(hours=5, minutes=3))
    newer = {
        b.series.series_id: b
        for b in later.collect_metrics(NOW.replace(minute=15, second=0) - timedelta(days=2), NOW + timedelta(hours=6))
    }
    for sid, batch in batches.items():
        assert newer[sid].timestamps[-1] > batch.timestamps[-1]  # the later one has newer samples too
        overlap = np.intersect1d(newer[sid].timestamps, batch.timestamps)
        assert overlap.size == 2 * 288
        np.testing.assert_array_equal(
            newer[sid].values[np.isin(newer[sid].timestamps, overlap)], batch.values[np.isin(batch.timestamps, overlap)]
        )


def test_about_forty_resources_over_four_providers_priced_from_the_catalog(
    demo: DemoCollector, catalog: Catalog
) -> None:
    resources = list(demo.discover())
    assert len(resources) == 40 and len({r.resource_id for r in resources}) == 40
    providers = Counter(r.provider for r in resources)
    assert set(providers) == {"aws", "gcp", "azure", "onprem"} and min(providers.values()) >= 6
    assert {r.environment for r in resources} == {"production", "staging", "dev"}
    assert len({(r.provider, r.account) for r in resources}) >= 8
    assert len({r.region for r in resources}) >= 6
    for r in resources:
        entry = catalog.get(r.provider, r.instance_type, r.region)
        assert (r.hourly_price, r.vcpus, r.memory_gib) == (entry.hourly_price, entry.vcpus, entry.memory_gib)
        assert r.tags["team"] and r.tags["service"]
    dev = [r for r in resources if r.environment == "dev"]
    assert dev and any("schedule" not in r.tags for r in dev)


def test_series_carry_labels_units_and_sane_values(demo: DemoCollector, batches: dict[str, SampleBatch]) -> None:
    metrics = Counter(b.series.metric for b in batches.values())
    assert metrics["cpu_utilization"] == metrics["memory_utilization"] == 40
    assert 10 <= metrics["disk_utilization"] < 40 and 10 <= metrics["network_in_bytes"] < 40
    for b in batches.values():
        assert set(b.series.labels) == LABELS
        assert all(isinstance(v, str) and v for v in b.series.labels.values())
        if b.series.unit == "percent":
            assert b.values.min() >= 0.0 and b.values.max() <= 100.0
        else:
            assert b.series.unit == "bytes" and b.values.min() >= 0


def test_idle_machines_exist(batches: dict[str, SampleBatch]) -> None:
    cpu = by_metric(batches, "cpu_utilization")
    idle = [rid for rid, b in cpu.items() if np.percentile(b.values, 95) < 3.0]
    assert len(idle) >= 4


def test_big_machines_are_over_provisioned(demo: DemoCollector, batches: dict[str, SampleBatch]) -> None:
    cpu = by_metric(batches, "cpu_utilization")
    vcpus = {r.resource_id: r.vcpus or 0 for r in demo.discover()}
    over = [rid for rid, b in cpu.items() if vcpus[rid] >= 16 and 8.0 <= np.percentile(b.values, 95) <= 20.0]
    assert len(over) >= 4


def crosses_soon(batch: SampleBatch, threshold: float = 85.0, horizon_days: int = 14) -> bool:
    """Below the threshold now, but a line through the last 21 daily p95s reaches it within the horizon."""
    daily = series(batch).resample("1D").quantile(0.95).iloc[1:-1]  # whole days only
    recent = daily.iloc[-21:].to_numpy()
    slope, intercept = np.polyfit(np.arange(recent.size), recent, 1)
    level_now = intercept + slope * (recent.size - 1)
    return bool(level_now < threshold <= level_now + slope * horizon_days and recent.max() < 95)


@pytest.mark.parametrize("days_later", [0, 9, 23, 40])
def test_some_machines_saturate_within_two_weeks(catalog: Catalog, days_later: int) -> None:
    now = NOW + timedelta(days=days_later)
    demo = DemoCollector(DemoSourceSettings(days=30), catalog, now=now)
    soon = [
        b.series.series_id
        for b in demo.collect_metrics(None, now)
        if b.series.metric in ("cpu_utilization", "memory_utilization") and crosses_soon(b)
    ]
    assert soon, f"no series about to cross 85% at {now}"


def test_dev_boxes_are_busy_only_in_working_hours(batches: dict[str, SampleBatch]) -> None:
    office = []
    for rid, b in by_metric(batches, "cpu_utilization").items():
        s = series(b)
        weekday = s[s.index.dayofweek.isin([1, 2, 3])]  # Tue-Thu UTC are working days in every region
        sunday = s[s.index.dayofweek == 6]  # Sunday UTC is a weekend day in every region
        hourly = weekday.groupby(weekday.index.hour).mean()
        busy_hours = int((hourly > 10).sum())
        if busy_hours == 9 and hourly[hourly <= 10].max() < 3 and sunday.mean() < 2:
            office.append(rid)
    assert len(office) >= 4


def test_business_services_have_weekly_cycles(batches: dict[str, SampleBatch]) -> None:
    weekly = 0
    for b in by_metric(batches, "cpu_utilization").values():
        s = series(b)
        weekday, weekend = s[s.index.dayofweek < 5].mean(), s[s.index.dayofweek >= 5].mean()
        weekly += weekday > 1.15 * weekend and weekday > 10
    assert weekly >= 12


def test_one_compute_line_per_resource_per_day(demo: DemoCollector, catalog: Catalog) -> None:
    costs = list(demo.collect_costs(None, NOW))
    compute = [c for c in costs if c.charge_category == "Usage" and c.service_name in COMPUTE_SERVICES.values()]
    assert len(compute) == 40 * 90
    assert Counter((c.resource_id, c.charge_period_start) for c in compute).most_common(1)[0][1] == 1
    days = sorted({c.charge_period_start for c in compute})
    assert days[0] == (NOW - timedelta(days=90)).date() and days[-1] == NOW.date() - timedelta(days=1)
    resources = {r.resource_id: r for r in demo.discover()}
    discounted = 0
    for c in compute:
        r = resources[c.resource_id]
        assert c.list_cost == Decimal(f"{(r.hourly_price or 0) * 24:.6f}")
        assert c.effective_cost <= c.list_cost and c.billed_cost == c.effective_cost
        assert c.charge_period_end - c.charge_period_start == timedelta(days=1)
        assert (c.provider, c.region_id, c.sub_account_id) == (r.provider, r.region, r.account)
        discounted += c.effective_cost < c.list_cost
    assert 0 < discounted < len(compute)
    names = {c.provider: c.service_name for c in compute}
    assert names["aws"] == "Amazon Elastic Compute Cloud" and names["gcp"] == "Compute Engine"
    assert names["azure"] == "Virtual Machines"
    credits = [c for c in costs if c.charge_category == "Credit"]
    assert credits and all(c.billed_cost < 0 and c.charge_period_start.day == 1 for c in credits)


def daily_usage(demo: DemoCollector, now: datetime) -> pd.Series:
    """The fleet's usage spend per day (credits left out), indexed by day."""
    totals: Counter[date] = Counter()
    for c in demo.collect_costs(None, now):
        if c.charge_category == "Usage":
            totals[c.charge_period_start] += float(c.effective_cost)
    return pd.Series(totals).sort_index()


def test_daily_spend_has_weekends_growth_and_a_spike(demo: DemoCollector) -> None:
    daily = daily_usage(demo, NOW)
    weekday = pd.Series([d.weekday() < 5 for d in daily.index], index=daily.index)
    ordinary = daily[daily < 1.1 * daily.median()]
    assert ordinary[weekday].median() > 1.05 * ordinary[~weekday].median()  # weekends are cheaper
    first, last = ordinary[weekday].iloc[:10].mean(), ordinary[weekday].iloc[-10:].mean()
    assert last > first  # usage-priced spend grows month on month
    spikes = daily[daily > 1.1 * daily.median()]
    assert 1 <= len(spikes) <= 90 // SPIKE_EVERY_DAYS + 1
    assert daily.std() > 0.02 * daily.mean()  # not a constant: a cost model has something to learn
    transfer = [c for c in demo.collect_costs(None, NOW) if c.service_name in TRANSFER_SERVICES.values()]
    assert transfer and {c.provider for c in transfer} == set(TRANSFER_SERVICES)  # on-premises has no such bill
    assert all(c.resource_id and c.tags.get("team") for c in transfer)


def test_costs_are_deterministic_across_windows(demo: DemoCollector) -> None:
    cut = datetime(2026, 2, 1, tzinfo=UTC)
    whole = list(demo.collect_costs(None, NOW))
    split = list(demo.collect_costs(None, cut)) + list(demo.collect_costs(cut, NOW))
    assert split == whole
    assert whole == list(DemoCollector(DemoSourceSettings(), demo.catalog, now=NOW).collect_costs(None, NOW))


def test_fleet_size_follows_settings(catalog: Catalog) -> None:
    small = DemoCollector(DemoSourceSettings(resources=7, days=2, step_minutes=15, seed=1), catalog, now=NOW)
    assert len(list(small.discover())) == 7
    batch = next(iter(small.collect_metrics(None, NOW)))
    assert len(batch) == 2 * 96 and (np.diff(batch.timestamps) == 900).all()


def test_the_true_exhaustion_cases_are_the_saturating_machines_reaching_their_threshold(demo: DemoCollector) -> None:
    thresholds = {"cpu_utilization": 80.0, "memory_utilization": 90.0}
    cases = demo.running_out(thresholds)
    saturating = [m for m in demo.fleet if m.behaviour.startswith("saturating")]
    assert {c.machine.index for c in cases} == {m.index for m in saturating}
    assert [c.days for c in cases] == sorted(c.days for c in cases)  # soonest first
    for c in cases:
        assert c.days is not None
        level = demo.saturation(c.machine, np.asarray([demo.end + c.days * 86_400]))[0]
        # reached exactly on the day said, or already over now
        assert level == pytest.approx(thresholds[c.metric]) if c.days > 0 else level >= thresholds[c.metric]


def test_a_routine_peak_is_a_nightly_job_whose_samples_reach_the_threshold_every_night(demo: DemoCollector) -> None:
    peaks = demo.routine_peaks({"cpu_utilization": 80.0})
    assert peaks and all(p.machine.behaviour == "batch" and p.days is None for p in peaks)
    t = demo.timestamps(None, datetime.fromtimestamp(demo.end, UTC))
    cpu = pd.Series(demo.generate(peaks[0].machine, t)["cpu_utilization"], index=pd.to_datetime(t, unit="s"))
    nightly = cpu.resample("D").max().iloc[1:-1]
    assert (nightly >= 80.0).mean() > 0.9  # the job's samples touch the threshold nearly every night
    weekly = nightly.resample("W").median().iloc[1:-1]  # whole weeks
    assert weekly.max() - weekly.min() < 4.0  # and its peak does not grow (the noise of a night's maximum)


def test_every_metric_gives_the_same_fleet_five_series_per_machine(catalog: Catalog,
                                                                  batches: dict[str, SampleBatch]) -> None:
    full = DemoCollector(DemoSourceSettings(every_metric=True), catalog, now=NOW)
    more = {b.series.series_id: b for b in full.collect_metrics(NOW - timedelta(days=3), NOW)}
    assert {b.series.resource_id for b in more.values()} == {b.series.resource_id for b in batches.values()}
    per_machine = Counter(b.series.resource_id for b in more.values())
    assert set(per_machine.values()) == {5}  # cpu, memory, disk, network in and out
    for sid, b in more.items():  # the series the default fleet has are the same samples
        if sid in batches:
            window = batches[sid].timestamps >= b.timestamps[0]
            np.testing.assert_array_equal(batches[sid].values[window], b.values)
    for b in by_metric(more, "network_out_bytes").values():
        inbound = more[f"{b.series.resource_id}/network_in_bytes"].values
        assert (b.values >= 0).all() and 0.2 < np.median(b.values / inbound) < 1.0  # answers are smaller
