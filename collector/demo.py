"""The demo source: a synthetic multi-cloud fleet whose metrics and costs depend only on (seed, machine, time)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from collector.base import Collector
from collector.catalog import Catalog
from collector.config import DemoSourceSettings
from collector.demo_costs import cost_records
from collector.demo_fleet import ACCOUNTS, DEMO_GROUPS, UTC_OFFSET_HOURS, DemoGroup, DemoMachine, build_fleet
from collector.demo_random import key as _key
from collector.demo_random import normal as _normal
from collector.demo_random import uniform as _uniform
from collector.records import METRICS, CostRecord, Resource, SampleBatch, SeriesRef

DAY = 86_400
SATURATION_CYCLE_DAYS = 56  # saturating machines grow for 8 weeks, then get fixed (restart, scale-out)
BURSTY = ("web", "api", "database", "batch", "saturating_cpu", "saturating_memory")


BATCH_JOB_NOISE = 4.0  # standard deviation of a batch job's CPU samples, percent
GROWING_METRIC = {"saturating_cpu": "cpu_utilization", "saturating_memory": "memory_utilization"}


@dataclass(frozen=True)
class DemoCase:
    """A machine of the demo, the metric that matters, and days until it reaches its threshold (None: never)."""

    machine: DemoMachine
    metric: str
    days: float | None

    @property
    def resource_key(self) -> str:
        return f"{self.machine.provider}:{self.machine.resource_id}"


def batch_job_cpu(m: DemoMachine) -> float:
    """The CPU level of a batch machine's nightly job, the same every night."""
    return 75.0 + 15.0 * m.params["level"]


