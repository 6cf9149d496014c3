"""The FastAPI app factory: routers under /api, JSON errors, request ids and /metrics, the built dashboard at /."""

from __future__ import annotations

import gc
import re
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.routing import compile_path

from api.errors import error_responses, install_error_handlers
from api.gate import ApiGate
from api.headers import install_security
from api.routers import (
    adhoc,
    alerts,
    autoscaling,
    forecasts,
    health,
    recommendations,
    resources,
    series,
    sources,
    tokens,
    training,
    users,
)
from api.telemetry import install_telemetry
from services.logs import configure_logging
from services.settings import Settings, get_settings

OPENAPI_URL = "/api/openapi.json"
DESCRIPTION = (
    "Forecasts, capacity and cost for your cloud fleet. Authenticate with `Authorization: Bearer hdr_…` "
    "(create a token with `headroom token create`)."
)


def allowed_methods(app: FastAPI, path: str) -> list[str]:
    """The methods the API's schema lists for a concrete path (for 405 and Allow), none for an unknown path; a path
    spelled out in the schema (/recommendations/refresh) wins over a template it also fits (/recommendations/{id})."""
    table: list[tuple[str, re.Pattern[str], list[str]]] | None = getattr(app.state, "method_table", None)
    if table is None:
        table = [(template, compile_path(template)[0], sorted(m.upper() for m in methods))
                 for template, methods in app.openapi()["paths"].items()]
        app.state.method_table = table
    literal = [methods for template, _, methods in table if template == path]
    if literal:
        return literal[0]
    return sorted({m for _, pattern, methods in table if pattern.match(path) for m in methods})


def _mount_dashboard(app: FastAPI, dist: Path) -> None:
    index = dist / "index.html"
    if not index.is_file():

        @app.get("/", include_in_schema=False)
        def _no_dashboard() -> JSONResponse:
            return JSONResponse(
                status_code=404,
                content={"detail": f"dashboard not built: run `make frontend` (looked for {index})"},
            )

        return
    if (dist / "assets").is_dir():
        app.mount("/assets", StaticFiles(directory=dist / "assets"), name="assets")

    @app.get("/{path:path}", include_in_schema=False)
    def _spa(path: str) -> FileResponse:
        candidate = (dist / path).resolve()
        if path and candidate.is_file() and candidate.is_relative_to(dist.resolve()):
            return FileResponse(candidate)
        return FileResponse(index)


def serve_app() -> FastAPI:
    """The factory `headroom serve` runs in each API process (one, or --workers of them): logging, then the app."""
    settings = get_settings()
    configure_logging(settings)  # text or JSON with request ids; the API logs each request itself
    app = create_app(settings)
    # what is loaded by now lives as long as the process: keep it out of the collector's full passes, which would
    # otherwise walk every module, class and function object now and then, pausing every request in flight
    gc.collect()
    gc.freeze()
    return app


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    app = FastAPI(title="Headroom", description=DESCRIPTION, version="0.1.0", docs_url=None, redoc_url=None,
                  openapi_url=OPENAPI_URL)
    app.state.settings = settings
    install_security(app, openapi_url=OPENAPI_URL)
    install_error_handlers(app)
    app.add_middleware(ApiGate, settings=settings)
    install_telemetry(app)
    api = APIRouter(prefix="/api", responses=error_responses())
    for module in (health, resources, series, adhoc, forecasts, training, recommendations, alerts, sources, tokens,
                   users, autoscaling):
        api.include_router(module.router)

    @api.api_route("/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"], include_in_schema=False)
    def _unknown(request: Request, path: str) -> JSONResponse:
        allowed = allowed_methods(app, f"/api/{path}")
        if allowed and request.method not in allowed:
            return JSONResponse(status_code=405, headers={"Allow": ", ".join(allowed)}, content={
                "detail": f"{request.method} is not allowed on /api/{path}: use {', '.join(allowed)}"})
        return JSONResponse(status_code=404, content={
            "detail": f"no API route /api/{path}: see /docs (ids in paths are whole numbers)"})

    app.include_router(api)
    _mount_dashboard(app, settings.frontend_dist)
    return app
