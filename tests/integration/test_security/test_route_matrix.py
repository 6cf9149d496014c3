"""Every route × every caller (no token, a malformed one, a revoked one, viewer, editor, admin), generated from the
route table: a route added without a rule here fails, and every cell is asserted."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select

from services.auth import revoke_token
from services.db.engine import session_scope
from services.db.models import ApiTokenRow
from tests.integration.test_security.conftest import Api, issue_token

PUBLIC, VIEWER, EDITOR, ADMIN = "public", "viewer", "editor", "admin"
RULES: dict[str, str] = {
    "GET /api/health": PUBLIC, "GET /api/ready": PUBLIC,
    "GET /api/resources": VIEWER, "GET /api/resources/{resource_pk}": VIEWER, "GET /api/fleet": VIEWER,
    "GET /api/series": VIEWER, "GET /api/metrics": VIEWER, "GET /api/spend": VIEWER,
    "GET /api/spend/budgets": VIEWER, "GET /api/spend/commitment-coverage": VIEWER,
    "POST /api/forecasts/adhoc": VIEWER, "GET /api/forecasts/adhoc/jobs/{job_id}": VIEWER,
    "GET /api/forecasts": VIEWER, "GET /api/forecasters": VIEWER, "GET /api/models": VIEWER,
    "POST /api/models/rollback": EDITOR,
    "GET /api/training/runs": VIEWER, "GET /api/accuracy": VIEWER, "GET /api/accuracy/models": VIEWER,
    "GET /api/anomalies": VIEWER,
    "GET /api/recommendations/kinds": VIEWER, "GET /api/recommendations": VIEWER,
    "GET /api/recommendations/skipped": VIEWER, "POST /api/recommendations/refresh": EDITOR,
    "GET /api/recommendations/{rec_id}": VIEWER, "POST /api/recommendations/{rec_id}/accept": EDITOR,
    "POST /api/recommendations/{rec_id}/implement": EDITOR, "POST /api/recommendations/{rec_id}/dismiss": EDITOR,
    "POST /api/recommendations/{rec_id}/verify": EDITOR,
    "GET /api/runway": VIEWER, "GET /api/scenarios": VIEWER, "POST /api/scenarios": EDITOR,
    "GET /api/scenarios/{scenario_id}": VIEWER, "DELETE /api/scenarios/{scenario_id}": EDITOR,
    "GET /api/scenarios/{scenario_id}/compare": VIEWER, "GET /api/summary": VIEWER,
    "GET /api/alerts/channels": VIEWER, "PUT /api/alerts/channels": ADMIN,
    "DELETE /api/alerts/channels/{name}": ADMIN, "POST /api/alerts/channels/{name}/test": ADMIN,
    "GET /api/alerts/rules": VIEWER, "POST /api/alerts/rules": ADMIN, "PATCH /api/alerts/rules/{name}": ADMIN,
    "DELETE /api/alerts/rules/{name}": ADMIN,
    "GET /api/alerts": VIEWER, "GET /api/alerts/silences": VIEWER, "POST /api/alerts/silences": EDITOR,
    "DELETE /api/alerts/silences/{silence_id}": EDITOR, "GET /api/alerts/deliveries": VIEWER,
    "GET /api/sources": VIEWER, "GET /api/me": VIEWER,
    "GET /api/tokens": ADMIN, "POST /api/tokens": ADMIN, "DELETE /api/tokens/{token_id}": ADMIN,
    "GET /api/users": ADMIN, "PATCH /api/users/{user_id}": ADMIN,
    "GET /api/auth/policy": ADMIN, "PUT /api/auth/policy": ADMIN, "GET /api/audit": ADMIN,
    "GET /api/autoscaling/groups": VIEWER, "GET /api/autoscaling/groups/{group_pk}/plan": VIEWER,
}
CALLERS = ("none", "malformed", "revoked", VIEWER, EDITOR, ADMIN)
RANK = {VIEWER: 0, EDITOR: 1, ADMIN: 2}
PARAMS = {"resource_pk": "999999", "rec_id": "999999", "scenario_id": "999999", "silence_id": "999999",
          "token_id": "999999", "user_id": "999999", "group_pk": "999999", "job_id": "f" * 32, "name": "no-such-name"}


def _operations(api: Api) -> Iterator[str]:
    for path, methods in api.client.get("/api/openapi.json").json()["paths"].items():
        for method in methods:
            yield f"{method.upper()} {path}"


@pytest.fixture(scope="module")
def matrix_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, dict[str, dict[str, str]]]]:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from services.db.migrate import upgrade
    from tests.integration.test_security.conftest import ROLES, make_settings

    settings = make_settings(tmp_path_factory.mktemp("matrix"),
                             limits={"per_token": "100000/minute", "per_address": "100000/minute",
                                     "failed_auth": "100000/minute"})
    upgrade(settings.database_url)
    tokens = {role: issue_token(settings.database_url, role) for role in ROLES}
    revoked = issue_token(settings.database_url, ADMIN, email="gone@example.com")
    with session_scope(settings.database_url) as session:
        revoke_token(session, token_id=session.scalars(select(ApiTokenRow.id).order_by(ApiTokenRow.id.desc())).first()
                     or 0)
    headers = {"none": {}, "malformed": {"Authorization": "Bearer not-a-headroom-token"},
               "revoked": {"Authorization": f"Bearer {revoked}"},
               **{role: {"Authorization": f"Bearer {tokens[role]}"} for role in ROLES}}
    with TestClient(create_app(settings)) as client:
        yield Api(settings, client, tokens), headers


def test_every_route_has_a_rule(matrix_api: tuple[Api, dict[str, dict[str, str]]]) -> None:
    api, _ = matrix_api
    operations = set(_operations(api))
    assert operations - RULES.keys() == set(), "add these routes to RULES with the role they need"
    assert RULES.keys() - operations == set(), "these rules name routes that do not exist"


def _expect(rule: str, caller: str) -> Callable[[int, str], bool]:
    if rule == PUBLIC:
        return lambda status, _: status not in (401, 403)
    if caller in ("none", "malformed", "revoked"):
        return lambda status, _: status == 401
    if RANK[caller] < RANK[rule]:
        return lambda status, detail: status == 403 and f"needs the {rule} role" in detail
    return lambda status, _: status not in (401, 403) and status < 500


@pytest.mark.parametrize("operation", sorted(RULES))
def test_each_cell(matrix_api: tuple[Api, dict[str, dict[str, str]]], operation: str) -> None:
    api, headers = matrix_api
    method, path = operation.split(" ", 1)
    url = path.format(**{k: v for k, v in PARAMS.items() if "{" + k + "}" in path})
    for caller in CALLERS:
        body = {} if method in ("POST", "PUT", "PATCH") else None
        r = api.client.request(method, url, json=body, headers=headers[caller], params={"series_id": "no/such"})
        body_json = r.json() if r.headers.get("content-type", "").startswith("application/json") else None
        detail = str(body_json.get("detail", "")) if isinstance(body_json, dict) else ""
        assert _expect(RULES[operation], caller)(r.status_code, detail), (caller, r.status_code, r.text[:300])
