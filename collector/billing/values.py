"""Cell parsing shared by the billing formats: NULL literals, decimals, timestamps, tag maps, a row view."""

from __future__ import annotations

import ast
import json
import math
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

NULL_LITERALS = frozenset({"", "null", "none", "nan", "n/a"})
_DATE_FORMATS = ("%m/%d/%Y", "%Y%m%d", "%d/%m/%Y")  # after ISO 8601: EA exports, UsageDate ints


class CellError(ValueError):
    """A cell that cannot be read as what its column must hold; the message names the column and value."""


def column_key(name: str) -> str:
    """Column names compared without case or punctuation: lineItem/UnblendedCost == line_item_unblended_cost."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def is_null(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and value.strip().lower() in NULL_LITERALS


class Row:
    """One line of a billing file: cells by column name, looked up without case or punctuation, NULLs as None."""

    def __init__(self, cells: Mapping[str, Any], line: int) -> None:
        self.cells = cells
        self.line = line
        # a CSV row longer than its header puts the surplus under the key None: ignore it
        self._by_key = {column_key(k): v for k, v in cells.items() if isinstance(k, str)}

    def get(self, *names: str) -> Any:
        """The first non-null cell among the columns `names`, else None."""
        for name in names:
            value = self._by_key.get(column_key(name))
            if not is_null(value):
                return value.strip() if isinstance(value, str) else value
        return None

    def text(self, *names: str) -> str:
        value = self.get(*names)
        return "" if value is None else str(value)

    def decimal(self, *names: str, default: Decimal | None = None) -> Decimal:
        value = self.get(*names)
        if value is None:
            if default is None:
                raise CellError(f"{' or '.join(names)} is empty")
            return default
        return to_decimal(value, names[0])

    def timestamp(self, *names: str) -> datetime:
        value = self.get(*names)
        if value is None:
            raise CellError(f"{' or '.join(names)} is empty")
        return to_datetime(value, names[0])

    def optional_timestamp(self, *names: str) -> datetime | None:
        return None if self.get(*names) is None else self.timestamp(*names)

    def prefixed(self, *prefixes: str) -> Iterator[tuple[str, Any]]:
        """(rest of the name, value) of non-null cells whose column starts with one of prefixes."""
        for name, value in self.cells.items():
            for prefix in prefixes:
                if isinstance(name, str) and name.startswith(prefix) and not is_null(value):
                    yield name[len(prefix) :], value
                    break


def to_decimal(value: Any, column: str) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))  # the shortest decimal that round-trips, not the binary expansion
    try:
        return Decimal(str(value).strip().replace(",", ""))
    except InvalidOperation as exc:
        raise CellError(f"{column} {str(value)[:40]!r} is not a number") from exc


def to_datetime(value: Any, column: str) -> datetime:
    """A UTC datetime from ISO 8601 text (with or without zone), an EA-style date, a date or a datetime."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, date):
        parsed = datetime.combine(value, time())
    else:
        text = str(value).strip()
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            for fmt in _DATE_FORMATS:
                try:
                    parsed = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
            else:
                raise CellError(f"{column} {text[:40]!r} is not a date or timestamp") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def period_days(start: datetime, end: datetime | None) -> tuple[date, date]:
    """The half-open day range [first, last) covering [start, end): an hour inside a day is that day."""
    first = start.date()
    if end is None:
        return first, first + timedelta(days=1)
    last = end.date() if end.time() == time() else end.date() + timedelta(days=1)
    return first, max(last, first + timedelta(days=1))


def parse_structure(value: Any) -> Any:
    """JSON, or a Python literal (GCP's CSV export writes credits as Python reprs), else None."""
    if not isinstance(value, str):
        return value
    for parse in (json.loads, ast.literal_eval):
        try:
            return parse(value)
        except (ValueError, SyntaxError):
            continue
    return None


def parse_tags(value: Any) -> dict[str, str]:
    """Tags as str -> str from a JSON object, Azure's brace-less '"k": "v", ...', or a [{key, value}] list."""
    if is_null(value):
        return {}
    parsed = parse_structure(value)
    if parsed is None and isinstance(value, str) and not value.lstrip().startswith("{"):
        parsed = parse_structure("{" + value + "}")
    if isinstance(parsed, Mapping):
        return {str(k): "" if v is None else str(v) for k, v in parsed.items()}
    if isinstance(parsed, list):  # GCP labels [{key, value}], or a Parquet map as [(key, value)]
        pairs = [(p["key"], p.get("value")) if isinstance(p, Mapping) else tuple(p) for p in parsed]
        if all(len(pair) == 2 for pair in pairs):
            return {str(k): "" if v is None else str(v) for k, v in pairs}
    raise CellError(f"tags {str(value)[:60]!r} are neither a JSON object nor a key/value list")
