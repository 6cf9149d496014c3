"""Admins manage identity: users (demote, disable), the token policy, and read the audit log of admin actions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from api.deps import AdminPrincipal, RowId, SessionDep
from api.schemas_identity import AuditPage, AuditRead, TokenPolicy, UserAdminRead, UserPage, UserUpdate
from services.identity import IdentityError, audit, audit_log, list_users, set_token_policy, token_policy, update_user

router = APIRouter(tags=["identity"])


@router.get("/users", response_model=UserPage)
def read_users(session: SessionDep, _: AdminPrincipal) -> UserPage:
    return UserPage(items=[UserAdminRead.model_validate(u) for u in list_users(session)])


@router.patch("/users/{user_id}", response_model=UserAdminRead)
def patch_user(user_id: RowId, body: UserUpdate, session: SessionDep, principal: AdminPrincipal) -> UserAdminRead:
    """Change a user's role or disable them; their tokens follow at their next request."""
    try:
        user = update_user(session, user_id=user_id, role=body.role, active=body.is_active,
                           acting_user_id=principal.user_id)
    except KeyError as exc:
        raise HTTPException(404, str(exc.args[0])) from None
    except IdentityError as exc:
        raise HTTPException(409, str(exc)) from None
    audit(session, principal, "user.update", user.email, **body.model_dump(exclude_none=True))
    return UserAdminRead.model_validate(user)


@router.get("/auth/policy", response_model=TokenPolicy)
def read_policy(session: SessionDep, _: AdminPrincipal) -> TokenPolicy:
    return TokenPolicy.model_validate(token_policy(session))


@router.put("/auth/policy", response_model=TokenPolicy)
def put_policy(body: TokenPolicy, session: SessionDep, principal: AdminPrincipal) -> TokenPolicy:
    """Set the longest lifetime of any token; a token older than that is refused from now on."""
    policy = set_token_policy(session, max_token_ttl_days=body.max_token_ttl_days)
    audit(session, principal, "policy.update", "tokens", max_token_ttl_days=body.max_token_ttl_days)
    return TokenPolicy.model_validate(policy)


@router.get("/audit", response_model=AuditPage)
def read_audit(
    session: SessionDep, _: AdminPrincipal,
    action: Annotated[str | None, Query(max_length=64, description="Only this action, e.g. user.update")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> AuditPage:
    """Admin actions, newest first: who (user and token), what, on what, when."""
    return AuditPage(items=[AuditRead.model_validate(a) for a in audit_log(session, limit=limit, action=action)])
