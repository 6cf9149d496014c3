"""Alembic migrations on a real PostgreSQL: up, down and up again, and in step with the ORM models."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from services.db.migrate import current_revision, downgrade, upgrade
from services.db.models import Base

pytestmark = pytest.mark.integration
TABLES = {"resources", "series", "metric_points", "cost_records", "forecasts", "forecast_points", "recommendations",
          "users", "api_tokens", "model_versions", "ingest_watermarks", "source_status"}


def test_migrations_up_down_up_on_postgres(make_postgres_db: Callable[[], str]) -> None:
    url = make_postgres_db()
    upgrade(url)
    engine = create_engine(url)
    assert set(inspect(engine).get_table_names()) >= TABLES
    assert current_revision(url) is not None
    downgrade(url, "base")
    assert not TABLES & set(inspect(engine).get_table_names())
    upgrade(url)
    assert set(inspect(engine).get_table_names()) >= TABLES
    engine.dispose()


def test_models_match_the_migrations(make_postgres_db: Callable[[], str]) -> None:
    url = make_postgres_db()
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    engine.dispose()
    assert diff == [], f"models and migrations differ; write an Alembic migration: {diff}"
