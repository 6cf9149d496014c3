"""API tokens: random `hdr_` bearer tokens stored only as SHA-256, with roles, expiry and revocation; a token acts
with the lower of its own role and its user's current one, and the admins' maximum lifetime bounds every token."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from services.db.models import ApiTokenRow, AuthPolicyRow, UserRow

Role = Literal["viewer", "editor", "admin"]
ROLES: tuple[Role, ...] = ("viewer", "editor", "admin")
TOKEN_PREFIX = "hdr_"  # noqa: S105 - a public prefix, not a secret
_RANK = {role: i for i, role in enumerate(ROLES)}
LAST_USED_RESOLUTION = timedelta(minutes=1)  # last_used_at is recorded to the minute


class AuthError(Exception):
    """The bearer token is missing, unknown, expired or revoked."""


class PermissionDenied(Exception):
    """The token is valid but its role is too low for the request."""


class TokenPolicyError(ValueError):
    """A token asked for breaks the admins' token policy (its lifetime)."""


@dataclass(frozen=True)
class Principal:
    """Who is calling: the user, and the role and name of the token used."""

    user_id: int
    email: str
    name: str
    role: Role
    token_id: int
    token_name: str

    def allows(self, needed: Role) -> bool:
        return _RANK[self.role] >= _RANK[needed]


@dataclass(frozen=True)
class IssuedToken:
    """A freshly created token: `token` is shown once and never stored."""

    id: int
    token: str
    name: str
    role: Role
    prefix: str
    expires_at: datetime | None


def lower_role(a: Role, b: Role) -> Role:
    return a if _RANK[a] <= _RANK[b] else b


def max_token_ttl(session: Session) -> timedelta | None:
    """The longest lifetime the admins allow a token (GET/PUT /api/auth/policy), or None."""
    policy = session.get(AuthPolicyRow, 1)
    return timedelta(days=policy.max_token_ttl_days) if policy and policy.max_token_ttl_days else None


def token_lifetime(session: Session, *, requested_days: int | None, default_days: int) -> timedelta:
    """The lifetime of a new token: the one asked for, else the default shortened to the admins' maximum."""
    limit = max_token_ttl(session)
    if requested_days is not None:
        return timedelta(days=requested_days)  # create_token refuses it when over the maximum
    default = timedelta(days=default_days)
    return min(default, limit) if limit is not None else default


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_role(role: str) -> Role:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    return role  # type: ignore[return-value]


def ensure_user(session: Session, *, email: str, name: str = "", role: Role = "viewer") -> UserRow:
    user = session.scalar(select(UserRow).where(UserRow.email == email))
    if user is None:
        user = UserRow(email=email, name=name or email.split("@")[0], role=role)
        session.add(user)
        session.flush()
    elif _RANK[check_role(role)] > _RANK[check_role(user.role)]:
        user.role = role
    return user


def create_token(
    session: Session,
    *,
    user: UserRow,
    name: str,
    role: Role,
    ttl: timedelta | None,
    now: datetime | None = None,
) -> IssuedToken:
    """Issue a token of at most the user's role and the admins' maximum lifetime; only its hash is stored."""
    check_role(role)
    if _RANK[role] > _RANK[check_role(user.role)]:
        raise PermissionDenied(f"a {user.role} cannot create a {role} token")
    if not user.is_active:
        raise PermissionDenied(f"the user {user.email} is disabled: enable them first (PATCH /api/users/{user.id})")
    limit = max_token_ttl(session)
    if limit is not None and (ttl is None or ttl > limit):
        raise TokenPolicyError(f"a token may live at most {limit.days} days (the admins' policy, "
                               "PUT /api/auth/policy): ask for fewer days")
    now = now or datetime.now(UTC)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiTokenRow(
        user_id=user.id,
        name=name,
        prefix=token[:10],
        token_hash=hash_token(token),
        scope=role,
        created_at=now,
        expires_at=now + ttl if ttl else None,
    )
    session.add(row)
    session.flush()
    return IssuedToken(id=row.id, token=token, name=name, role=role, prefix=row.prefix, expires_at=row.expires_at)


def authenticate(session: Session, token: str, *, now: datetime | None = None) -> Principal:
    """The principal behind a bearer token, or AuthError saying why not."""
    if not token.startswith(TOKEN_PREFIX):
        raise AuthError("malformed token: Headroom tokens start with 'hdr_'; create one with `headroom token create`")
    # one query on every request: the token, its user and the admins' maximum lifetime
    found = session.execute(
        select(ApiTokenRow, AuthPolicyRow.max_token_ttl_days)
        .outerjoin(AuthPolicyRow, AuthPolicyRow.id == 1)
        .options(joinedload(ApiTokenRow.user))
        .where(ApiTokenRow.token_hash == hash_token(token))
    ).first()
    now = now or datetime.now(UTC)
    if found is None:
        raise AuthError("unknown token: it may have been mistyped; create one with `headroom token create`")
    row, max_days = found
    if row.revoked_at is not None:
        raise AuthError(f"token {row.prefix}… was revoked; ask an admin for a new one")
    limit = timedelta(days=max_days) if max_days else None
    expires = min((t for t in (row.expires_at, limit and row.created_at + limit) if t), default=None)
    if expires is not None and expires <= now:
        raise AuthError(f"token {row.prefix}… expired on {expires:%Y-%m-%d}; ask an admin for a new one")
    if not row.user.is_active:
        raise AuthError(f"the user {row.user.email} is disabled, and so are their tokens; ask an admin")
    if row.last_used_at is None or abs(now - row.last_used_at) >= LAST_USED_RESOLUTION:
        row.last_used_at = now  # at most one write a minute per token: a read stays a read
    return Principal(
        user_id=row.user.id,
        email=row.user.email,
        name=row.user.name,
        role=lower_role(check_role(row.scope), check_role(row.user.role)),  # a demotion applies at once
        token_id=row.id,
        token_name=row.name,
    )


def revoke_token(session: Session, *, token_id: int, now: datetime | None = None) -> ApiTokenRow:
    row = session.get(ApiTokenRow, token_id)
    if row is None:
        raise KeyError(f"no token with id {token_id}")
    if row.revoked_at is None:
        row.revoked_at = now or datetime.now(UTC)
    return row


def list_tokens(session: Session) -> list[ApiTokenRow]:
    return list(session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.id)))
