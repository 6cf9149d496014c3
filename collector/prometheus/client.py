"""A small Prometheus HTTP API client: retried GETs, instant queries and range queries split into chunks."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from collector.base import (
    CollectorError,
    EndpointUnreachableError,
    MissingCredentialsError,
    PermissionDeniedError,
    ThrottledError,
)
from collector.config import PrometheusSourceSettings

log = logging.getLogger(__name__)
MAX_POINTS_PER_SERIES = 11_000  # Prometheus refuses range queries resolving more points than this per series
RETRY_STATUSES = frozenset({429, 502, 503, 504})


@dataclass
class PromSeries:
    """One series of a query result: its labels and (epoch seconds, value) points."""

    labels: dict[str, str]
    points: list[tuple[int, float]] = field(default_factory=list)


def chunk_range(start: int, end: int, step: int, max_points: int = 10_000) -> list[tuple[int, int]]:
    """Split the evaluation grid start, start+step, ..., <= end into (first, last) pieces of <= max_points.

    Both ends are inclusive, as query_range evaluates them; a piece starts one step after the previous
    one ends, so no timestamp is asked for twice and none is skipped.
    """
    if step <= 0 or max_points <= 0:
        raise ValueError("step and max_points must be positive")
    if end < start:
        return []
    span = step * (max_points - 1)
    chunks = []
    first = start
    while first <= end:
        last = min(first + span, first + (end - first) // step * step)
        chunks.append((first, last))
        first = last + step
    return chunks


def aligned_grid(since: int, until: int, step: int) -> tuple[int, int] | None:
    """First and last multiple of step in the half-open [since, until), or None when there is none."""
    first = math.ceil(since / step) * step
    last = (until - 1) // step * step
    return (first, last) if first <= last else None


class PrometheusClient:
    """GETs against one Prometheus, retried with exponential backoff on 429/5xx and connection errors."""

    def __init__(
        self,
        cfg: PrometheusSourceSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.cfg = cfg
        self.base_url = cfg.url.rstrip("/")
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=self.base_url, headers=self._auth_headers(), timeout=cfg.timeout_seconds, transport=transport
        )

    def _auth_headers(self) -> dict[str, str]:
        env = self.cfg.bearer_token_env
        if not env:
            return {}
        token = os.environ.get(env, "").strip()
        if not token:
            raise MissingCredentialsError(
                f"source {self.cfg.name}: environment variable {env} is empty or unset; export the Prometheus bearer"
                " token in it, or remove bearer_token_env"
            )
        return {"Authorization": f"Bearer {token}"}

    def close(self) -> None:
        self._http.close()

    def backoff(self, attempt: int, retry_after: str | None) -> float:
        """Seconds to wait before attempt+1: Retry-After when the server sent seconds, else 0.5 * 2^attempt."""
        wait = 0.5 * 2**attempt
        if retry_after:
            with contextlib.suppress(ValueError):  # an HTTP date: keep our own backoff
                wait = float(retry_after)
        return max(0.0, min(wait, self.cfg.retry.max_backoff_seconds))

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """The `data` of a successful API response; specific CollectorErrors otherwise."""
        attempts = self.cfg.retry.max_attempts
        waited = 0.0
        for attempt in range(attempts):
            try:
                response = self._http.get(path, params=params)
            except httpx.TransportError as exc:
                if attempt + 1 >= attempts:
                    raise EndpointUnreachableError(
                        f"source {self.cfg.name}: cannot reach Prometheus at {self.base_url} after {attempts} attempts"
                        f" ({type(exc).__name__}); check the url and that the server is up"
                    ) from exc
                wait = self.backoff(attempt, None)
            else:
                if response.status_code not in RETRY_STATUSES:
                    return self._data(path, response)
                if attempt + 1 >= attempts:
                    raise ThrottledError(
                        f"source {self.cfg.name}: Prometheus at {self.base_url} answered {path} with HTTP"
                        f" {response.status_code} on all {attempts} attempts (waited {waited:.1f}s); retry later"
                    )
                wait = self.backoff(attempt, response.headers.get("Retry-After"))
            log.info("prometheus %s: attempt %d failed, retrying in %.1fs", path, attempt + 1, wait)
            waited += wait
            self._sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _data(self, path: str, response: httpx.Response) -> Any:
        where = f"source {self.cfg.name}: Prometheus at {self.base_url}"
        if response.status_code == 401:
            hint = (
                f"check the token in {self.cfg.bearer_token_env}"
                if self.cfg.bearer_token_env
                else ("set bearer_token_env to the environment variable holding a token")
            )
            raise MissingCredentialsError(f"{where} refused the credentials (HTTP 401); {hint}")
        if response.status_code == 403:
            raise PermissionDeniedError(
                f"{where} denied {path} (HTTP 403); grant the token read access to the query API"
            )
        try:
            body = response.json()
        except ValueError as exc:
            raise CollectorError(
                f"{where} answered {path} with HTTP {response.status_code} and no JSON; is the url a Prometheus?"
            ) from exc
        if response.status_code >= 400 or body.get("status") != "success":
            error = " ".join(str(body.get("error", "")).split())[:300]
            raise CollectorError(f"{where} rejected {path} (HTTP {response.status_code}): {error}")
        return body.get("data")

    def buildinfo(self) -> dict[str, Any]:
        data = self.get("/api/v1/status/buildinfo")
        return data if isinstance(data, dict) else {}

    def query(self, expr: str, at: int | None = None) -> list[PromSeries]:
        """An instant query: one point per series (vector results) at `at` (default: now)."""
        params: dict[str, Any] = {"query": expr}
        if at is not None:
            params["time"] = at
        return parse_result(self.get("/api/v1/query", params))

    def query_range(self, expr: str, start: int, end: int, step: int) -> Iterator[PromSeries]:
        """Series of expr over the inclusive grid start..end, one request per chunk of <= max points.

        Chunks are yielded as they arrive: the same series may come back once per chunk.
        """
        for first, last in chunk_range(start, end, step, self.cfg.max_points_per_query):
            params = {"query": expr, "start": first, "end": last, "step": step}
            yield from parse_result(self.get("/api/v1/query_range", params))


def parse_result(data: Any) -> list[PromSeries]:
    """PromSeries from the `data` of /query or /query_range (vector or matrix); NaN/Inf points dropped."""
    if not isinstance(data, dict):
        return []
    series = []
    for item in data.get("result") or []:
        raw = item.get("values") or ([item["value"]] if "value" in item else [])
        points = [(int(float(ts)), float(v)) for ts, v in raw]
        points = [(ts, v) for ts, v in points if math.isfinite(v)]
        series.append(PromSeries(labels=dict(item.get("metric") or {}), points=points))
    return series
