"""Secrets stay secret: masked for every role in every response, sealed in the database, rotatable; files 0600."""

from __future__ import annotations

import base64
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select, text
from typer.testing import CliRunner

from cli.main import cli
from services.alerting.admin import reseal_channels
from services.db.engine import engine_for, session_scope
from services.db.models import AlertChannelRow
from services.settings import get_settings
from tests.integration.test_security.conftest import Api

FIRST_KEY = "the-first-key-of-this-test"  # noqa: S105 - a test key
MASK = "***"
WHSEC = "whsec_" + base64.b64encode(b"k" * 32).decode()
SECRETS = ["SECRETQ", "SLACKPATH", "GRAFANATOKEN", "AMTOKEN", "PDROUTINGKEY", "SMTPPASSWORD", WHSEC]
CHANNELS = [
    {"name": "wh", "type": "webhook", "config": {"url": "http://127.0.0.1:9/hook?token=SECRETQ", "secrets": [WHSEC]}},
    {"name": "slack", "type": "slack", "config": {"webhook_url": "http://127.0.0.1:9/services/SLACKPATH"}},
    {"name": "graf", "type": "grafana", "config": {"url": "http://127.0.0.1:9/g", "token": "GRAFANATOKEN"}},
    {"name": "am", "type": "alertmanager", "config": {"url": "http://127.0.0.1:9/am?x=SECRETQ", "token": "AMTOKEN"}},
    {"name": "pd", "type": "pagerduty", "config": {"routing_key": "PDROUTINGKEY", "url": "http://127.0.0.1:9/pd"}},
    {"name": "mail", "type": "email", "config": {"host": "127.0.0.1", "port": 25, "username": "u",
                                                  "password": "SMTPPASSWORD", "from_addr": "a@example.com",
                                                  "to": ["b@example.com"]}},
]


@pytest.fixture
def with_channels(make_api: Callable[..., Api]) -> Api:
    api = make_api(alerts={"allowed_hosts": ["127.0.0.1"]}, secret_key=FIRST_KEY)
    for channel in CHANNELS:
        r = api.client.put("/api/alerts/channels", json=channel, headers=api.as_("admin"))
        assert r.status_code == 200, r.text
    api.client.post("/api/alerts/channels/wh/test", headers=api.as_("admin"))  # a delivery log entry too
    return api


def _get_routes(api: Api) -> list[str]:
    paths = api.client.get("/api/openapi.json").json()["paths"]
    return [path for path, methods in paths.items() if "get" in methods and "{" not in path]


@pytest.mark.parametrize("role", ["viewer", "editor", "admin"])
def test_no_role_sees_a_secret_in_any_response(with_channels: Api, role: str) -> None:
    api = with_channels
    bodies = {path: api.client.get(path, headers=api.as_(role), params={"series_id": "x"}).text
              for path in _get_routes(api)}
    assert len(bodies) > 20
    for path, body in bodies.items():
        leaked = [s for s in SECRETS if s in body]
        assert not leaked, f"{path} shows {leaked}"
    channels = {c["name"]: c["config"] for c in api.client.get("/api/alerts/channels", headers=api.as_(role)).json()}
    assert channels["wh"]["url"] == "http://127.0.0.1:9/…" and channels["wh"]["secrets"] == ["***"]
    assert channels["am"] == {"name": "am", "type": "alertmanager", "url": "http://127.0.0.1:9/…", "token": "***"}
    assert channels["mail"]["password"] == MASK and channels["mail"]["to"] == ["b@example.com"]


def test_the_database_holds_no_secret_in_plain_text(with_channels: Api) -> None:
    url = with_channels.settings.database_url
    with engine_for(url).connect() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    path = Path(url.removeprefix("sqlite:///"))
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
    assert b"PDROUTINGKEY" not in raw  # the check below would pass on an empty file too
    for secret in SECRETS:
        assert secret.encode() not in raw, secret
    assert b"/services/" not in raw and b"hook?" not in raw  # nor the paths of the URLs (the audit log keeps hosts)


def test_a_new_key_needs_a_rotation_with_the_old_one(with_channels: Api) -> None:
    settings = with_channels.settings
    settings.alerts.seal_with(type(settings.secret_key)("the-second-key"))
    with session_scope(settings.database_url) as session:
        from services.alerting.admin import redacted_config

        row = session.scalars(select(AlertChannelRow).where(AlertChannelRow.name == "wh")).one()
        assert redacted_config(row, settings.alerts) == {"name": "wh", "type": "webhook"}  # unreadable, not a crash
        assert reseal_channels(session, settings.alerts, old_keys=(FIRST_KEY,)) == len(CHANNELS)
        assert redacted_config(row, settings.alerts)["secrets"] == ["***"]


def test_the_rotate_command(with_channels: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADROOM_DATABASE_URL", with_channels.settings.database_url)
    monkeypatch.setenv("HEADROOM_SECRET_KEY", "the-third-key")
    get_settings.cache_clear()
    try:
        wrong = CliRunner().invoke(cli, ["secrets", "rotate", "--old-key", "not-it"])
        assert wrong.exit_code == 2 and "headroom secrets rotate --old-key" in wrong.output
        ok = CliRunner().invoke(cli, ["secrets", "rotate", "--old-key", FIRST_KEY])
        assert ok.exit_code == 0, ok.output
        assert f"{len(CHANNELS)} channel(s)" in ok.output
    finally:
        get_settings.cache_clear()


def test_sqlite_files_are_created_owner_only(tmp_path: Path) -> None:
    engine_for(f"sqlite:///{tmp_path / 'fresh' / 'headroom.db'}").connect().close()
    assert stat.S_IMODE((tmp_path / "fresh" / "headroom.db").stat().st_mode) == 0o600
    old = tmp_path / "old.db"
    old.write_bytes(b"")
    old.chmod(0o644)
    engine_for(f"sqlite:///{old}").connect().close()
    assert stat.S_IMODE(old.stat().st_mode) == 0o600
