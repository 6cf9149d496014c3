"""Tokens and the caller: GET /api/me; admins create, list and revoke tokens."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from api.deps import AdminPrincipal, CurrentPrincipal, RowId, SessionDep, SettingsDep
from api.schemas import MeRead, TokenCreate, TokenCreated, TokenPage, TokenRead, UserRead
from services.auth import (
    PermissionDenied,
    TokenPolicyError,
    create_token,
    ensure_user,
    list_tokens,
    revoke_token,
    token_lifetime,
)
from services.db.models import UserRow
from services.identity import audit

router = APIRouter(tags=["tokens"])


@router.get("/me", response_model=MeRead)
def read_me(principal: CurrentPrincipal) -> MeRead:
    return MeRead(
        user=UserRead(email=principal.email, name=principal.name), role=principal.role,
        token_name=principal.token_name,
    )


@router.post("/tokens", response_model=TokenCreated, status_code=status.HTTP_201_CREATED)
def create_api_token(
    body: TokenCreate, session: SessionDep, settings: SettingsDep, principal: AdminPrincipal
) -> TokenCreated:
    user = (
        ensure_user(session, email=body.email, role=body.role)
        if body.email
        else session.get_one(UserRow, principal.user_id)
    )
    ttl = token_lifetime(session, requested_days=body.expires_in_days, default_days=settings.token_ttl_days)
    try:
        issued = create_token(session, user=user, name=body.name, role=body.role, ttl=ttl)
    except PermissionDenied as exc:
        raise HTTPException(status.HTTP_403_FORBIDDEN, str(exc)) from exc
    except TokenPolicyError as exc:
        raise HTTPException(422, f"body field 'expires_in_days': {exc}") from exc
    audit(session, principal, "token.create", f"{user.email}/{issued.name}", role=issued.role,
          expires_at=issued.expires_at.isoformat() if issued.expires_at else None)
    return TokenCreated(id=issued.id, name=issued.name, role=issued.role, expires_at=issued.expires_at,
                        token=issued.token)


@router.get("/tokens", response_model=TokenPage)
def read_tokens(session: SessionDep, _: AdminPrincipal) -> TokenPage:
    return TokenPage(items=[TokenRead.model_validate(t) for t in list_tokens(session)])


@router.delete("/tokens/{token_id}", response_model=TokenRead)
def delete_token(token_id: RowId, session: SessionDep, principal: AdminPrincipal) -> TokenRead:
    try:
        row = revoke_token(session, token_id=token_id)
    except KeyError as exc:
        raise HTTPException(404, f"no token with id {token_id}") from exc
    audit(session, principal, "token.revoke", f"{row.user.email}/{row.name}")
    return TokenRead.model_validate(row)
