"""The billing-files collector: FOCUS, AWS CUR, Azure and GCP export files from a path, as daily cost lines."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, time
from pathlib import Path

from collector.base import Collector, CollectorError
from collector.billing.daily import DailyLines
from collector.billing.reader import SUFFIXES, BillingFileError, is_billing_file, read_records
from collector.config import BillingFilesSourceSettings
from collector.records import CostRecord, Resource, SampleBatch

log = logging.getLogger(__name__)


class BillingFilesCollector(Collector):
    """Every billing file under settings.path (a file, or a directory searched recursively), format by format.

    A file that cannot be imported (unknown format, missing columns, a bad cell) is left out whole and its
    one-line reason kept in `errors` (path -> message); the other files still import. Only when every file
    fails, or a single configured file fails, does collection raise.

    Windows: a line belongs to [since, until) by the day it starts, and a window starting mid-day re-reads
    that whole day, so each stored daily line is complete. A file modified inside the window (a new
    month's CUR dropped into the folder, a re-exported file) is read whole, whatever days it bills, so
    incremental runs pick up late files without a backfill; unchanged files add nothing.
    """

    streams = ("costs",)

    def __init__(self, cfg: BillingFilesSourceSettings) -> None:
        self.cfg = cfg
        self.name = cfg.name
        self.errors: dict[str, str] = {}
        self.rows_read: dict[str, int] = {}

    def files(self) -> list[Path]:
        path = Path(self.cfg.path)
        if path.is_file():
            return [path]
        if not path.is_dir():
            raise CollectorError(f"source {self.name}: {path} does not exist; set path to a billing file or folder")
        found = sorted(p for p in path.rglob("*") if is_billing_file(p))
        if not found:
            raise CollectorError(f"source {self.name}: no billing files ({', '.join(SUFFIXES)}) under {path}")
        return found

    def check(self) -> None:
        self.files()

    def discover(self) -> Iterator[Resource]:
        return iter(())

    def collect_metrics(self, since: datetime | None, until: datetime) -> Iterator[SampleBatch]:
        return iter(())

    def records(self, since: datetime | None, until: datetime) -> Iterator[CostRecord]:
        """Every line of every importable file whose start day is in the window, one record per row."""
        first_day = since.astimezone(UTC).date() if since else None
        last_moment = until.astimezone(UTC)
        files = self.files()
        self.errors.clear()
        self.rows_read.clear()
        for path in files:
            try:
                lines = list(read_records(path, self.cfg.format))
            except BillingFileError as exc:
                self.errors[str(path)] = str(exc)
                log.warning("billing source %s skipped a file: %s", self.name, exc)
                continue
            self.rows_read[str(path)] = len(lines)
            # a file written during the window is new data whatever days it bills: all of it is read
            fresh = since is not None and since.timestamp() <= path.stat().st_mtime < until.timestamp()
            for record in lines:
                if datetime.combine(record.charge_period_start, time(), UTC) >= last_moment:
                    continue
                if first_day is None or fresh or record.charge_period_start >= first_day:
                    yield record
        if len(self.errors) == len(files):
            raise CollectorError(
                f"source {self.name}: no billing file could be imported; {next(iter(self.errors.values()))}"
            )

    def collect_costs(self, since: datetime | None, until: datetime) -> Iterator[CostRecord]:
        """Daily lines: rows sharing day range, provider, service, resource, category, region, account and
        currency are summed into one."""
        lines = DailyLines()
        lines.update(self.records(since, until))
        return iter(lines.lines.values())
