"""ingest streams: a watermark, backfill cursor, retry state and API spend per (source, stream)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _ts(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=True)


def upgrade() -> None:
    streams = op.create_table(
        "ingest_streams",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("stream", sa.String(length=64), nullable=False),
        _ts("watermark"),
        _ts("backfill_cursor"),
        _ts("backfill_until"),
        _ts("last_run_at"),
        _ts("last_success_at"),
        _ts("next_due_at"),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("spend_month", sa.String(length=7), nullable=False),
        sa.Column("spend_calls", sa.BigInteger(), nullable=False),
        sa.Column("spend_usd", sa.Numeric(precision=14, scale=6), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("source", "stream", name=op.f("pk_ingest_streams")),
    )
    # carry the per-source watermarks over, so an upgrade never re-runs a backfill
    marks = sa.table(
        "ingest_watermarks", sa.column("source", sa.String), sa.column("key", sa.String),
        sa.column("watermark", sa.DateTime(timezone=True)),
    )  # fmt: skip
    rows = op.get_bind().execute(sa.select(marks).where(marks.c.key.in_(["metrics", "costs"]))).all()
    op.bulk_insert(streams, [
        {"source": r.source, "stream": r.key, "watermark": r.watermark, "last_success_at": r.watermark, "failures": 0,
         "last_error": "", "spend_month": "", "spend_calls": 0, "spend_usd": 0, "detail": {}}
        for r in rows
    ])  # fmt: skip


def downgrade() -> None:
    op.drop_table("ingest_streams")
