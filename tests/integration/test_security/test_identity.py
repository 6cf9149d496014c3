"""Identity lifecycle: demotion and disabling apply to existing tokens at once, the admins' maximum token lifetime,
channels and rules for admins only, and every admin action in the audit log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from services.auth import create_token, ensure_user
from services.db.engine import session_scope
from services.db.models import ApiTokenRow, UserRow
from tests.integration.test_security.conftest import Api, issue_token


def _user_id(api: Api, email: str) -> int:
    users = api.client.get("/api/users", headers=api.as_("admin")).json()["items"]
    return next(u["id"] for u in users if u["email"] == email)


def test_a_demoted_users_tokens_lose_the_role_at_once(api: Api) -> None:
    editor = api.as_("editor")
    assert api.client.post("/api/recommendations/refresh", headers=editor).status_code != 403
    r = api.client.patch(f"/api/users/{_user_id(api, 'editor@example.com')}", json={"role": "viewer"},
                         headers=api.as_("admin"))
    assert r.status_code == 200 and r.json()["role"] == "viewer"
    assert api.client.get("/api/me", headers=editor).json()["role"] == "viewer"
    refused = api.client.post("/api/recommendations/refresh", headers=editor)
    assert refused.status_code == 403 and "needs the editor role" in refused.json()["detail"]


def test_a_disabled_user_is_refused_at_once_and_gets_no_new_token(api: Api) -> None:
    uid = _user_id(api, "viewer@example.com")
    assert api.client.patch(f"/api/users/{uid}", json={"is_active": False}, headers=api.as_("admin")).status_code == 200
    r = api.client.get("/api/me", headers=api.as_("viewer"))
    assert r.status_code == 401 and "disabled" in r.json()["detail"]
    new = api.client.post("/api/tokens", json={"name": "again", "email": "viewer@example.com"},
                          headers=api.as_("admin"))
    assert new.status_code == 403 and "disabled" in new.json()["detail"]
    api.client.patch(f"/api/users/{uid}", json={"is_active": True}, headers=api.as_("admin"))
    assert api.client.get("/api/me", headers=api.as_("viewer")).status_code == 200


def test_an_admin_cannot_lock_themself_out(api: Api) -> None:
    r = api.client.patch(f"/api/users/{_user_id(api, 'admin@example.com')}", json={"is_active": False},
                         headers=api.as_("admin"))
    assert r.status_code == 409 and "yourself" in r.json()["detail"]


def test_the_maximum_token_lifetime_bounds_new_and_old_tokens(api: Api) -> None:
    with session_scope(api.settings.database_url) as session:  # a token issued 40 days ago, without expiry
        user = ensure_user(session, email="old@example.com", role="viewer")
        old = create_token(session, user=user, name="old", role="viewer", ttl=None,
                           now=datetime.now(UTC) - timedelta(days=40)).token
    assert api.client.get("/api/me", headers={"Authorization": f"Bearer {old}"}).status_code == 200
    r = api.client.put("/api/auth/policy", json={"max_token_ttl_days": 30}, headers=api.as_("admin"))
    assert r.status_code == 200 and r.json() == {"max_token_ttl_days": 30}
    refused = api.client.get("/api/me", headers={"Authorization": f"Bearer {old}"})
    assert refused.status_code == 401 and "expired" in refused.json()["detail"]
    too_long = api.client.post("/api/tokens", json={"name": "long", "expires_in_days": 90}, headers=api.as_("admin"))
    assert too_long.status_code == 422 and "at most 30 days" in too_long.json()["detail"]
    default = api.client.post("/api/tokens", json={"name": "default"}, headers=api.as_("admin")).json()
    lifetime = datetime.fromisoformat(default["expires_at"]) - datetime.now(UTC)
    assert timedelta(days=29) < lifetime <= timedelta(days=30)
    assert api.client.get("/api/auth/policy", headers=api.as_("editor")).status_code == 403


def test_channels_and_rules_are_for_admins(api: Api) -> None:
    channel = {"name": "ops", "type": "webhook", "config": {"url": "https://example.com/h", "secrets": []}}
    rule = {"name": "cpu", "kind": "capacity", "channels": [], "params": {"threshold": 85}}
    for method, path, body in [("PUT", "/api/alerts/channels", channel), ("DELETE", "/api/alerts/channels/ops", None),
                               ("POST", "/api/alerts/channels/ops/test", None), ("POST", "/api/alerts/rules", rule),
                               ("PATCH", "/api/alerts/rules/cpu", {"enabled": False}),
                               ("DELETE", "/api/alerts/rules/cpu", None)]:
        r = api.client.request(method, path, json=body, headers=api.as_("editor"))
        assert r.status_code == 403 and "admin role" in r.json()["detail"], (method, path, r.text)


def test_admin_actions_land_in_the_audit_log(api: Api) -> None:
    admin = api.as_("admin")
    token_id = api.client.post("/api/tokens", json={"name": "ci", "email": "ci@example.com", "role": "editor"},
                               headers=admin).json()["id"]
    api.client.delete(f"/api/tokens/{token_id}", headers=admin)
    api.client.patch(f"/api/users/{_user_id(api, 'editor@example.com')}", json={"role": "viewer"}, headers=admin)
    api.client.put("/api/auth/policy", json={"max_token_ttl_days": 60}, headers=admin)
    api.client.post("/api/alerts/rules", json={"name": "cpu", "kind": "capacity", "channels": [],
                                               "params": {"threshold": 85}}, headers=admin)
    log = api.client.get("/api/audit", headers=admin).json()["items"]
    assert [(e["action"], e["target"]) for e in log] == [
        ("rule.create", "cpu"), ("policy.update", "tokens"), ("user.update", "editor@example.com"),
        ("token.revoke", "ci@example.com/ci"), ("token.create", "ci@example.com/ci"),
    ]
    assert {e["actor"] for e in log} == {"admin@example.com"} and log[2]["detail"] == {"role": "viewer"}
    assert {e["token_name"] for e in log} == {"admin-token"} and all(e["at"] for e in log)
    assert "hdr_" not in str(log)  # the created token itself is never logged
    assert api.client.get("/api/audit", headers=api.as_("editor")).status_code == 403


def test_a_token_of_an_unknown_user_row_state_is_still_checked(api: Api) -> None:
    """Disabling straight in the database (e.g. by a script) takes effect on the next request too."""
    token = issue_token(api.settings.database_url, "viewer", email="script@example.com")
    with session_scope(api.settings.database_url) as session:
        user = session.scalars(select(UserRow).where(UserRow.email == "script@example.com")).one()
        user.is_active = False
        assert session.scalars(select(ApiTokenRow).where(ApiTokenRow.user_id == user.id)).one().revoked_at is None
    assert api.client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
