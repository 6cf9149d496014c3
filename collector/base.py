"""The Collector interface: one class per source, yielding domain records and knowing nothing of storage."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from collector.records import ApiUsage, CostRecord, Resource, SampleBatch


class CollectorError(RuntimeError):
    """A source failed in a way the user can fix; the message says how (credential, permission, path)."""


class MissingCredentialsError(CollectorError):
    """No credential was found; the message says where Headroom looked and what to set."""


class PermissionDeniedError(CollectorError):
    """The credential works but lacks a permission; the message names the IAM action or role needed."""


class EndpointUnreachableError(CollectorError):
    """The provider's endpoint could not be reached (DNS, network, proxy); the message names it."""


class ThrottledError(CollectorError):
    """The provider kept throttling after every retry; the message says which call and how long we waited."""


class Collector(ABC):
    """A source of resources, metric samples and costs.

    `name` keys watermarks and status. collect_* take a half-open UTC window [since, until) and must
    be safe to call again for the same window (ingest upserts what they yield).
    """

    name: str
    # Re-collect this much before the watermark on every run: providers publish some samples late, and
    # re-writing a sample is harmless (ingest upserts).
    metrics_lookback: timedelta = timedelta(0)

    # The streams this source has, each with its own watermark and status in ingest.
    streams: tuple[str, ...] = ("inventory", "metrics", "costs")
    # Metric families collected as streams of their own ("metrics:<family>"), so one family's failure (a denied
    # permission) never stops the others; empty: one "metrics" stream through collect_metrics.
    metric_families: tuple[str, ...] = ()
    # How often each stream (inventory, metrics, costs) is worth collecting; absent = every run. Billing data
    # changes a few times a day, so paid billing APIs are asked that often and no more.
    stream_cadence: dict[str, timedelta] = {}
    # API spend this source may make per month at list price (ingest slows or refuses paid streams); None: no limit
    monthly_budget_usd: float | None = None
    # The run's "now", set by ingest, so retention and settled days are judged against the run, not the wall clock.
    as_of: datetime | None = None
    # Length of one committed piece of a metrics backfill: a killed backfill resumes after the last piece stored.
    metrics_chunk: timedelta = timedelta(days=1)

    def clock(self) -> datetime:
        """The run's now (as_of), or the wall clock outside a run."""
        return self.as_of or datetime.now(UTC)

    def first_since(self, until: datetime) -> datetime | None:
        """Where a first metrics collection starts (no watermark yet); None = everything the source has, in one go."""
        return None

    def metric_chunks(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """[start, end) cut into the pieces a backfill commits one by one (metrics_chunk long by default)."""
        step = self.metrics_chunk
        return [(t, min(t + step, end)) for t in _steps(start, end, step)]

    def cost_replacements(self) -> list[tuple[date, date]]:
        """After collect_costs: the [start, end) charge periods whose yielded lines replace every line stored for
        them (a billing file delivered again as a new version); empty for sources whose lines only upsert."""
        return []

    def estimate_run(self, interval: timedelta) -> list[ApiUsage]:
        """The paid calls one scheduled run of each stream would make now, at list price, for a metrics window of
        `interval` (plus the look-back). May call free APIs (discovery) and dry runs to count; free sources: []."""
        return []

    def take_usage(self) -> list[ApiUsage]:
        """The paid calls made since the last take, at list price; then forgotten. Free sources: []."""
        return []

    def take_notes(self) -> list[str]:
        """Warnings of the last calls that the user should see once (data out of retention, ...); then forgotten."""
        return []

    def check(self) -> None:  # noqa: B027 - optional hook
        """Fail fast, before anything is stored: raise MissingCredentialsError, PermissionDeniedError or
        EndpointUnreachableError with a one-line message. Sources with nothing to check do nothing."""

    @abstractmethod
    def discover(self) -> Iterable[Resource]:
        """Every resource this source knows now."""

    @abstractmethod
    def collect_metrics(self, since: datetime | None, until: datetime) -> Iterable[SampleBatch]:
        """Samples with since <= t < until (since None = all history the source has)."""

    def collect_family(self, family: str, since: datetime | None, until: datetime) -> Iterable[SampleBatch]:
        """Samples of one of metric_families with since <= t < until; sources without families never get this."""
        raise NotImplementedError(f"{type(self).__name__} has no metric family {family!r}")

    def collect_costs(self, since: datetime | None, until: datetime) -> Iterable[CostRecord]:
        """Daily cost lines in the window; sources without billing yield nothing."""
        return ()


def _steps(start: datetime, end: datetime, step: timedelta) -> list[datetime]:
    out = []
    t = start
    while t < end:
        out.append(t)
        t += step
    return out
