"""GET /api/health (alive) and GET /api/ready (database, metric store and broker reachable); no authentication."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from api.deps import SettingsDep
from api.schemas import HealthRead
from api.schemas_health import ReadyRead
from services.readiness import check_dependencies

router = APIRouter(tags=["health"])


def _version() -> str:
    try:
        return version("headroom")
    except PackageNotFoundError:
        return "0.0.0"


@router.get("/health", response_model=HealthRead)
def health() -> HealthRead:
    """The process is up and answering; says nothing of its dependencies (a liveness probe)."""
    return HealthRead(status="ok", version=_version())


@router.get("/ready", response_model=ReadyRead, responses={503: {"model": ReadyRead}})
async def ready(settings: SettingsDep) -> JSONResponse:
    """200 when the database, the metric store and the broker all answer; 503 naming what is down."""
    checks = await run_in_threadpool(check_dependencies, settings)
    down = sorted(name for name, outcome in checks.items() if outcome != "ok")
    body = ReadyRead(status="not ready" if down else "ready", down=down, checks=checks)
    return JSONResponse(status_code=503 if down else 200, content=body.model_dump())
