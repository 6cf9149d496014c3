"""Injected dependencies: settings, a database session, the metric store and the calling principal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import lru_cache
from typing import Annotated

from fastapi import Depends, HTTPException, Path, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from api.gate import MISSING_TOKEN, PRINCIPAL_SCOPE_KEY, unauthorized
from services.auth import AuthError, Principal, Role, authenticate
from services.db.engine import session_scope
from services.metrics import MetricStore, open_metric_store
from services.settings import Settings


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_app_settings)]


def get_session(settings: SettingsDep) -> Iterator[Session]:
    with session_scope(settings.database_url) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


@lru_cache(maxsize=4)
def _store(url: str) -> MetricStore:
    return open_metric_store(url)


def get_metric_store(settings: SettingsDep) -> MetricStore:
    return _store(settings.metrics_url)


MetricStoreDep = Annotated[MetricStore, Depends(get_metric_store)]
_bearer = HTTPBearer(auto_error=False, description="A Headroom API token: `headroom token create`.")


def get_principal(
    request: Request,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller, as the API gate found it (it authenticates each request once), else authenticated here."""
    found = request.scope.get(PRINCIPAL_SCOPE_KEY)
    if isinstance(found, Principal):
        return found
    if isinstance(found, AuthError):
        raise unauthorized(str(found))
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized(MISSING_TOKEN)
    try:
        return authenticate(session, credentials.credentials)
    except AuthError as exc:
        raise unauthorized(str(exc)) from exc


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require(role: Role) -> Callable[[Principal], Principal]:
    """A dependency that lets through principals of at least `role`."""

    def check(principal: CurrentPrincipal) -> Principal:
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
