"""Every error is JSON {"detail": message}: validation, unknown series, unreachable stores, crashes."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api.schemas import ErrorRead
from services.metrics import MetricStoreError, UnknownSeriesError

log = logging.getLogger("headroom.api")


def _where(loc: tuple[object, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"query", "path", "body", "header"}:
        kind = {"query": "query parameter", "path": "path parameter", "body": "body field", "header": "header"}[
            parts[0]
        ]
        return f"{kind} '{'.'.join(parts[1:])}'" if len(parts) > 1 else kind
    return ".".join(parts)


def _pattern_hint(value: object, pattern: str) -> str:
    """A readable refusal of a value that missed a pattern of alternatives, ^-?(a|b|tag:.+)$, else the pattern."""
    found = re.fullmatch(r"\^(-\?)?\(([^()]*)\)\$", pattern)
    if not found:
        return f"{value!r} does not match {pattern}"
    options = ", ".join(o.replace(".+", "<key>") for o in found.group(2).split("|"))
    return f"{value!r} is not accepted: use one of {options}" + (" (prefix - for descending)" if found.group(1) else "")


def validation_message(exc: RequestValidationError) -> str:
    msgs = []
    for err in exc.errors():
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if err.get("type") == "string_pattern_mismatch":
            msg = _pattern_hint(err.get("input"), str((err.get("ctx") or {}).get("pattern", "")))
        msgs.append(f"{_where(tuple(err.get('loc', ())))}: {msg}")
    return "; ".join(msgs)


ERROR_STATUSES = {
    400: "The body cannot be parsed (not JSON, or not multipart form data).",
    401: "No bearer token, or an unknown, expired, revoked or disabled one.",
    403: "The token's role is too low for this request.",
    404: "No such resource, series, job or route.",
    409: "The request conflicts with what is stored (a taken name, an invalid status change).",
    405: "The method is not allowed on this path; the Allow header lists those that are.",
    413: "The request body is larger than allowed.",
    422: "A parameter, field or CSV line is invalid; the message names it.",
    429: "Too many requests (see Retry-After) or too many ad-hoc jobs at once.",
}


def error_responses() -> dict[int | str, dict[str, Any]]:
    """The error statuses every /api route documents, with the shape actually sent ({"detail": str})."""
    return {code: {"model": ErrorRead, "description": text} for code, text in ERROR_STATUSES.items()}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": validation_message(exc)})

    @app.exception_handler(UnknownSeriesError)
    async def _unknown_series(_: Request, exc: UnknownSeriesError) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(exc)})

    @app.exception_handler(MetricStoreError)
    async def _store_down(_: Request, exc: MetricStoreError) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": str(exc)})

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        ref = uuid.uuid4().hex[:12]
        log.exception("unhandled error %s on %s %s", ref, request.method, request.url.path)
        return JSONResponse(
            status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
            content={"detail": f"internal error (reference {ref}); the server log has the details"},
        )
