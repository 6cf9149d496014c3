"""API schemas of identity: users (role, active), the token policy and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import RoleName


class UserAdminRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    email: str
    name: str
    role: RoleName
    is_active: bool
    created_at: datetime


class UserPage(BaseModel):
    items: list[UserAdminRead]


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: RoleName | None = Field(None, description="Promote or demote; every token of the user follows at once.")
    is_active: bool | None = Field(None, description="false disables the user: their tokens are refused at once.")


class TokenPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)

    max_token_ttl_days: int | None = Field(
        None, ge=1, le=3650, description="Longest lifetime of any token, existing ones too; null: no limit."
    )


class AuditRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor: str
    token_name: str
    action: str
    target: str
    detail: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditRead]
