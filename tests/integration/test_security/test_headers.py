"""Security headers on every response, and /docs from local assets with no inline script."""

from __future__ import annotations

import re

import pytest

from api.headers import CONTENT_SECURITY_POLICY
from tests.integration.test_security.conftest import Api


@pytest.mark.parametrize(("path", "status"), [
    ("/api/health", 200), ("/api/me", 401), ("/api/nope", 404), ("/api/openapi.json", 200), ("/docs", 200),
    ("/docs/start.js", 200), ("/docs/assets/swagger-ui-bundle.js", 200), ("/", 404), ("/metrics", 200),
])
def test_every_response_carries_the_security_headers(api: Api, path: str, status: int) -> None:
    r = api.client.get(path)
    assert r.status_code == status
    assert r.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["referrer-policy"] == "no-referrer"


def test_the_policy_forbids_inline_script_and_framing() -> None:
    script_src = re.search(r"script-src ([^;]+)", CONTENT_SECURITY_POLICY)
    assert script_src and script_src.group(1).split() == ["'self'"]
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY


def test_docs_load_only_local_scripts(api: Api) -> None:
    page = api.client.get("/docs").text
    sources = re.findall(r'<script src="([^"]+)"', page)
    assert sources == ["/docs/assets/swagger-ui-bundle.js", "/docs/start.js"]
    assert not re.search(r"<script>[^<]", page) and "http" not in page  # nothing inline, nothing remote
    assert "/api/openapi.json" in api.client.get("/docs/start.js").text
    assert api.client.get("/redoc").status_code == 404  # ReDoc loads from a CDN: not served
