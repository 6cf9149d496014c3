"""Schemas of the readiness probe."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class ReadyRead(BaseModel):
    status: Literal["ready", "not ready"]
    down: list[str] = Field(description="Dependencies that did not answer: database, metric_store, broker.")
    checks: dict[str, str] = Field(description='Each dependency: "ok" or why it is down.')
