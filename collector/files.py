"""A collector for a directory of timestamp,value CSV files (the NAB layout), one cleaned series per file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from collector.base import Collector, CollectorError
from collector.cleaning import CleaningReport, load_series_csv
from collector.config import FilesSourceSettings
from collector.records import METRICS, Resource, SampleBatch, SeriesRef

# file-name fragment (lower case) -> metric; the first match wins
METRIC_PATTERNS: tuple[tuple[str, str], ...] = (
    ("cpu_utilization", "cpu_utilization"),
    ("cpuutilization", "cpu_utilization"),
    ("disk_write_bytes", "disk_write_bytes"),
    ("diskwritebytes", "disk_write_bytes"),
    ("network_in", "network_in_bytes"),
    ("networkin", "network_in_bytes"),
    ("request_count", "request_count"),
    ("requestcount", "request_count"),
)


def infer_metric(file_name: str) -> str:
    """The metric a file holds, from its name; "value" when the name says nothing we know."""
    lowered = file_name.lower()
    return next((metric for pattern, metric in METRIC_PATTERNS if pattern in lowered), "value")


class FilesCollector(Collector):
    """Each `*.csv` in settings.path is one series of resource "<name>/<file stem>", cleaned on first use.

    A file that cannot be read is recorded in `errors` (file name -> message) and skipped; only when no
    file at all can be read does collection raise CollectorError. `reports` maps each good file's name
    to its CleaningReport. With shift_to_now every series is moved so its last sample is `now` floored
    to the series' step, so old traces look live; the shift is fixed when the collector is built.
    """

    streams = ("inventory", "metrics")

    def __init__(self, settings: FilesSourceSettings, now: datetime | None = None) -> None:
        self.settings = settings
        self.name = settings.name
        self.now = (now or datetime.now(UTC)).astimezone(UTC)
        self.max_gap = timedelta(minutes=settings.max_gap_minutes)
        self.reports: dict[str, CleaningReport] = {}
        self.errors: dict[str, str] = {}
        self._series: dict[str, pd.Series] | None = None

    def resource_id(self, path: Path) -> str:
        return f"{self.name}/{path.stem}"

    def files(self) -> list[Path]:
        """The CSV files of the directory, sorted; CollectorError if there are none."""
        folder = Path(self.settings.path)
        if not folder.is_dir():
            raise CollectorError(f"source {self.name}: {folder} is not a directory; set path to a folder of CSV files")
        found = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".csv" and p.is_file())
        if not found:
            raise CollectorError(
                f"source {self.name}: no .csv files in {folder}; add timestamp,value CSV files, one series per file"
            )
        return found

    def load(self) -> dict[str, pd.Series]:
        """Read and clean every file once (file name -> series on its grid, NaN in long gaps)."""
        if self._series is not None:
            return self._series
        series: dict[str, pd.Series] = {}
        for path in self.files():
            try:
                cleaned, report = load_series_csv(path, self.max_gap)
            except CollectorError as exc:
                self.errors[path.name] = str(exc)
                continue
            if self.settings.shift_to_now:
                cleaned = self._shifted(cleaned, report.step_seconds)
            series[path.name] = cleaned
            self.reports[path.name] = report
        if not series:
            details = "; ".join(self.errors.values())
            raise CollectorError(f"source {self.name}: none of {len(self.errors)} files could be read: {details}")
        self._series = series
        return series

    def _shifted(self, series: pd.Series, step_seconds: int) -> pd.Series:
        now_s = int(self.now.timestamp())
        target = now_s - now_s % step_seconds
        delta = pd.Timedelta(seconds=target) - pd.Timedelta(series.index[-1].value, unit="ns")
        return series.set_axis(series.index + delta)

    def discover(self) -> Iterator[Resource]:
        for file_name in self.load():
            path = Path(self.settings.path) / file_name
            yield Resource(
                resource_id=self.resource_id(path),
                provider=self.settings.provider,
                name=path.stem,
                kind="vm",
                account=self.name,
                tags={"source": self.name, "file": file_name},
            )

    def series_ref(self, file_name: str) -> SeriesRef:
        path = Path(self.settings.path) / file_name
        metric = infer_metric(path.stem)
        return SeriesRef(
            resource_id=self.resource_id(path),
            metric=metric,
            unit=METRICS.get(metric, ""),
            labels={"provider": self.settings.provider, "source": self.name, "file": file_name},
        )

    def collect_metrics(self, since: datetime | None, until: datetime) -> Iterator[SampleBatch]:
        """Each file's cleaned samples with since <= t < until; long gaps are not emitted."""
        lo = None if since is None else int(since.timestamp())
        hi = int(until.timestamp())
        for file_name, series in self.load().items():
            stamps = series.index.asi8 // 1_000_000_000
            mask = (stamps < hi) & np.isfinite(series.to_numpy())
            if lo is not None:
                mask &= stamps >= lo
            if mask.any():
                yield SampleBatch(self.series_ref(file_name), stamps[mask], series.to_numpy()[mask])

    def format_report(self) -> str:
        """A plain-text report of what cleaning did to each file, and which files failed."""
        shifted = ", times as in the files before shifting" if self.settings.shift_to_now else ""
        lines = [f"source {self.name} ({self.settings.path}{shifted}):"]
        for file_name, report in self.reports.items():
            lines.append(f"  {file_name}: {report.summary()}")
            lines.extend(f"      long gap {gap}" for gap in report.long_gaps)
        lines.extend(f"  {file_name}: ERROR {message}" for file_name, message in self.errors.items())
        return "\n".join(lines)
