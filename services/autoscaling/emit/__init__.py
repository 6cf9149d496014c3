"""A capacity plan in the form each platform takes: AWS, GCP, Azure, Kubernetes (one module per platform)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

HOUR = timedelta(hours=1)


class PlanError(ValueError):
    """A plan that cannot be emitted (empty, negative counts, naive start time); the message says which."""


@dataclass(frozen=True)
class Block:
    """A run of hours with the same planned count: [start, end) in UTC."""

    start: datetime
    end: datetime
    instances: int


@dataclass(frozen=True)
class CapacityPlan:
    """Instances needed per hour from `start` (UTC, on the hour), and the reactive policy to run under the plan."""

    group: str
    start: datetime
    hourly: tuple[int, ...]
    min_size: int
    max_size: int
    target_utilisation: float = 0.7  # of the reactive part, 0..1
    warmup_seconds: int = 600  # start-up time: the plan is scheduled this much ahead of each hour
    cooldown_seconds: int = 900  # the reactive part's scale-in stabilisation

    def __post_init__(self) -> None:
        if not self.hourly:
            raise PlanError(f"{self.group}: the plan has no hours; plan at least one hour")
        if self.start.tzinfo is None:
            raise PlanError(f"{self.group}: plan start {self.start} has no time zone; give it in UTC")
        if min(self.hourly) < 0:
            raise PlanError(f"{self.group}: the plan has a negative instance count")
        if not 0 < self.target_utilisation <= 1:
            raise PlanError(f"{self.group}: target utilisation {self.target_utilisation} is not in (0, 1]")
        if self.min_size > self.max_size:
            raise PlanError(f"{self.group}: minimum size {self.min_size} is above maximum size {self.max_size}")

    def blocks(self) -> list[Block]:
        """Consecutive hours with one count, clipped to [min_size, max_size]; a block that scales out starts
        `warmup` early, so its instances serve from its first hour; one that scales in starts on its hour."""
        lead = timedelta(seconds=self.warmup_seconds)
        out: list[Block] = []
        for hour, count in enumerate(self.hourly):
            count = min(max(count, self.min_size), self.max_size)
            begin = self.start + hour * HOUR
            if out and out[-1].instances == count:
                out[-1] = Block(out[-1].start, begin + HOUR, count)
            else:
                rising = not out or count > out[-1].instances
                start = begin - lead if rising else begin
                if out:  # the previous block ends where this one starts: blocks never overlap
                    out[-1] = Block(out[-1].start, start, out[-1].instances)
                out.append(Block(start, begin + HOUR, count))
        return out

    @property
    def target_percent(self) -> float:
        return round(100.0 * self.target_utilisation, 1)

    @property
    def reaches_max(self) -> bool:
        """Does the plan ask for the group's maximum size (or more) at some hour?"""
        return max(self.hourly) >= self.max_size
