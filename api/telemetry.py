"""Per request: an X-Request-ID in and out, a latency observation by route template, one access-log line."""

from __future__ import annotations

import logging
import time

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.logs import accept_request_id, request_id_var
from services.telemetry import HTTP_REQUEST_DURATION, deployment_registry

log = logging.getLogger("headroom.access")
REQUEST_ID_HEADER = "x-request-id"
QUIET_ROUTES = {"/metrics", "/api/health", "/api/ready"}


class RequestTelemetryMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware), so streaming responses and background tasks are untouched."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(REQUEST_ID_HEADER.encode())
        request_id = accept_request_id(incoming.decode("latin-1") if incoming else None)
        token = request_id_var.set(request_id)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (REQUEST_ID_HEADER.encode(), request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            template = route_template(scope)
            HTTP_REQUEST_DURATION.labels(route=template, method=scope["method"], status=str(status)).observe(elapsed)
            # scrapes and probes every few seconds would drown the requests people make
            level = logging.DEBUG if template in QUIET_ROUTES else logging.INFO
            log.log(level, "%s %s %d %.1fms", scope["method"], scope["path"], status, elapsed * 1000,
                    extra={"route": template, "status": status, "duration_ms": round(elapsed * 1000, 2)})
            request_id_var.reset(token)


def route_template(scope: Scope) -> str:
    """The matched route as a template (/api/series/{series_id}), never the raw path, so label values stay few.

    Routes of an included router know only their own part of the path; the prefix in front of it is what is
    left of the request path once the route's own part, filled with the request's parameters, is cut off.
    """
    route = scope.get("route")
    own = getattr(route, "path", None)
    if own is None:
        return "/assets" if scope["path"].startswith("/assets/") else "unmatched"
    path_format = getattr(route, "path_format", own)
    try:
        filled = path_format.format(**scope.get("path_params", {}))
    except (KeyError, IndexError, ValueError):
        return str(own)
    path: str = scope["path"]
    prefix = path[: len(path) - len(filled)] if filled and path.endswith(filled) else ""
    return prefix + own


def install_telemetry(app: FastAPI) -> None:
    """The middleware and GET /metrics (Prometheus text format; unauthenticated, like /api/health)."""
    app.add_middleware(RequestTelemetryMiddleware)
    registry = deployment_registry(app.state.settings)

    @app.get("/metrics", include_in_schema=False)
    def metrics() -> Response:
        body = generate_latest(REGISTRY) + generate_latest(registry)
        return Response(content=body, media_type=CONTENT_TYPE_LATEST)
