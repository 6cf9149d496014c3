"""Forecasts of an uploaded `timestamp,value` CSV: parse with line-numbered errors, regularize, forecast, backtest."""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from ml_engine import holdout_backtest, regularize_hourly
from services.forecasting.forecasters import build_forecaster

MIN_HOURS = 48
MAX_ERRORS_SHOWN = 5
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)  # epoch-second stores; and far inside pandas' nanosecond range
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


class UploadError(ValueError):
    """The CSV cannot be used; the message says which lines and what to fix."""


@dataclass(frozen=True)
class AdhocResult:
    history: pd.Series
    forecast: pd.DataFrame
    model: str
    backtest: dict[str, Any]
    regularized: dict[str, Any]
    raw: pd.Series


def _timestamp(raw: str) -> datetime:
    text = raw.strip()
    if not text:
        raise ValueError("empty timestamp")
    if text.replace(".", "", 1).isdigit():
        seconds = float(text)
        return datetime.fromtimestamp(seconds / 1000 if seconds > 1e11 else seconds, UTC)
    ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, cells) of the data lines; a malformed line (an over-long field...) is an UploadError."""
    reader = csv.reader(io.StringIO(text))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise UploadError(f"line {reader.line_num}: {exc}: is this a `timestamp,value` CSV?") from None
        yield reader.line_num, row


def parse_csv(content: bytes) -> pd.Series:
    """The samples of a `timestamp,value` CSV (ISO 8601 or epoch seconds), sorted by time."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UploadError(f"the file is not UTF-8 text (byte {exc.start}): save it as a UTF-8 CSV") from exc
    rows = _rows(text)
    _, header = next(rows, (1, None))
    if header is None or not any(cell.strip() for cell in header):
        raise UploadError("the file is empty: upload a CSV whose first line is `timestamp,value`")
    names = [h.strip().lower() for h in header]
    if names[:2] != ["timestamp", "value"]:
        raise UploadError(f"the first line must be the header `timestamp,value`, found `{','.join(header)}`")
    stamps: list[datetime] = []
    values: list[float] = []
    errors: list[str] = []
    for line, row in rows:
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) < 2:
            errors.append(f"line {line}: expected 2 columns (timestamp,value), found {len(row)}")
            continue
        try:
            ts = _timestamp(row[0])
        except (ValueError, OverflowError, OSError):
            errors.append(
                f"line {line}: timestamp {row[0]!r} is neither ISO 8601 (2026-01-31T13:00:00Z) nor epoch seconds"
            )
            continue
        if not EARLIEST <= ts < LATEST:
            errors.append(f"line {line}: timestamp {row[0]!r} is outside {EARLIEST:%Y-%m-%d} to {LATEST:%Y-%m-%d}")
            continue
        try:
            value = float(row[1])
        except ValueError:
            errors.append(f"line {line}: value {row[1]!r} is not a number")
            continue
        if not math.isfinite(value):
            errors.append(f"line {line}: value {row[1]!r} is not a finite number")
            continue
        stamps.append(ts)
        values.append(value)
    if errors:
        more = f" (and {len(errors) - MAX_ERRORS_SHOWN} more)" if len(errors) > MAX_ERRORS_SHOWN else ""
        raise UploadError(f"{len(errors)} bad line(s): " + "; ".join(errors[:MAX_ERRORS_SHOWN]) + more)
    if not stamps:
        raise UploadError("the file has a header but no data lines: add rows like `2026-01-31T13:00:00Z,42.5`")
    series = pd.Series(np.asarray(values, dtype=np.float64), index=pd.DatetimeIndex(stamps), name="value")
    return series.groupby(level=0).mean()  # one value per timestamp, the same for the forecast and the stored series


def forecast_upload(
    content: bytes, *, horizon_hours: int, model: str, levels: list[int], season_length: int = 24
) -> AdhocResult:
    """Regularize the upload to hourly, forecast `horizon_hours` ahead and backtest on the last stretch."""
    raw = parse_csv(content)
    hourly, report = regularize_hourly(raw, season_length=season_length)
    if len(hourly) < MIN_HOURS:
        raise UploadError(
            f"the data covers {len(hourly)} hour(s); a forecast needs at least {MIN_HOURS} hours of history"
        )
    forecaster = build_forecaster(model, season_length)
    holdout = max(1, min(horizon_hours, len(hourly) // 4))
    backtest = holdout_backtest(forecaster, hourly, holdout, levels)
    result = forecaster.new().fit(hourly).predict(horizon_hours, levels)
    return AdhocResult(
        history=hourly,
        forecast=result.to_frame(),
        model=result.model,
        backtest=backtest,
        regularized=report.as_dict(),
        raw=raw,
    )
