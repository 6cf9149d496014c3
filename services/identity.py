"""Identity lifecycle: users promoted, demoted, disabled and enabled; the admins' token policy; the audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.auth import Principal, Role, check_role
from services.db.models import AuditRow, AuthPolicyRow, UserRow


class IdentityError(ValueError):
    """A user change that cannot be made; the message says why."""


def audit(session: Session, principal: Principal, action: str, target: str = "", **detail: Any) -> AuditRow:
    """Record an admin action (who, what, when) in the same transaction as the action itself; never pass a secret."""
    row = AuditRow(actor_user_id=principal.user_id, actor=principal.email, token_name=principal.token_name,
                   action=action, target=target, detail=detail)
    session.add(row)
    session.flush()
    return row


def audit_log(session: Session, *, limit: int, action: str | None = None) -> list[AuditRow]:
    query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
    if action:
        query = query.where(AuditRow.action == action)
    return list(session.scalars(query))


def list_users(session: Session) -> list[UserRow]:
    return list(session.scalars(select(UserRow).order_by(UserRow.id)))


def update_user(session: Session, *, user_id: int, role: Role | None = None, active: bool | None = None,
                acting_user_id: int) -> UserRow:
    """Set a user's role or active flag; their tokens follow at their next request. An admin cannot demote or
    disable themself (that is how a fleet loses its last admin)."""
    user = session.get(UserRow, user_id)
    if user is None:
        raise KeyError(f"no user with id {user_id}: GET /api/users lists them")
    if user_id == acting_user_id and (active is False or (role is not None and role != "admin")):
        raise IdentityError("you cannot demote or disable yourself: ask another admin")
    if role is not None:
        user.role = check_role(role)
    if active is not None:
        user.is_active = active
    session.flush()
    return user


def token_policy(session: Session) -> AuthPolicyRow:
    policy = session.get(AuthPolicyRow, 1)
    if policy is None:
        policy = AuthPolicyRow(id=1, max_token_ttl_days=None)
        session.add(policy)
        session.flush()
    return policy


def set_token_policy(session: Session, *, max_token_ttl_days: int | None) -> AuthPolicyRow:
    """The longest lifetime of any token, existing ones included (None: no limit beyond each token's expiry)."""
    policy = token_policy(session)
    policy.max_token_ttl_days = max_token_ttl_days
    session.flush()
    return policy
