"""Shared fixtures: real PostgreSQL, Redis and InfluxDB brought up once per session, SQLite per test."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from testbed.servers import (
    InfluxServer,
    PostgresServer,
    RedisServer,
    start_influxdb,
    start_postgres,
    start_redis,
)

# TensorFlow (the ensemble's global network) is imported here, once, before any test runs. Imported for the first
# time deep inside a test, pytest's assertion rewriter parsed tensorflow/python/platform/test.py there and CPython
# 3.11.7 raised "SystemError: AST constructor recursion depth mismatch (before=408, after=36)" (seen once in CI,
# in tests/integration/test_global_model.py); at collection the stack is shallow and no test thread is running.
with contextlib.suppress(ImportError):
    import tensorflow  # noqa: F401


@pytest.fixture(autouse=True, scope="session")
def _no_repository_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Settings come from an empty folder unless a test names one: the repository's config/ is never read by
    accident (a developer's providers.yml would otherwise change what a test sees)."""
    patch = pytest.MonkeyPatch()
    patch.setenv("HEADROOM_CONFIG_DIR", str(tmp_path_factory.mktemp("no-config")))
    yield
    patch.undo()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database for the whole session (not migrated), dropped at the end."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture
def make_postgres_db(postgres_server: PostgresServer) -> Iterator[Callable[[], str]]:
    """Call it for a fresh, empty database URL; every database it made is dropped after the test."""
    made: list[str] = []

    def make() -> str:
        made.append(postgres_server.create_database("headroom_mig"))
        return made[-1]

    yield make
    for url in made:
        postgres_server.drop_database(url)


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = start_redis()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url(redis_server: RedisServer) -> Iterator[str]:
    """Redis database 15, flushed before and after the session."""
    redis_server.flush(15)
    yield redis_server.url(15)
    redis_server.flush(15)


@pytest.fixture(scope="session")
def influx_server() -> Iterator[InfluxServer]:
    server = start_influxdb()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def influx_url(influx_server: InfluxServer) -> str:
    """influxdb://user:password@127.0.0.1:<port> without a database: append "/<name>" per test (the store
    creates the database on first use), so tests never share data."""
    return influx_server.url("").rstrip("/")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file under tmp_path (not migrated)."""
    return f"sqlite:///{tmp_path / 'headroom.db'}"
