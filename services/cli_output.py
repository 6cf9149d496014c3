"""List output of CLI commands: a Rich table, JSON or CSV, chosen by an `--output` option."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from enum import StrEnum
from typing import Any

from rich.console import Console
from rich.table import Table


class OutputFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | bool):
        return value
    if isinstance(value, float):
        return round(value, 6)
    return str(value)


def print_rows(rows: Sequence[dict[str, Any]], output: OutputFormat, *, console: Console, title: str = "") -> None:
    """rows (dicts sharing their keys) as a table, a JSON array or CSV with a header, on stdout."""
    if output is OutputFormat.json:
        sys.stdout.write(json.dumps([{k: _plain(v) for k, v in r.items()} for r in rows], indent=2) + "\n")
        return
    if not rows and output is OutputFormat.table:
        console.print(f"no {title or 'rows'} yet")
        return
    columns = list(rows[0]) if rows else []
    if output is OutputFormat.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=columns)
        writer.writeheader()
        writer.writerows([{k: _plain(v) for k, v in r.items()} for r in rows])
        return
    table = Table(*columns, title=title or None)
    for r in rows:
        table.add_row(*("" if v is None else f"{v:.4g}" if isinstance(v, float) else str(v) for v in r.values()))
    console.print(table)
