"""The API gate: bodies refused before they are read (no token, too large), rate limits with 429 and Retry-After."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from fastapi.testclient import TestClient

from api.app import create_app
from tests.integration.test_security.conftest import Api

GIGABYTE = 1 << 30


def _post_without_reading(app: Any, headers: list[tuple[bytes, bytes]]) -> tuple[list[dict[str, Any]], int]:
    """POST a declared 1 GB body straight to the ASGI app; returns the messages sent and how often it read."""
    sent: list[dict[str, Any]] = []
    reads = 0

    async def receive() -> dict[str, Any]:
        nonlocal reads
        reads += 1
        return {"type": "http.request", "body": b"x" * 65536, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/api/forecasts/adhoc", "raw_path": b"/api/forecasts/adhoc", "query_string": b"",
             "root_path": "", "client": ("203.0.113.9", 5555), "server": ("testserver", 80),
             "headers": [(b"host", b"testserver"), (b"content-length", str(GIGABYTE).encode()),
                         (b"content-type", b"multipart/form-data; boundary=x"), *headers]}
    asyncio.run(app(scope, receive, send))
    return sent, reads


def test_a_gigabyte_without_a_token_is_refused_before_a_byte_is_read(api: Api) -> None:
    sent, reads = _post_without_reading(create_app(api.settings), [])
    assert reads == 0
    assert sent[0]["status"] == 401
    assert b"missing bearer token" in sent[1]["body"]


def test_a_gigabyte_with_a_bad_token_is_refused_before_it_is_read(api: Api) -> None:
    sent, reads = _post_without_reading(create_app(api.settings), [(b"authorization", b"Bearer hdr_nope")])
    assert (reads, sent[0]["status"]) == (0, 401)
    assert b"unknown token" in sent[1]["body"]


def test_a_gigabyte_with_a_token_is_refused_by_its_declared_length(api: Api) -> None:
    sent, reads = _post_without_reading(create_app(api.settings),
                                        [(b"authorization", f"Bearer {api.tokens['viewer']}".encode())])
    assert (reads, sent[0]["status"]) == (0, 413)
    assert b"adhoc.max_upload_bytes" in sent[1]["body"]


def test_a_streamed_body_is_cut_off_at_the_limit(make_api: Callable[..., Api]) -> None:
    api = make_api(limits={"max_body_bytes": 2000})

    def chunks() -> Any:
        yield b'{"name": "'
        for _ in range(100):
            yield b"a" * 1000
        yield b'"}'

    r = api.client.post("/api/scenarios", content=chunks(), headers={**api.as_("editor"),
                                                                     "content-type": "application/json"})
    assert r.status_code == 413, r.text
    assert "larger than 2,000 bytes (limits.max_body_bytes)" in r.json()["detail"]


def test_bad_tokens_are_limited_apart_from_good_ones(make_api: Callable[..., Api]) -> None:
    api = make_api(limits={"failed_auth": "5/minute", "per_address": "1000/minute"})
    codes = [api.client.get("/api/me", headers={"Authorization": "Bearer hdr_guess"}).status_code for _ in range(8)]
    assert codes == [401] * 5 + [429] * 3
    refused = api.client.get("/api/me", headers={"Authorization": "Bearer hdr_guess"})
    assert int(refused.headers["retry-after"]) >= 1
    assert "failed authentications" in refused.json()["detail"]
    assert api.client.get("/api/me", headers=api.as_("viewer")).status_code == 200


def test_each_token_has_its_own_budget(make_api: Callable[..., Api]) -> None:
    api = make_api(limits={"per_token": "3/minute"})
    codes = [api.client.get("/api/me", headers=api.as_("viewer")).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    assert api.client.get("/api/me", headers=api.as_("editor")).status_code == 200


def test_each_address_has_a_budget_with_or_without_a_token(make_api: Callable[..., Api]) -> None:
    api = make_api(limits={"per_address": "4/minute"})
    codes = [api.client.get("/api/resources").status_code for _ in range(5)]
    assert codes == [401] * 4 + [429]
    assert api.client.get("/api/health").status_code == 200  # probes are never limited


def test_with_a_redis_broker_every_api_process_shares_the_counters(make_api: Callable[..., Api],
                                                                    redis_url: str) -> None:
    api = make_api(broker_url=redis_url, limits={"per_token": "3/minute"})
    other = TestClient(create_app(api.settings))  # a second replica of the API
    codes = [c.get("/api/me", headers=api.as_("admin")).status_code for c in (api.client, other, api.client, other)]
    assert codes == [200, 200, 200, 429]
