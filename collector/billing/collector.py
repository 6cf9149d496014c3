"""The billing-files collector: FOCUS, AWS CUR, Azure and GCP export files from a path, as daily cost lines."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path

from collector.base import Collector, CollectorError
from collector.billing.daily import DailyLines
from collector.billing.reader import SUFFIXES, BillingFileError, is_billing_file, read_records
from collector.billing.versions import Delivery, current_deliveries, split_view
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
        self.replaced: list[tuple[date, date]] = []  # periods the last collect_costs read whole, to replace

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

    def deliveries(self) -> list[Delivery]:
        """The current delivery of each export period (and each loose file); superseded versions are left out."""
        path = Path(self.cfg.path)
        files = self.files()
        if path.is_file():
            return [Delivery(export=path, period=None, files=files)]
        manifests = sorted(p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith("manifest.json"))
        deliveries, superseded = current_deliveries(path, files, manifests)
        if superseded:
            log.info("billing source %s: %d files are older versions of a period and are not read", self.name,
                     len(superseded))  # fmt: skip
        return deliveries

    def _read(self, path: Path) -> list[CostRecord]:
        try:
            lines = list(read_records(path, self.cfg.format))
        except BillingFileError as exc:
            self.errors[str(path)] = str(exc)
            log.warning("billing source %s skipped a file: %s", self.name, exc)
            return []
        self.rows_read[str(path)] = len(lines)
        return lines

    def records(self, since: datetime | None, until: datetime) -> Iterator[CostRecord]:
        """Every line of every current file whose start day is in the window, one record per row.

        A period with a file written during the window (or any period on a first import) is read whole, and its
        lines replace what was stored for it (see cost_replacements)."""
        first_day = since.astimezone(UTC).date() if since else None
        last_moment = until.astimezone(UTC)
        deliveries = self.deliveries()
        self.errors.clear()
        self.rows_read.clear()
        self.replaced = []

        def fresh(d: Delivery) -> bool:  # written during the window: new data whatever days it bills
            return since is None or any(since.timestamp() <= f.stat().st_mtime < until.timestamp() for f in d.files)

        renewed = {d.period for d in deliveries if d.period is not None and fresh(d)}
        views = defaultdict(set)
        for d in deliveries:
            views[d.period].add(d.view)
        for d in deliveries:
            whole = d.period in renewed or (d.period is None and fresh(d))
            both = d.period is not None and {"actual", "amortized"} <= views[d.period]
            for path in d.files:
                for record in self._read(path):
                    if d.period not in renewed and (
                        datetime.combine(record.charge_period_start, time(), UTC) >= last_moment
                        or not (first_day is None or whole or record.charge_period_start >= first_day)
                    ):
                        continue
                    yield split_view(record, d.view) if both else record
        self.replaced = sorted(p for p in renewed if p is not None)
        if len(self.errors) == sum(len(d.files) for d in deliveries):
            raise CollectorError(
                f"source {self.name}: no billing file could be imported; {next(iter(self.errors.values()), '')}"
            )

    def cost_replacements(self) -> list[tuple[date, date]]:
        return list(self.replaced)

    def collect_costs(self, since: datetime | None, until: datetime) -> Iterator[CostRecord]:
        """Daily lines: rows sharing day range, provider, service, resource, category, region, account and
        currency are summed into one."""
        lines = DailyLines()
        lines.update(self.records(since, until))
        return iter(lines.lines.values())
