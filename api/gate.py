"""The ASGI gate before every /api request: who calls (once), rate limits, and a body cap enforced before reading."""

from __future__ import annotations

from dataclasses import dataclass

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi import HTTPException
from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.rate_limits import RateLimited, RateLimiter
from services.auth import AuthError, Principal, authenticate
from services.db.engine import session_scope
from services.settings import Settings

PRINCIPAL_SCOPE_KEY = "headroom.principal"  # a Principal, an AuthError, or absent (no Authorization header)
BODY_METHODS = {"POST", "PUT", "PATCH"}
UNLIMITED_PATHS = {"/api/health", "/api/ready"}  # probes every few seconds from the orchestrator
UPLOAD_PATHS = {"/api/forecasts/adhoc"}
# Token checks run on threads of their own, at most this many at once per process. On the shared thread pool, a
# burst of them waiting for a database connection would take every thread, while the requests holding the
# connections wait for a thread to finish: a deadlock broken only by the pool's 30 s timeout (api.deps).
GATE_THREADS = 4
MULTIPART_SLACK = 64 * 1024  # form fields and part headers around the uploaded file
MISSING_TOKEN = ("missing bearer token: send 'Authorization: Bearer hdr_…' (create one with "  # noqa: S105
                 "`headroom token create`)")


class BodyTooLarge(HTTPException):
    """The request body passed its limit while being read."""

    def __init__(self, limit: int, setting: str) -> None:
        super().__init__(413, f"the request body is larger than {limit:,} bytes ({setting}): send less, e.g. hourly "
                              "instead of per-minute rows, or raise the setting")


def bearer(headers: Headers) -> str | None:
    """The token of an `Authorization: Bearer …` header, or None when there is none."""
    value = headers.get("authorization")
    if not value:
        return None
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


@dataclass(frozen=True)
class Refusal:
    status: int
    detail: str
    headers: dict[str, str]

    def response(self) -> JSONResponse:
        return JSONResponse(status_code=self.status, content={"detail": self.detail}, headers=self.headers)


class ApiGate:
    """Pure ASGI middleware; the principal it finds is handed to `api.deps.get_principal` through the scope."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.limiter = RateLimiter(settings.limits, settings.broker_url)
        self._threads: CapacityLimiter | None = None  # made on first use, inside the event loop

    def _body_limit(self, path: str) -> tuple[int, str]:
        if path in UPLOAD_PATHS:
            return self.settings.adhoc.max_upload_bytes + MULTIPART_SLACK, "adhoc.max_upload_bytes"
        return self.settings.limits.max_body_bytes, "limits.max_body_bytes"

    def _authenticate(self, token: str) -> Principal:
        with session_scope(self.settings.database_url) as session:
            return authenticate(session, token)

    def _admit(self, scope: Scope, headers: Headers) -> Refusal | None:
        """Run in a worker thread: the rate limits and the token check (database and Redis calls block)."""
        address = scope["client"][0] if scope.get("client") else "unknown"
        token = bearer(headers)
        try:
            self.limiter.hit("address", address)
            if token is None:
                return None
            try:
                principal = self._authenticate(token)
            except AuthError as exc:  # a valid token still works from an address that sends bad ones
                self.limiter.hit("failed_auth", address)
                scope[PRINCIPAL_SCOPE_KEY] = exc
                return None
            scope[PRINCIPAL_SCOPE_KEY] = principal
            self.limiter.hit("token", str(principal.token_id))
        except RateLimited as exc:
            return Refusal(429, str(exc), {"Retry-After": str(exc.retry_after)})
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/api/") or path in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        if self._threads is None:
            self._threads = CapacityLimiter(GATE_THREADS)
        refusal = await anyio.to_thread.run_sync(self._admit, scope, headers, limiter=self._threads)
        if refusal is None and scope["method"] in BODY_METHODS:
            refusal = self._refuse_body(scope, headers)
        if refusal is not None:
            await refusal.response()(scope, receive, send)
            return
        await self.app(scope, self._capped(receive, *self._body_limit(path)), send)

    def _refuse_body(self, scope: Scope, headers: Headers) -> Refusal | None:
        """Every route taking a body needs a token: refuse without one before a byte is read, and refuse a
        declared length over the limit."""
        found = scope.get(PRINCIPAL_SCOPE_KEY)
        if not isinstance(found, Principal):
            detail = str(found) if isinstance(found, AuthError) else MISSING_TOKEN
            return Refusal(401, detail, {"WWW-Authenticate": "Bearer"})
        declared = headers.get("content-length", "")
        limit, setting = self._body_limit(scope["path"])
        if declared.isdigit() and int(declared) > limit:
            return Refusal(413, BodyTooLarge(limit, setting).detail, {})
        return None

    @staticmethod
    def _capped(receive: Receive, limit: int, setting: str) -> Receive:
        seen = 0

        async def capped() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit, setting)
            return message

        return capped
