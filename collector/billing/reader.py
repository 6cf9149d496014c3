"""Read one billing file (CSV, gzipped CSV or Parquet): detect its format from the header, map every row."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from collector.base import CollectorError
from collector.billing.aws_cur import AWS_CUR
from collector.billing.azure_export import AZURE_EXPORT
from collector.billing.focus import FOCUS
from collector.billing.gcp_export import GCP_EXPORT
from collector.billing.schema import BillingFormat
from collector.billing.values import CellError, Row
from collector.records import CostRecord

FORMATS: dict[str, BillingFormat] = {f.name: f for f in (FOCUS, AWS_CUR, AZURE_EXPORT, GCP_EXPORT)}
SUFFIXES = (".csv", ".csv.gz", ".parquet")
PARQUET_BATCH_ROWS = 10_000


class BillingFileError(CollectorError):
    """A billing file cannot be imported; the one-line message names the file and what is wrong."""


def is_billing_file(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(SUFFIXES)


def _open_text(path: Path) -> io.TextIOBase:
    if path.name.lower().endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return path.open(encoding="utf-8-sig", newline="")  # utf-8-sig: Azure exports start with a BOM


def read_header(path: Path) -> list[str]:
    if path.name.lower().endswith(".parquet"):
        import pyarrow.parquet as pq

        return list(pq.read_schema(path).names)
    with _open_text(path) as handle:
        return next(csv.reader(handle), [])


def iter_cells(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, cells) of every data row; CSV line numbers count the header as line 1."""
    if path.name.lower().endswith(".parquet"):
        import pyarrow.parquet as pq

        number = 1
        for batch in pq.ParquetFile(path).iter_batches(batch_size=PARQUET_BATCH_ROWS):
            for cells in batch.to_pylist():
                number += 1
                yield number, cells
        return
    with _open_text(path) as handle:
        reader = csv.DictReader(handle)
        for cells in reader:
            yield reader.line_num, cells


def detect_format(path: Path, header: list[str], wanted: str = "auto") -> BillingFormat:
    """The format of a file from its header (or the configured one), checked for its required columns."""
    if wanted != "auto":
        fmt = FORMATS[wanted]
    else:
        scored = sorted(FORMATS.values(), key=lambda f: f.score(header), reverse=True)
        fmt = scored[0]
        if fmt.score(header) == 0:
            needs = "; ".join(f"{f.title}: {', '.join(f.required)}" for f in FORMATS.values())
            raise BillingFileError(f"{path}: not a billing file Headroom knows (needs the columns of {needs})")
    missing = fmt.missing(header)
    if missing:
        raise BillingFileError(f"{path}: looks like {fmt.title} but lacks the column(s) {', '.join(missing)}")
    return fmt


def read_records(path: Path, wanted: str = "auto") -> Iterator[CostRecord]:
    """Every row of the file as a CostRecord; BillingFileError (file and line) on the first bad cell."""
    try:
        header = read_header(path)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BillingFileError(f"{path}: cannot be read ({' '.join(str(exc).split())[:200]})") from exc
    fmt = detect_format(path, header, wanted)
    source = path.name
    try:
        for line, cells in iter_cells(path):
            try:
                record = fmt.to_record(Row(cells, line))
            except CellError as exc:
                raise BillingFileError(f"{path} line {line}: {exc}") from exc
            yield replace(record, source=source)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise BillingFileError(f"{path}: cannot be read ({' '.join(str(exc).split())[:200]})") from exc
