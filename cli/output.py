"""What every CLI command module shares: list output as a Rich table, JSON or CSV (`--output`), the error exit,
a database session from the settings, and a benchmark's written outputs."""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.orm import Session

out = Console()
err = Console(stderr=True)


class Output(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


OutputOpt = Annotated[Output, typer.Option("--output", "-o", help="table, json or csv")]


def emit(rows: Sequence[dict[str, Any]], columns: Sequence[str] | None, output: Output, *, title: str = "") -> None:
    """Rows as a Rich table (the columns given, else every key of the first row), JSON (every field) or CSV (the
    columns) on stdout; an empty table says so."""
    if output is Output.json:
        sys.stdout.write(json.dumps([{k: _plain(v) for k, v in r.items()} for r in rows], indent=2, default=str))
        sys.stdout.write("\n")
        return
    names = list(columns) if columns is not None else list(rows[0]) if rows else []
    if output is Output.csv:
        writer = csv.DictWriter(sys.stdout, fieldnames=names, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows([{k: defuse_formula(_cell(r.get(k))) for k in names} for r in rows])
        return
    if not rows:
        out.print(f"no {title or 'rows'} yet")
        return
    table = Table(title=title or None)
    for column in names:
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(*(_cell(r.get(c)) for c in names))
    out.print(table)


def fail(message: str) -> typer.Exit:
    """Print the error on stderr; raise the returned Exit (code 2)."""
    err.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


@contextmanager
def db_session() -> Iterator[Session]:
    from services.db.engine import session_scope
    from services.settings import get_settings

    with session_scope(get_settings().database_url) as session:
        yield session


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")


def defuse_formula(text: str) -> str:
    """OWASP's rule against CSV injection: text a spreadsheet would run as a formula (it begins with = + - @, a tab
    or a carriage return) gets a leading `'`; numbers stay numbers."""
    return f"'{text}" if text.startswith(FORMULA_LEADS) and not _NUMBER.match(text) else text


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) >= 10 else f"{value:.4g}"
    if isinstance(value, list | dict):
        return json.dumps(value, default=str)
    return str(_plain(value))


def write_benchmark(
    out_dir: Path,
    stem: str,
    markdown: str,
    scores: pd.DataFrame,
    raw: tuple[Path, Callable[[Path], int], str] | None = None,
) -> None:
    """A benchmark command's outputs: print the table, write `<stem>.md` and `<stem>.csv` (per-item scores) and,
    when asked, the raw file anyone can rescore (path, writer returning its row count, what the rows are); say what
    was written, and exit 2 when nothing could be scored."""
    typer.echo(markdown)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = [out_dir / f"{stem}.md", out_dir / f"{stem}.csv"]
    written[0].write_text(markdown, encoding="utf-8")
    scores.to_csv(written[1], index=False, float_format="%.6g")
    if raw is not None:
        path, writer, what = raw
        err.print(f"{writer(path)} {what}", highlight=False)
        written.append(path)
    err.print("wrote " + ", ".join(map(str, written)), highlight=False, soft_wrap=True)
    if scores.empty:
        raise typer.Exit(2)
