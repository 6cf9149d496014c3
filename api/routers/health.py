"""GET /api/health: liveness, no authentication."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter

from api.schemas import HealthRead

router = APIRouter(tags=["health"])


def _version() -> str:
    try:
        return version("headroom")
    except PackageNotFoundError:
        return "0.0.0"


@router.get("/health", response_model=HealthRead)
def health() -> HealthRead:
    return HealthRead(status="ok", version=_version())
