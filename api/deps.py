"""Injected dependencies: settings, a database session, the metric store and the calling principal."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from functools import lru_cache
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api.gate import MISSING_TOKEN, PRINCIPAL_SCOPE_KEY, unauthorized
from services.auth import AuthError, Principal, Role
from services.db.engine import session_scope
from services.metrics import MetricStore, open_metric_store
from services.settings import Settings


async def get_app_settings(request: Request) -> Settings:  # async: no thread for reading app state
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def get_session(settings: SettingsDep) -> Iterator[Session]:
    with session_scope(settings.database_url) as session:
        yield session


# Requests holding a database session at once, per process. A request waits for one without holding a thread, and
# the database pool (5 + 10 overflow connections per process, services.db.engine) keeps room beside them for the
# gate's token checks (api.gate.GATE_THREADS) and a metric store on the same database.
SESSION_CONCURRENCY = 8
SessionDep = Annotated[Session, Depends(get_session, max_concurrency=SESSION_CONCURRENCY)]


@lru_cache(maxsize=4)
def _store(url: str) -> MetricStore:
    return open_metric_store(url)


async def get_metric_store(settings: SettingsDep) -> MetricStore:
    return _store(settings.metrics_url)


MetricStoreDep = Annotated[MetricStore, Depends(get_metric_store)]
_bearer = HTTPBearer(auto_error=False, description="A Headroom API token: `headroom token create`.")


async def get_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, as the API gate found it: the gate (api.gate) authenticates every /api request that carries a
    bearer token, once, before any route runs. Async, with no session: reading it costs no thread."""
    found = request.scope.get(PRINCIPAL_SCOPE_KEY)
    if isinstance(found, Principal):
        return found
    if isinstance(found, AuthError):
        raise unauthorized(str(found))
    raise unauthorized(MISSING_TOKEN)  # no bearer token (credentials is None), or a route outside the gate


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require(role: Role) -> Callable[[Principal], Coroutine[Any, Any, Principal]]:
    """A dependency that lets through principals of at least `role`."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if not principal.allows(role):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN, f"this needs the {role} role; your token {principal.token_name!r} is "
                f"{principal.role}"
            )
        return principal

    return check


AdminPrincipal = Annotated[Principal, Depends(require("admin"))]
EditorPrincipal = Annotated[Principal, Depends(require("editor"))]

MAX_ROW_ID = 2**31 - 1  # ids are INTEGER columns: 32-bit on PostgreSQL
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="A row id, 1 to 2147483647.")]
