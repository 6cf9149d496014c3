"""Dialect-aware INSERT ... ON CONFLICT DO UPDATE for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def upsert_rows(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    key: Sequence[str],
    chunk: int = 2000,
) -> int:
    """Insert rows, updating every non-key column of rows whose key already exists. Returns len(rows)."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for i in range(0, len(rows), chunk):
        part = rows[i : i + chunk]
        stmt = insert(table).values(part)
        update = {c: stmt.excluded[c] for c in part[0] if c not in key}
        stmt = stmt.on_conflict_do_update(index_elements=list(key), set_=update) if update else (
            stmt.on_conflict_do_nothing(index_elements=list(key))
        )
        session.execute(stmt)
    return len(rows)
