"""Security headers on every response (a strict CSP without inline script, nosniff, no framing, no referrer) and
/docs: Swagger UI 5 from the swagger-ui-py package's local assets, started by a script file, not inline."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Scripts only from this origin and never inline; styles may be inline (the charts and Swagger UI set them).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
]

def _swagger_assets() -> Path:
    """swagger-ui-py's static folder, found without importing the package (it probes for web frameworks)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or spec.origin is None:
        raise RuntimeError("swagger-ui-py is not installed: pip install -e . installs it (pyproject.toml)")
    return Path(spec.origin).parent / "static"


DOCS_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{title} - API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/start.js"></script></body>
</html>"""
DOCS_START = """window.ui = SwaggerUIBundle({url: %r, dom_id: "#swagger-ui", deepLinking: true});"""


def with_security_headers(app: ASGIApp) -> ASGIApp:
    """Pure ASGI middleware: the headers on every HTTP response that does not set them itself."""

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *((n, v) for n, v in SECURITY_HEADERS if n not in present)]
            await send(message)

        await app(scope, receive, send_with_headers if scope["type"] == "http" else send)

    return guarded


def install_security(app: FastAPI, *, openapi_url: str) -> None:
    """The headers middleware and a /docs page whose every script is a local file."""
    app.add_middleware(with_security_headers)
    app.mount("/docs/assets", StaticFiles(directory=_swagger_assets()), name="swagger-assets")

    @app.get("/docs", include_in_schema=False)
    def _docs() -> HTMLResponse:
        return HTMLResponse(DOCS_PAGE.format(title=app.title))

    @app.get("/docs/start.js", include_in_schema=False)
    def _docs_start() -> Response:
        return Response(DOCS_START % openapi_url, media_type="text/javascript")
