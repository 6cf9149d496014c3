"""recommendations: lifecycle, scenarios

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EMPTY_JSON = sa.text("'{}'")
_EMPTY_LIST = sa.text("'[]'")
# columns added with a server default (dropped once existing rows have a value), and those added without
_DEFAULTED = (
    "resource_key",
    "dedupe_key",
    "finding",
    "monthly_savings_list",
    "monthly_savings_effective",
    "risk",
    "reasons",
    "current",
    "proposed",
    "alternatives",
    "dismissed_reason",
    "realised_detail",
)
_WITHOUT_DEFAULT = (
    "realised_savings_monthly",
    "last_seen_at",
    "accepted_at",
    "implemented_at",
    "verified_at",
    "dismissed_at",
)


def _utc(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    # the table was empty until issue 5: its columns are replaced, not migrated
    with op.batch_alter_table("recommendations", schema=None) as batch:
        batch.drop_column("monthly_savings")
        batch.drop_column("reason")
        batch.add_column(sa.Column("resource_key", sa.String(length=400), nullable=False, server_default=""))
        batch.add_column(sa.Column("dedupe_key", sa.String(length=64), nullable=False, server_default=""))
        batch.add_column(sa.Column("finding", sa.String(length=32), nullable=False, server_default=""))
        batch.add_column(sa.Column("monthly_savings_list", sa.Float(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("monthly_savings_effective", sa.Float(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("risk", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("reasons", sa.JSON(), nullable=False, server_default=_EMPTY_LIST))
        batch.add_column(sa.Column("current", sa.JSON(), nullable=False, server_default=_EMPTY_JSON))
        batch.add_column(sa.Column("proposed", sa.JSON(), nullable=False, server_default=_EMPTY_JSON))
        batch.add_column(sa.Column("alternatives", sa.JSON(), nullable=False, server_default=_EMPTY_LIST))
        batch.add_column(sa.Column("dismissed_reason", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("realised_savings_monthly", sa.Float(), nullable=True))
        batch.add_column(sa.Column("realised_detail", sa.JSON(), nullable=False, server_default=_EMPTY_JSON))
        batch.add_column(_utc("last_seen_at", nullable=False))
        for name in ("accepted_at", "implemented_at", "verified_at", "dismissed_at"):
            batch.add_column(_utc(name))
    with op.batch_alter_table("recommendations", schema=None) as batch:
        for name in _DEFAULTED:
            batch.alter_column(name, server_default=None)
        batch.create_index(batch.f("ix_recommendations_resource_key"), ["resource_key"], unique=False)
        batch.create_index(batch.f("ix_recommendations_kind"), ["kind"], unique=False)
        batch.create_index(batch.f("ix_recommendations_status"), ["status"], unique=False)
        batch.create_unique_constraint(batch.f("uq_recommendations_dedupe_key"), ["dedupe_key"])

    op.create_table(
        "recommendation_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recommendation_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(length=16), nullable=False),
        sa.Column("to_status", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        _utc("at", nullable=False),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendations.id"],
            name=op.f("fk_recommendation_events_recommendation_id_recommendations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendation_events")),
    )
    with op.batch_alter_table("recommendation_events", schema=None) as batch:
        batch.create_index(batch.f("ix_recommendation_events_recommendation_id"), ["recommendation_id"], unique=False)

    op.create_table(
        "recommendation_skips",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_key", sa.String(length=400), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _utc("refreshed_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendation_skips")),
    )
    with op.batch_alter_table("recommendation_skips", schema=None) as batch:
        batch.create_index(batch.f("ix_recommendation_skips_resource_key"), ["resource_key"], unique=False)

    op.create_table(
        "scenarios",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        _utc("created_at", nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scenarios")),
        sa.UniqueConstraint("name", name=op.f("uq_scenarios_name")),
    )


def downgrade() -> None:
    op.drop_table("scenarios")
    op.drop_table("recommendation_skips")
    op.drop_table("recommendation_events")
    with op.batch_alter_table("recommendations", schema=None) as batch:
        batch.drop_constraint(batch.f("uq_recommendations_dedupe_key"), type_="unique")
        for index in ("status", "kind", "resource_key"):
            batch.drop_index(batch.f(f"ix_recommendations_{index}"))
        for name in (*_DEFAULTED, *_WITHOUT_DEFAULT):
            batch.drop_column(name)
        batch.add_column(sa.Column("monthly_savings", sa.Float(), nullable=True))
        batch.add_column(sa.Column("reason", sa.Text(), nullable=False, server_default=""))
