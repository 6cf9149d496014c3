"""Off-hours schedules: a constructed 9-to-5 weekday machine, time zones, and the cases that must be skipped."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from collector.catalog import Catalog
from collector.config import DemoSourceSettings
from collector.demo import DemoCollector
from collector.records import Resource
from services.recommend.base import Recommendation, Skipped
from services.recommend.schedule import ScheduleSettings, is_on, offhours_schedule

DEV = Resource(resource_id="i-dev", provider="aws", name="devbox", hourly_price=0.2, environment="dev")
END = pd.Timestamp("2026-02-02 00:00", tz="UTC")  # a Monday; four weeks back stay clear of DST changes


def week_series(busy: set[tuple[int, int]], tz: str = "UTC", weeks: int = 4, on: float = 40.0) -> pd.Series:
    """Hourly CPU: `on` percent in the (weekday, hour) slots of `busy` (local time), 1% otherwise."""
    index = pd.date_range(end=END - pd.Timedelta(hours=1), periods=weeks * 168, freq="h")
    local = index.tz_convert(tz)
    values = [on if (d, h) in busy else 1.0 for d, h in zip(local.dayofweek, local.hour, strict=True)]
    return pd.Series(np.asarray(values), index=index)


NINE_TO_FIVE = {(d, h) for d in range(5) for h in range(9, 17)}


def test_nine_to_five_weekdays_give_a_weekday_window_and_its_savings() -> None:
    rec = offhours_schedule(resource=DEV, cpu=week_series(NINE_TO_FIVE))
    assert isinstance(rec, Recommendation)
    p = rec.proposed
    # busy 09:00-17:00 Mon-Fri; one hour of padding before: on 08:00-17:00, 5 x 9 = 45 h, off 168 - 45 = 123 h
    assert (p["days"], p["start_hour"], p["stop_hour"]) == (["Mon", "Tue", "Wed", "Thu", "Fri"], 8, 17)
    assert (p["on_hours_per_week"], p["off_hours_per_week"]) == (45, 123)
    assert rec.monthly_savings_list == pytest.approx(round(0.2 * 123 * 730 / 168, 2))
    assert (p["cron_start"], p["cron_stop"]) == ("0 8 * * 1,2,3,4,5", "0 17 * * 1,2,3,4,5")
    assert rec.evidence.coverage_hours == 14 * 24
    assert any("Mon-Fri between 09:00 and 17:00" in r for r in rec.evidence.reasons)
    padded = offhours_schedule(resource=DEV, cpu=week_series(NINE_TO_FIVE), settings=ScheduleSettings(
        padding_hours_before=0, padding_hours_after=1))  # fmt: skip
    assert isinstance(padded, Recommendation)
    assert (padded.proposed["start_hour"], padded.proposed["stop_hour"]) == (9, 18)


def test_the_window_is_in_the_machine_time_zone() -> None:
    tagged = replace(DEV, tags={"timezone": "America/New_York"})
    rec = offhours_schedule(resource=tagged, cpu=week_series(NINE_TO_FIVE, tz="America/New_York"))
    assert isinstance(rec, Recommendation)
    assert (rec.proposed["timezone"], rec.proposed["start_hour"], rec.proposed["stop_hour"]) == (
        "America/New_York",
        8,
        17,
    )
    # 08:00 in New York in January is 13:00 UTC: the machine is on then and off an hour earlier
    on = is_on(rec.proposed, pd.DatetimeIndex(["2026-01-05 13:00", "2026-01-05 12:00"], tz="UTC"))
    assert on.tolist() == [True, False]


def test_production_and_opted_out_machines_are_never_scheduled() -> None:
    prod = replace(DEV, environment="production")
    out = offhours_schedule(resource=prod, cpu=week_series(NINE_TO_FIVE))
    assert isinstance(out, Skipped) and "production" in out.reason
    pinned = replace(DEV, tags={"schedule": "always-on"})
    out = offhours_schedule(resource=pinned, cpu=week_series(NINE_TO_FIVE))
    assert isinstance(out, Skipped) and "always-on" in out.reason


def test_round_the_clock_usage_is_not_diurnal() -> None:
    everyday = {(d, h) for d in range(7) for h in range(6, 24)}  # 18 h a day, 7 days; padded 05-24: 133 on, 35 off
    out = offhours_schedule(resource=DEV, cpu=week_series(everyday))
    assert isinstance(out, Skipped)
    assert "not clearly diurnal" in out.reason and "35 off hours" in out.reason


def test_scattered_busy_hours_are_not_diurnal() -> None:
    scattered = {(0, 1), (0, 22), (4, 12)}  # Mon 00:00-23:00 and Fri: 3 busy of 46 window hours
    out = offhours_schedule(resource=DEV, cpu=week_series(scattered))
    assert isinstance(out, Skipped)
    assert "only 7% of the 46 hours" in out.reason


def test_never_busy_points_to_idle_and_too_little_data_says_so() -> None:
    out = offhours_schedule(resource=DEV, cpu=week_series(set()))
    assert isinstance(out, Skipped) and "idle" in out.reason
    short = week_series(NINE_TO_FIVE).iloc[-100:]
    out = offhours_schedule(resource=DEV, cpu=short)
    assert isinstance(out, Skipped) and out.reason.startswith("not enough data: 100 hours")


def test_demo_devboxes_get_their_working_hours() -> None:
    now = datetime(2026, 3, 4, tzinfo=UTC)
    demo = DemoCollector(DemoSourceSettings(resources=20, days=15, step_minutes=15), Catalog.load(), now=now)
    resources = {r.resource_id: r for r in demo.discover()}
    cpu = {
        b.series.resource_id: pd.Series(b.values, index=pd.to_datetime(b.timestamps, unit="s", utc=True))
        for b in demo.collect_metrics(None, now)
        if b.series.metric == "cpu_utilization"
    }
    devboxes = [m for m in demo.fleet if m.behaviour == "devbox"]
    assert devboxes
    for m in devboxes:
        zone = f"Etc/GMT{-m.utc_offset_hours:+d}"  # POSIX sign: Etc/GMT+5 is UTC-5
        rec = offhours_schedule(resource=resources[m.resource_id], cpu=cpu[m.resource_id], timezone=zone)
        assert isinstance(rec, Recommendation), rec
        # the devboxes work 09:00-18:00 local on weekdays
        assert (rec.proposed["weekdays"], rec.proposed["start_hour"], rec.proposed["stop_hour"]) == (
            [0, 1, 2, 3, 4],
            8,
            18,
        )
        assert rec.monthly_savings_list > 0
    others = [m for m in demo.fleet if m.environment == "production"]
    assert all(isinstance(offhours_schedule(resource=resources[m.resource_id], cpu=cpu[m.resource_id]), Skipped)
               for m in others)  # fmt: skip