class _Clock:
    """Local-time features of a vector of epoch seconds for one machine."""

    def __init__(self, t: np.ndarray, utc_offset_hours: int) -> None:
        local = t + utc_offset_hours * 3600
        self.t = t
        self.hour = (local % DAY) / 3600.0
        self.weekday = ((local // DAY) + 3) % 7 < 5  # 1970-01-01 was a Thursday
        self.day_shape = (0.5 - 0.5 * np.cos(2.0 * np.pi * (self.hour - 4.0) / 24.0)) ** 1.5  # low 04:00, peak 16:00
        self.days = t / DAY


class DemoCollector(Collector):
    """A realistic fleet over aws, gcp, azure and onprem with `settings.days` of history ending at `now`.

    Every value is a function of (seed, machine, timestamp) only, never of the window asked for or of
    `now`, so [a, b) then [b, c) gives exactly the samples of [a, c), and a collector built later (a new
    `now`) agrees with an earlier one wherever their histories overlap.
    """

    name = "demo"

    def __init__(self, settings: DemoSourceSettings, catalog: Catalog, now: datetime | None = None) -> None:
        self.settings = settings
        self.catalog = catalog
        self.stream_cadence = settings.stream_cadence()
        self.step = settings.step_minutes * 60
        now_s = int((now or datetime.now(UTC)).timestamp())
        self.end = now_s - now_s % self.step  # history is [start, end)
        self.start = self.end - settings.days * DAY
        self.now = datetime.fromtimestamp(self.end, UTC)
        self.fleet: list[DemoMachine] = build_fleet(settings.resources, settings.seed, catalog,
                                                          every_metric=settings.every_metric)
        self.groups: tuple[DemoGroup, ...] = DEMO_GROUPS if settings.scalable_groups else ()

    # -- resources -------------------------------------------------------------------------------------
    def discover(self) -> Iterator[Resource]:
        for m in self.fleet:
            yield Resource(
                resource_id=m.resource_id,
                provider=m.provider,
                name=m.name,
                kind="vm",
                account=m.account,
                region=m.region,
                instance_type=m.entry.instance_type,
                vcpus=m.entry.vcpus,
                memory_gib=m.entry.memory_gib,
                hourly_price=m.entry.hourly_price,
                environment=m.environment,
                tags=m.tags,
            )
        for g in self.groups:
            entry = self.catalog.find("aws", g.instance_type, g.region)
            yield Resource(
                resource_id=g.resource_id,
                provider="aws",
                name=g.name,
                kind=g.kind,
                account=ACCOUNTS[("aws", "production")],
                region=g.region,
                instance_type=g.instance_type,
                hourly_price=entry.hourly_price if entry else None,
                tags={
                    **g.tags,
                    "environment": "production",
                    "headroom:min_size": str(g.min_size),
                    "headroom:max_size": str(g.max_size),
                },
            )

    def series_ref(self, machine: DemoMachine, metric: str) -> SeriesRef:
        labels = {
            "provider": machine.provider,
            "account": machine.account,
            "region": machine.region,
            "environment": machine.environment,
            "team": machine.team,
            "service": machine.service,
            "instance_type": machine.entry.instance_type,
        }
        return SeriesRef(resource_id=machine.resource_id, metric=metric, unit=METRICS[metric], labels=labels)

    # -- metrics ---------------------------------------------------------------------------------------
    def timestamps(self, since: datetime | None, until: datetime) -> np.ndarray:
        """The sample times in [since, until) clipped to the history, on the epoch-aligned step grid."""
        lo = self.start if since is None else max(self.start, int(np.ceil(since.timestamp())))
        hi = min(self.end, int(np.ceil(until.timestamp())))
        first = -(-lo // self.step) * self.step
        return np.arange(first, hi, self.step, dtype=np.int64)

    def collect_metrics(self, since: datetime | None, until: datetime) -> Iterator[SampleBatch]:
        """One batch per series; windows outside the history yield nothing."""
        t = self.timestamps(since, until)
        if t.size == 0:
            return
        for machine in self.fleet:
            for metric, values in self.generate(machine, t).items():
                yield SampleBatch(self.series_ref(machine, metric), t, values)
        for g in self.groups:
            ref = SeriesRef(g.resource_id, "cpu_utilization", METRICS["cpu_utilization"], {"provider": "aws"})
            yield SampleBatch(ref, t, self.group_cpu(g, t))

    def group_cpu(self, g: DemoGroup, t: np.ndarray) -> np.ndarray:
        """A group's CPU: night level plus the daily swing (weekends at 70%), with noise; a function of time only."""
        clock = _Clock(t, UTC_OFFSET_HOURS[g.region])
        busy = clock.day_shape * np.where(clock.weekday, 1.0, 0.7)
        noise = _normal(_key(self.settings.seed, g.name, "cpu"), t)
        return np.round(np.clip(g.night + g.swing * busy + 1.5 * noise, 0.0, 100.0), 3)

    def generate(self, m: DemoMachine, t: np.ndarray) -> dict[str, np.ndarray]:
        """Every metric of one machine at times t (epoch seconds)."""
        clock = _Clock(t, m.utc_offset_hours)
        p = m.params
        seed = self.settings.seed
        noise = {metric: _normal(_key(seed, m.index, metric), t) for metric in m.metrics}
        trend = 1.0 + (0.04 + 0.08 * p["trend"]) * np.sin(2.0 * np.pi * (clock.days / 365.0 + p["trend_phase"]))
        cpu, memory = self._cpu_memory(m, clock, trend, noise)
        if m.behaviour in BURSTY:
            hour = t // 3600
            burst = _uniform(_key(seed, m.index, "burst"), hour) < 0.004
            cpu = cpu + burst * (15.0 + 25.0 * _uniform(_key(seed, m.index, "burst-size"), hour))
        out = {"cpu_utilization": cpu, "memory_utilization": memory}
        if "disk_utilization" in m.metrics:
            period = (7.0 + 21.0 * p["disk_period"]) * DAY  # fills up, then logs are rotated
            fill = (t / period + p["trend_phase"]) % 1.0
            low = 30.0 + 15.0 * p["disk_low"]
            out["disk_utilization"] = low + 30.0 * fill + 0.3 * noise["disk_utilization"]
        rounded = {k: np.round(np.clip(v, 0.0, 100.0), 3) for k, v in out.items()}
        rate = 2e5 + 4e6 * p["network"]  # bytes per second at full load
        load = 0.05 + np.clip(cpu, 0.0, 100.0) / 100.0
        for metric, share in (("network_in_bytes", 1.0), ("network_out_bytes", 0.6)):  # answers are smaller
            if metric in m.metrics:
                rounded[metric] = np.round(share * rate * self.step * load * np.exp(0.2 * noise[metric]))
        return rounded

    def _cpu_memory(
        self, m: DemoMachine, clock: _Clock, trend: np.ndarray, noise: dict[str, np.ndarray]
    ) -> tuple[np.ndarray, np.ndarray]:
        p, b = m.params, m.behaviour
        n_cpu, n_mem = noise["cpu_utilization"], noise["memory_utilization"]
        weekend = 0.55 + 0.25 * p["weekend"]
        week = np.where(clock.weekday, 1.0, weekend)
        busy = clock.day_shape * week
        memory = (25.0 + 30.0 * p["memory"] + 3.0 * clock.day_shape) * trend + 0.7 * n_mem
        if b in ("web", "api"):
            cpu = (6.0 + 8.0 * p["level"] + (22.0 + 25.0 * p["swing"]) * busy) * trend + 2.0 * n_cpu
        elif b == "database":
            cpu = (8.0 + 6.0 * p["level"] + (15.0 + 15.0 * p["swing"]) * busy) * trend + 1.5 * n_cpu
            memory = (68.0 + 10.0 * p["memory"]) * trend + 0.5 * n_mem
        elif b == "idle":
            cpu = 0.4 + 0.6 * p["level"] + 0.3 * clock.day_shape + 0.25 * n_cpu
            memory = 6.0 + 6.0 * p["memory"] + 0.3 * n_mem
        elif b == "overprovisioned":
            cpu = (3.0 + 2.0 * p["level"] + (7.0 + 5.0 * p["swing"]) * busy) * trend + 1.0 * n_cpu
            memory = (15.0 + 15.0 * p["memory"]) * trend + 0.5 * n_mem
        elif b.startswith("saturating"):
            growth = self.saturation(m, clock.t)
            weekly_busy = 0.6 + 0.4 * clock.day_shape * np.where(clock.weekday, 1.0, 0.85)
            if b == "saturating_cpu":
                cpu = growth * weekly_busy + 1.5 * n_cpu
            else:
                cpu = (6.0 + 8.0 * p["level"] + (15.0 + 15.0 * p["swing"]) * busy) + 1.5 * n_cpu
                memory = growth - 1.5 + 1.5 * clock.day_shape + 0.5 * n_mem
        elif b == "devbox":
            work = clock.weekday & (clock.hour >= 9.0) & (clock.hour < 18.0)
            activity = 0.4 + 0.6 * _uniform(_key(self.settings.seed, m.index, "activity"), clock.t // 3600)
            cpu = np.where(work, (20.0 + 30.0 * p["level"]) * activity + 4.0 * n_cpu, 0.8 + 0.3 * n_cpu)
            memory = np.where(work, 40.0 + 15.0 * p["memory"], 22.0 + 5.0 * p["memory"]) + 1.0 * n_mem
        else:  # batch: a nightly job from 01:00 to 03:30 local time
            job = (clock.hour >= 1.0) & (clock.hour < 3.5)
            cpu = np.where(job, batch_job_cpu(m) + BATCH_JOB_NOISE * n_cpu, 3.0 + 2.0 * p["level"] + 0.8 * n_cpu)
            memory = np.where(job, 60.0 + 20.0 * p["memory"], 25.0 + 5.0 * p["memory"]) + 1.0 * n_mem
        return cpu, memory

    def saturation(self, m: DemoMachine, t: np.ndarray) -> np.ndarray:
        """The weekday-peak level of a saturating machine: 40% rising to 98% over each cycle, crossing 85% at 78%."""
        position = (t / (SATURATION_CYCLE_DAYS * DAY) + m.saturation_phase) % 1.0
        return 40.0 + 58.0 * position

    def running_out(self, thresholds: Mapping[str, float]) -> list[DemoCase]:
        """The demo's true exhaustion cases: each saturating machine's growing metric and the days from now until its
        growing level (saturation(), the weekday peak) reaches the metric's threshold (0: already there, until the
        cycle's fix), soonest first. The forecasts and runways only see the history, never this."""
        slope = 58.0 / SATURATION_CYCLE_DAYS  # percent a day
        cases = []
        for m in self.fleet:
            metric = GROWING_METRIC.get(m.behaviour)
            if metric is None or metric not in thresholds or thresholds[metric] > 98.0:
                continue
            level = float(self.saturation(m, np.asarray([self.end]))[0])
            cases.append((max(0.0, (thresholds[metric] - level) / slope), DemoCase(m, metric, None)))
        return [DemoCase(c.machine, c.metric, days) for days, c in sorted(cases, key=lambda dc: dc[0])]

    def routine_peaks(self, thresholds: Mapping[str, float]) -> list[DemoCase]:
        """Machines whose nightly batch job takes the CPU to its threshold every night, never growing: samples of
        the job within two standard deviations of its noise reach it. Routine peaks, not exhaustion (days None)."""
        limit = thresholds.get("cpu_utilization")
        return [
            DemoCase(m, "cpu_utilization", None)
            for m in self.fleet
            if m.behaviour == "batch" and limit is not None and batch_job_cpu(m) + 2.0 * BATCH_JOB_NOISE >= limit
        ]

    # -- costs -----------------------------------------------------------------------------------------
    def cost_days(self, since: datetime | None, until: datetime) -> list[date]:
        """UTC days of the history ([start day, day of now)) whose start lies in [since, until)."""
        first = datetime.fromtimestamp(self.start, UTC).date()
        last = datetime.fromtimestamp(self.end, UTC).date()  # exclusive: today is not complete
        days = [first + timedelta(days=i) for i in range((last - first).days)]
        lo = since.timestamp() if since is not None else float("-inf")
        hi = until.timestamp()
        return [d for d in days if lo <= datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() < hi]

    def collect_costs(self, since: datetime | None, until: datetime) -> Iterator[CostRecord]:
        """The demo bill (collector/demo_costs.py) of the whole days of the history that start in [since, until)."""
        yield from cost_records(self.fleet, self.cost_days(since, until), self.settings.seed, self.name)
