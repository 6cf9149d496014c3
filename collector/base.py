"""The Collector interface: one class per source, yielding domain records and knowing nothing of storage."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from datetime import datetime, timedelta

from collector.records import CostRecord, Resource, SampleBatch


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

    def check(self) -> None:  # noqa: B027 - optional hook
        """Fail fast, before anything is stored: raise MissingCredentialsError, PermissionDeniedError or
        EndpointUnreachableError with a one-line message. Sources with nothing to check do nothing."""

    @abstractmethod
    def discover(self) -> Iterable[Resource]:
        """Every resource this source knows now."""

    @abstractmethod
    def collect_metrics(self, since: datetime | None, until: datetime) -> Iterable[SampleBatch]:
        """Samples with since <= t < until (since None = all history the source has)."""

    def collect_costs(self, since: datetime | None, until: datetime) -> Iterable[CostRecord]:
        """Daily cost lines in the window; sources without billing yield nothing."""
        return ()
