"""Clean a raw timestamp,value series onto a regular grid, reporting every repair (BENCHMARK.md's rules)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from collector.base import CollectorError

MAX_LINES_LISTED = 5  # how many unparseable line numbers a report keeps
ISO_DATE = r"^\d{4}-\d{2}-\d{2}"
ISO_ZONE = r"\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|z|[+-]\d{2}(?::?\d{2})?)$"


class CleaningError(CollectorError):
    """A series cannot be cleaned at all (no usable rows, wrong columns); the message names the file and line."""


@dataclass(frozen=True)
class LongGap:
    """A gap longer than max_gap, left as a gap: the real samples around it and the grid steps missing."""

    start: datetime  # last real sample before the gap
    end: datetime  # first real sample after the gap
    missing_steps: int

    def __str__(self) -> str:
        return f"{self.start:%Y-%m-%d %H:%M} .. {self.end:%Y-%m-%d %H:%M} UTC ({self.missing_steps} steps missing)"


@dataclass
class CleaningReport:
    """What cleaning found and changed in one series."""

    source: str = ""
    rows_read: int = 0
    unparseable_rows: int = 0
    unparseable_lines: list[int] = field(default_factory=list)  # the first few, 1-based file lines
    out_of_order_rows: int = 0  # rows earlier than a row above them
    duplicates_dropped: int = 0  # repeated timestamps; the last one is kept
    off_grid_rows: int = 0  # rows moved to the nearest grid slot
    off_grid_dropped: int = 0  # off-grid rows whose slot already had a later row
    step_seconds: int = 0
    points_interpolated: int = 0
    long_gaps: list[LongGap] = field(default_factory=list)
    points: int = 0  # real or interpolated values on the grid
    start: datetime | None = None
    end: datetime | None = None

    @property
    def missing_points(self) -> int:
        return sum(g.missing_steps for g in self.long_gaps)

    def summary(self) -> str:
        """One line for logs and the CLI."""
        parts = [f"{self.rows_read} rows", f"step {self.step_seconds}s", f"{self.points} points"]
        if self.unparseable_rows:
            lines = ", ".join(map(str, self.unparseable_lines))
            more = ", ..." if self.unparseable_rows > len(self.unparseable_lines) else ""
            parts.append(f"{self.unparseable_rows} unparseable (lines {lines}{more})")
        for count, what in (
            (self.out_of_order_rows, "out of order"),
            (self.duplicates_dropped, "duplicate timestamps dropped"),
            (self.off_grid_rows, "off-grid moved to the grid"),
            (self.off_grid_dropped, "off-grid dropped (slot taken)"),
            (self.points_interpolated, "interpolated"),
        ):
            if count:
                parts.append(f"{count} {what}")
        if self.long_gaps:
            parts.append(f"{len(self.long_gaps)} long gaps ({self.missing_points} steps left empty)")
        return ", ".join(parts)


def clean_series(
    data: pd.DataFrame | Iterable[tuple[Any, Any]], max_gap: timedelta, *, source: str = ""
) -> tuple[pd.Series, CleaningReport]:
    """Parse, sort, de-duplicate and regularise a series; interpolate short gaps and report long ones.

    `data` is a DataFrame with `timestamp` and `value` columns (and optionally `line`, the 1-based file
    line of each row; otherwise row i is line i + 2, under a header) or an iterable of (timestamp, value)
    pairs (row i is line i + 1). Timestamps are ISO 8601, UTC when no zone is given, converted to UTC
    otherwise. The grid starts at the first timestamp with the median step; a row off the grid moves to
    the nearest slot. A gap is the time between the real samples around it: up to `max_gap` it is filled
    by linear interpolation, longer ones stay NaN on the grid and are listed in the report.
    Returns the series on the full grid (UTC DatetimeIndex) and the report.
    """
    frame, lines = _as_frame(data)
    report = CleaningReport(source=source, rows_read=len(frame))
    where = f"{source}: " if source else ""
    if frame.empty:
        raise CleaningError(f"{where}no data rows; expected a header 'timestamp,value' and one row per sample")

    stamps = parse_timestamps(frame["timestamp"])
    values = pd.to_numeric(frame["value"], errors="coerce").astype("float64")
    bad_value = ~np.isfinite(values.to_numpy())
    bad = stamps.isna().to_numpy() | bad_value
    if bad_value.sum() * 2 > len(frame):
        first = int(np.flatnonzero(bad_value)[0])
        raise CleaningError(
            f"{where}value column is not numeric ({int(bad_value.sum())} of {len(frame)} rows, first at line "
            f"{lines[first]}: {frame['value'].iloc[first]!r}); put a number in the second column"
        )
    if bad.all():
        first_ts = frame["timestamp"].iloc[0]
        raise CleaningError(
            f"{where}no timestamp could be read (line {lines[0]}: {first_ts!r}); "
            "use ISO 8601 such as 2024-05-01T12:00:00Z"
        )
    report.unparseable_rows = int(bad.sum())
    report.unparseable_lines = [int(lines[i]) for i in np.flatnonzero(bad)[:MAX_LINES_LISTED]]

    t = (stamps[~bad].astype("int64").to_numpy() // 1_000_000_000).astype(np.int64)
    v = values.to_numpy()[~bad]
    if t.size:
        report.out_of_order_rows = int((t[1:] < np.maximum.accumulate(t)[:-1]).sum())
    order = np.argsort(t, kind="stable")  # stable: among equal timestamps the later row stays later
    t, v = t[order], v[order]
    last_of_run = np.append(t[1:] != t[:-1], True)
    report.duplicates_dropped = int((~last_of_run).sum())
    t, v = t[last_of_run], v[last_of_run]
    if t.size < 2:
        raise CleaningError(f"{where}only {t.size} usable sample(s); at least two are needed to find the step")

    step = int(round(float(np.median(np.diff(t)))))
    step = max(step, 1)
    report.step_seconds = step
    grid, values_on_grid, observed = _to_grid(t, v, step, report)
    _fill_gaps(grid, values_on_grid, observed, step, max_gap, report)

    report.points = int(np.isfinite(values_on_grid).sum())
    index = pd.to_datetime(grid, unit="s", utc=True)
    report.start, report.end = index[0].to_pydatetime(), index[-1].to_pydatetime()
    return pd.Series(values_on_grid, index=index, name=source or "value"), report


def parse_timestamps(raw: pd.Series) -> pd.Series:
    """ISO 8601 text (or datetimes) to UTC; no zone means UTC; anything else becomes NaT."""
    if pd.api.types.is_datetime64_any_dtype(raw):
        stamps = pd.Series(raw)
        return stamps.dt.tz_localize("UTC") if stamps.dt.tz is None else stamps.dt.tz_convert("UTC")
    text = raw.astype(str).str.strip()
    iso = text.str.match(ISO_DATE)  # also keeps pandas from reading words such as "now" or "today"
    zoned = iso & text.str.contains(ISO_ZONE)
    out = pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
    # naive and zoned values are parsed apart: mixed together, pandas applies an earlier offset to naive ones
    naive = iso & ~zoned
    if naive.any():
        out[naive] = pd.to_datetime(text[naive], format="ISO8601", errors="coerce").dt.tz_localize("UTC")
    if zoned.any():
        out[zoned] = pd.to_datetime(text[zoned], format="ISO8601", utc=True, errors="coerce")
    return out


def _as_frame(data: pd.DataFrame | Iterable[tuple[Any, Any]]) -> tuple[pd.DataFrame, np.ndarray]:
    if isinstance(data, pd.DataFrame):
        missing = [c for c in ("timestamp", "value") if c not in data.columns]
        if missing:
            raise CleaningError(f"missing column(s) {', '.join(missing)}; expected columns timestamp,value")
        lines = data["line"].to_numpy() if "line" in data.columns else np.arange(len(data)) + 2
        return data.reset_index(drop=True), lines
    rows = list(data)
    return pd.DataFrame(rows, columns=["timestamp", "value"]), np.arange(len(rows)) + 1


def _to_grid(
    t: np.ndarray, v: np.ndarray, step: int, report: CleaningReport
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Place sorted unique samples on the grid t[0] + k*step; the later of two rows for one slot wins."""
    offset = t - t[0]
    slot = (offset + step // 2) // step
    report.off_grid_rows = int((offset % step != 0).sum())
    keep = np.append(slot[1:] != slot[:-1], True)
    report.off_grid_dropped = int((~keep).sum())
    slot, v = slot[keep], v[keep]
    grid = t[0] + np.arange(int(slot[-1]) + 1, dtype=np.int64) * step
    values = np.full(grid.shape, np.nan)
    values[slot] = v
    observed = np.zeros(grid.shape, dtype=bool)
    observed[slot] = True
    return grid, values, observed


def _fill_gaps(
    grid: np.ndarray,
    values: np.ndarray,
    observed: np.ndarray,
    step: int,
    max_gap: timedelta,
    report: CleaningReport,
) -> None:
    """Interpolate gaps up to max_gap in place; record longer ones in the report."""
    seen = np.flatnonzero(observed)
    jumps = np.diff(seen)
    gap_at = np.flatnonzero(jumps > 1)
    if gap_at.size == 0:
        return
    filled = np.interp(np.arange(grid.size), seen, values[seen])
    limit = max_gap.total_seconds()
    for i in gap_at:
        left, right = int(seen[i]), int(seen[i + 1])
        if (right - left) * step <= limit:
            values[left + 1 : right] = filled[left + 1 : right]
            report.points_interpolated += right - left - 1
        else:
            report.long_gaps.append(
                LongGap(
                    start=pd.Timestamp(int(grid[left]), unit="s", tz="UTC").to_pydatetime(),
                    end=pd.Timestamp(int(grid[right]), unit="s", tz="UTC").to_pydatetime(),
                    missing_steps=right - left - 1,
                )
            )


def read_series_csv(path: Path) -> pd.DataFrame:
    """Read a `timestamp,value` CSV as strings with each row's file line; CleaningError naming what to fix."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            header: list[str] | None = None
            rows: list[tuple[int, str, str]] = []
            for record in reader:
                if not any(cell.strip() for cell in record):
                    continue
                if header is None:
                    header = [cell.strip().lower() for cell in record]
                    missing = [c for c in ("timestamp", "value") if c not in header]
                    if missing:
                        raise CleaningError(
                            f"{path}:{reader.line_num}: header {','.join(record)!r} lacks {', '.join(missing)}; "
                            "the first line must be 'timestamp,value'"
                        )
                    ts_col, value_col = header.index("timestamp"), header.index("value")
                    continue
                ts = record[ts_col].strip() if len(record) > ts_col else ""
                value = record[value_col].strip() if len(record) > value_col else ""
                rows.append((reader.line_num, ts, value))
    except UnicodeDecodeError as exc:
        raise CleaningError(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start}); save it as UTF-8 CSV") from None
    except csv.Error as exc:
        raise CleaningError(f"{path}: not a readable CSV ({exc}); expected 'timestamp,value' rows") from None
    if header is None:
        raise CleaningError(f"{path}: file is empty; expected a header 'timestamp,value' and one row per sample")
    if not rows:
        raise CleaningError(f"{path}: header only, no data rows; add 'timestamp,value' rows under the header")
    return pd.DataFrame(rows, columns=["line", "timestamp", "value"])


def load_series_csv(path: Path, max_gap: timedelta) -> tuple[pd.Series, CleaningReport]:
    """Read and clean one CSV file; errors name the file."""
    frame = read_series_csv(path)
    try:
        return clean_series(frame, max_gap, source=path.name)
    except CleaningError as exc:
        raise CleaningError(f"{path.parent}/{exc}") from None
