"""Off-hours schedules for non-production machines busy only in working hours, and what they save."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
from pydantic import BaseModel, Field

from collector.records import Resource
from services.recommend.base import HOURS_PER_MONTH, Evidence, Recommendation, Skipped
from services.recommend.window import lookback

DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HOURS_PER_WEEK = 168


class ScheduleSettings(BaseModel):
    """How busy hours are detected and when a schedule is worth proposing."""

    lookback_days: int = Field(14, ge=7, le=90, description="Days of usage examined; at least a week.")
    busy_percentile: float = Field(95.0, ge=50.0, le=100.0, description="Percentile of CPU in each hour of the week.")
    busy_cpu_percent: float = Field(
        10.0, gt=0.0, le=100.0, description="An hour of the week is busy when its CPU percentile exceeds this."
    )
    padding_hours_before: int = Field(1, ge=0, le=6, description="Start the machine this many hours before work.")
    padding_hours_after: int = Field(0, ge=0, le=6, description="Keep it on this many hours after the last busy hour.")
    min_off_hours_per_week: float = Field(
        40.0, ge=1.0, le=167.0, description="Propose nothing that turns the machine off for fewer hours a week."
    )
    min_busy_share: float = Field(
        0.3, ge=0.0, le=1.0, description="Share of the on-window's hours that must be busy (else: not diurnal)."
    )
    min_coverage_ratio: float = Field(0.8, ge=0.1, le=1.0, description="Share of the lookback that must have data.")
    production_environments: list[str] = Field(
        default_factory=lambda: ["production", "prod", "prd"], description="Environments never scheduled off."
    )
    opt_out_tags: dict[str, str] = Field(
        default_factory=lambda: {"schedule": "always-on"}, description="Tags that exclude a machine from schedules."
    )
    timezone_tag: str = Field("timezone", description="Tag holding the machine's IANA time zone, e.g. Europe/Paris.")
    default_timezone: str = Field("UTC", description="Time zone used when the machine has no time-zone tag.")


def offhours_schedule(
    *,
    resource: Resource,
    cpu: pd.Series,
    settings: ScheduleSettings | None = None,
    timezone: str | None = None,
    effective_hourly: float | None = None,
    end: datetime | None = None,
) -> Recommendation | Skipped:
    """Propose an on-hours window (days and hours, local time) for a non-production machine busy only then.

    Busy hours of the week are those whose CPU percentile over the lookback exceeds `busy_cpu_percent`; the
    window spans the first to the last busy hour (plus padding) on every day that has a busy hour. Savings are
    the hourly price times the off hours in an average month (off hours a week x 730 / 168).
    """
    s = settings or ScheduleSettings()
    rid = resource.resource_id
    if resource.environment.lower() in s.production_environments:
        return Skipped(rid, "schedule", f"environment is {resource.environment!r}: production is never scheduled off")
    for key, value in s.opt_out_tags.items():
        if resource.tags.get(key, "").lower() == value.lower():
            return Skipped(rid, "schedule", f"tagged {key}={value}: the owner asked to keep it running")
    tz_name = timezone or resource.tags.get(s.timezone_tag) or s.default_timezone
    try:
        zone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        return Skipped(rid, "schedule", f"unknown time zone {tz_name!r}; use an IANA name such as Europe/Paris")
    window = lookback(cpu, days=s.lookback_days, end=end)
    if window.coverage_ratio < s.min_coverage_ratio:
        return Skipped(
            rid,
            "schedule",
            f"not enough data: {window.coverage_hours:.0f} hours in the last {s.lookback_days} days "
            f"({window.coverage_ratio:.0%}, need {s.min_coverage_ratio:.0%})",
        )
    local = window.values.tz_convert(zone)
    slots = local.groupby([local.index.dayofweek, local.index.hour]).quantile(s.busy_percentile / 100.0)
    busy = slots[slots > s.busy_cpu_percent]
    pct = f"cpu p{s.busy_percentile:g} per hour of the week"
    if busy.empty:
        return Skipped(
            rid,
            "schedule",
            f"no hour of the week is busy ({pct} never exceeds {s.busy_cpu_percent:g}%): see the idle check instead",
        )
    days = sorted({int(d) for d, _ in busy.index})
    hours = sorted({int(h) for _, h in busy.index})
    start = max(0, hours[0] - s.padding_hours_before)
    stop = min(24, hours[-1] + 1 + s.padding_hours_after)
    on_week = len(days) * (stop - start)
    off_week = HOURS_PER_WEEK - on_week
    if off_week < s.min_off_hours_per_week:
        return Skipped(
            rid,
            "schedule",
            f"usage is not clearly diurnal: busy hours span {DAY_NAMES[days[0]]}-{DAY_NAMES[days[-1]]} "
            f"{start:02d}:00-{stop:02d}:00, leaving {off_week} off hours a week (need {s.min_off_hours_per_week:g})",
        )
    in_window = [(d, h) for d in days for h in range(start, stop)]
    busy_share = sum(1 for slot in in_window if slot in busy.index) / len(in_window)
    if busy_share < s.min_busy_share:
        return Skipped(
            rid,
            "schedule",
            f"usage is not clearly diurnal: only {busy_share:.0%} of the {on_week} hours in the would-be window are "
            f"busy (need {s.min_busy_share:.0%}); the busy hours are scattered",
        )
    off_slots = slots[[slot not in set(in_window) for slot in slots.index]]
    off_peak = float(off_slots.max()) if len(off_slots) else 0.0
    on_peak = float(busy.max())
    off_month = off_week * HOURS_PER_MONTH / HOURS_PER_WEEK
    day_text = _days_text(days)
    reasons = [
        f"Environment {resource.environment!r} is not production.",
        f"Over the last {s.lookback_days} days ({tz_name}), {pct} exceeded {s.busy_cpu_percent:g}% only on "
        f"{day_text} between {hours[0]:02d}:00 and {hours[-1] + 1:02d}:00 (peak {on_peak:.1f}%).",
        f"Outside the window the highest hourly CPU p{s.busy_percentile:g} was {off_peak:.1f}%.",
        f"Running {day_text} {start:02d}:00-{stop:02d}:00 keeps it on {on_week} hours a week and off {off_week} "
        f"({off_month:.0f} hours a month).",
    ]
    listed = effective = 0.0
    if resource.hourly_price is None:
        reasons.append("Its price is unknown, so no savings are counted.")
    else:
        listed = resource.hourly_price * off_month
        effective = (resource.hourly_price if effective_hourly is None else effective_hourly) * off_month
        reasons.append(f"At ${resource.hourly_price:g} an hour that saves ${listed:.2f} a month.")
    cron_days = ",".join(str((d + 1) % 7) for d in days)  # cron counts Sunday as 0
    return Recommendation(
        kind="schedule",
        resource_id=rid,
        finding="waste",
        title=f"Run {resource.name or rid} {day_text} {start:02d}:00-{stop:02d}:00 {tz_name}",
        evidence=Evidence(
            coverage_hours=round(window.coverage_hours, 2),
            coverage_ratio=round(window.coverage_ratio, 4),
            percentile=pct,
            observed={"on_window_peak_cpu": round(on_peak, 3), "off_window_peak_cpu": round(off_peak, 3)},
            projected_utilisation={"busy_share_of_on_hours": round(busy_share, 4)},
            risk=1,
            reasons=reasons,
        ),
        current={"hours_per_week": HOURS_PER_WEEK, "hourly": resource.hourly_price},
        proposed={
            "timezone": tz_name,
            "days": [DAY_NAMES[d] for d in days],
            "weekdays": days,  # 0 = Monday, as pandas and Python count
            "start_hour": start,
            "stop_hour": stop,
            "on_hours_per_week": on_week,
            "off_hours_per_week": off_week,
            "cron_start": f"0 {start} * * {cron_days}",
            "cron_stop": f"0 {stop % 24} * * {cron_days}",
        },
        monthly_savings_list=round(listed, 2),
        monthly_savings_effective=round(effective, 2),
    )


def is_on(proposed: Mapping[str, Any], when: pd.DatetimeIndex) -> pd.Series:
    """Whether a proposed schedule keeps the machine on at each UTC time (for spend left after the schedule)."""
    local = when.tz_convert(ZoneInfo(str(proposed["timezone"])))
    start, stop = int(proposed["start_hour"]), int(proposed["stop_hour"])
    on = local.dayofweek.isin(list(proposed["weekdays"])) & (local.hour >= start) & (local.hour < stop)
    return pd.Series(on, index=when)


def _days_text(days: list[int]) -> str:
    if days == list(range(days[0], days[-1] + 1)) and len(days) > 2:
        return f"{DAY_NAMES[days[0]]}-{DAY_NAMES[days[-1]]}"
    return ", ".join(DAY_NAMES[d] for d in days)
