"""Every error is JSON {"detail": message}: validation, unknown series, unreachable stores, crashes."""

from __future__ import annotations

import logging
import uuid

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

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


def validation_message(exc: RequestValidationError) -> str:
    msgs = []
    for err in exc.errors():
        msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        msgs.append(f"{_where(tuple(err.get('loc', ())))}: {msg}")
    return "; ".join(msgs)


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
