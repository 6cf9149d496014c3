"""Fixtures of the security tests: a migrated SQLite database, a viewer, an editor and an admin token, an app."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from services.auth import Role, create_token, ensure_user
from services.db.engine import session_scope
from services.db.migrate import upgrade
from services.settings import Settings, load_settings

ROLES: tuple[Role, ...] = ("viewer", "editor", "admin")


class Api:
    """A test client with one token per role; `as_(role)` gives the Authorization header."""

    def __init__(self, settings: Settings, client: TestClient, tokens: dict[str, str]) -> None:
        self.settings, self.client, self.tokens = settings, client, tokens

    def as_(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def issue_token(db_url: str, role: Role, *, email: str | None = None) -> str:
    with session_scope(db_url) as session:
        user = ensure_user(session, email=email or f"{role}@example.com", role=role)
        return create_token(session, user=user, name=f"{role}-token", role=role, ttl=None).token


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"data_dir": tmp_path, "database_url": f"sqlite:///{tmp_path / 'api.db'}",
                              "frontend_dist": tmp_path / "no-dist"}
    return load_settings(**(values | overrides))


@pytest.fixture
def make_api(tmp_path: Path) -> Iterator[Callable[..., Api]]:
    """Call with setting overrides for a migrated database, one token per role and a running app."""
    clients: list[TestClient] = []

    def make(**overrides: Any) -> Api:
        settings = make_settings(tmp_path, **overrides)
        upgrade(settings.database_url)
        tokens = {role: issue_token(settings.database_url, role) for role in ROLES}
        client = TestClient(create_app(settings))
        client.__enter__()
        clients.append(client)
        return Api(settings, client, tokens)

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()
