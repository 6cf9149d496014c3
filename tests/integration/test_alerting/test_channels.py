"""Each channel against a loopback receiver in the destination's documented format; safety at send time."""

from __future__ import annotations

import base64
import os
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from standardwebhooks import Webhook

from services.alerting.base import AlertEvent, Notification
from services.alerting.channels import build_channel, http_client
from services.alerting.config import CHANNEL_ADAPTER, AlertingSettings
from services.alerting.safety import UnsafeDestinationError, check_url
from tests.integration.test_alerting.conftest import alert_settings
from tests.integration.test_alerting.receivers import Answer, Receiver, self_signed

pytestmark = pytest.mark.integration


def alert(n: int, status: str = "firing") -> AlertEvent:
    return AlertEvent(fingerprint=f"fp{n:04d}", rule="cpu-high", kind="capacity", severity="critical", status=status,
                      subject=f"i-{n:04d}/cpu_utilization", summary="cpu_utilization reaches 80 at p90 in 3.0 days "
                      + "x" * 40, value=91.5, labels={"resource_id": f"i-{n:04d}"}, starts_at="2026-11-23T10:00:00Z",
                      ends_at="2026-11-23T12:00:00Z" if status == "resolved" else None)


def notification(n_alerts: int = 2, status: str = "firing", event_id: str = "msg_0001") -> Notification:
    return Notification(event_id=event_id, rule="cpu-high", severity="critical", created_at="2026-11-23T11:00:00Z",
                        alerts=[alert(i, status) for i in range(n_alerts)])


def send(config: dict[str, object], note: Notification, settings: AlertingSettings | None = None):  # type: ignore[no-untyped-def]
    settings = settings or alert_settings()
    with http_client(settings) as client:
        return build_channel(CHANNEL_ADAPTER.validate_python(config), settings, client).send(note)


@pytest.fixture
def whsecs() -> Iterator[list[str]]:
    yield ["whsec_" + base64.b64encode(os.urandom(32)).decode() for _ in range(2)]


def test_slack_block_kit_within_limits(receiver: Receiver) -> None:
    url = f"{receiver.url}/services/T0/B0/SECRETPART"
    result = send({"type": "slack", "name": "s", "webhook_url": url}, notification(120))
    assert result.ok and result.status_code == 200
    body = receiver.requests[0].json()
    assert receiver.requests[0].path == "/services/T0/B0/SECRETPART"
    assert len(body["blocks"]) == 50 and body["blocks"][0]["type"] == "header"
    assert len(body["blocks"][0]["text"]["text"]) <= 150
    assert all(len(b["text"]["text"]) <= 3000 for b in body["blocks"] if b["type"] == "section")
    assert "and 72 more alerts" in body["blocks"][-1]["elements"][0]["text"]
    assert body["text"].startswith("[FIRING] cpu-high")


def test_slack_errors_never_show_the_webhook_secret(receiver: Receiver) -> None:
    receiver.answers.append(Answer(500, body=b"boom /services/T0/B0/SECRETPART " + b"y" * 2000))
    result = send({"type": "slack", "name": "s", "webhook_url": f"{receiver.url}/services/T0/B0/SECRETPART"},
                  notification())
    assert not result.ok and not result.permanent and result.status_code == 500
    assert "SECRETPART" not in result.error and "more characters" in result.error and len(result.error) < 500


def test_grafana_annotation_with_service_account_token(receiver: Receiver) -> None:
    config = {"type": "grafana", "name": "g", "url": receiver.url, "token": "glsa_secret", "dashboard_uid": "abc"}
    assert send(config, notification(2, "resolved")).ok
    req = receiver.requests[0]
    assert req.path == "/api/annotations" and req.headers["authorization"] == "Bearer glsa_secret"
    body = req.json()
    assert body["dashboardUID"] == "abc" and "rule:cpu-high" in body["tags"] and "resolved" in body["tags"]
    assert body["timeEnd"] > body["time"] and "[RESOLVED] cpu-high" in body["text"]


def test_pagerduty_trigger_then_resolve_share_the_dedup_key(receiver: Receiver) -> None:
    receiver.default = Answer(202, body=b'{"status":"success","dedup_key":"x"}')
    config = {"type": "pagerduty", "name": "p", "routing_key": "R0UTINGKEY", "url": f"{receiver.url}/v2/enqueue"}
    assert send(config, notification(2)).ok
    assert send(config, notification(2, "resolved", event_id="msg_0002")).ok
    events = [r.json() for r in receiver.requests]
    assert [e["event_action"] for e in events] == ["trigger", "trigger", "resolve", "resolve"]
    assert events[0]["dedup_key"] == events[2]["dedup_key"] != events[1]["dedup_key"]
    assert events[0]["payload"]["severity"] == "critical" and events[0]["routing_key"] == "R0UTINGKEY"
    assert len(events[0]["payload"]["summary"]) <= 1024


def test_webhook_signatures_verify_with_the_standardwebhooks_library(receiver: Receiver, whsecs: list[str]) -> None:
    config = {"type": "webhook", "name": "w", "url": f"{receiver.url}/hook", "secrets": whsecs}
    assert send(config, notification()).ok
    req = receiver.requests[0]
    assert req.headers["webhook-id"] == "msg_0001"
    for secret in whsecs:  # during a rotation both the old and the new secret verify
        payload = Webhook(secret).verify(req.body, req.headers)
        assert payload["type"] == "alert.firing" and payload["data"]["event_id"] == "msg_0001"
    other = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    with pytest.raises(Exception, match="(?i)signature"):
        Webhook(other).verify(req.body, req.headers)


def test_webhook_secret_format_is_checked() -> None:
    with pytest.raises(Exception, match="whsec_"):
        CHANNEL_ADAPTER.validate_python({"type": "webhook", "name": "w", "url": "https://x.example",
                                         "secrets": ["abc"]})


def test_a_redirect_to_the_metadata_address_is_not_followed(receiver: Receiver) -> None:
    receiver.default = Answer(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    result = send({"type": "webhook", "name": "w", "url": f"{receiver.url}/hook",
                   "secrets": ["whsec_" + base64.b64encode(b"k" * 32).decode()]}, notification())
    assert not result.ok and result.permanent and "redirects are never followed" in result.error
    assert len(receiver.requests) == 1


def test_without_the_allow_list_the_same_receiver_is_refused(receiver: Receiver) -> None:
    bare = alert_settings(allowed_hosts=[])
    result = send({"type": "slack", "name": "s", "webhook_url": f"{receiver.url}/services/x"}, notification(), bare)
    assert not result.ok and result.permanent and "alerts.allowed_hosts" in result.error
    assert receiver.requests == []
    with pytest.raises(UnsafeDestinationError, match="not https"):
        check_url(f"{receiver.url}/services/x", allowed_hosts=[])
    with pytest.raises(UnsafeDestinationError, match="loopback"):
        check_url(f"https://127.0.0.1:{receiver.port}/services/x", allowed_hosts=[])


def test_a_stalled_receiver_times_out(receiver: Receiver) -> None:
    receiver.answers.append(Answer(200, delay=2.0))
    result = send({"type": "slack", "name": "s", "webhook_url": f"{receiver.url}/x"}, notification(),
                  alert_settings(read_timeout_seconds=0.3))
    assert not result.ok and not result.permanent and "timed out" in result.error


def test_a_name_is_connected_to_at_the_checked_address_with_its_host_header(receiver: Receiver) -> None:
    result = send({"type": "slack", "name": "s", "webhook_url": f"http://localhost:{receiver.port}/x"},
                  notification(), alert_settings(allowed_hosts=["localhost"]))
    assert result.ok and receiver.requests[0].headers["host"] == f"localhost:{receiver.port}"


def test_https_goes_to_the_checked_address_with_the_name_in_sni_and_the_certificate_check(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path, ip_san=False)  # valid for the name only, not for 127.0.0.1
    names: list[str | None] = []
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda _sock, name, _ctx: names.append(name)  # type: ignore[assignment,misc]
    server = Receiver(tls=context)
    try:
        url = f"https://localhost:{server.port}/hook"
        settings = alert_settings(allowed_hosts=["localhost"], ca_file=str(cert))
        assert send({"type": "slack", "name": "s", "webhook_url": url}, notification(), settings).ok
        assert names == ["localhost"] and server.requests[0].headers["host"] == f"localhost:{server.port}"
        untrusted = send({"type": "slack", "name": "s", "webhook_url": url}, notification(),
                         alert_settings(allowed_hosts=["localhost"]))
        assert not untrusted.ok and "CERTIFICATE_VERIFY_FAILED" in untrusted.error
    finally:
        server.stop()


CHANNELS = {
    "slack": lambda url: {"type": "slack", "name": "s", "webhook_url": f"{url}/services/T/B/x"},
    "grafana": lambda url: {"type": "grafana", "name": "g", "url": url, "token": "glsa_x"},
    "pagerduty": lambda url: {"type": "pagerduty", "name": "p", "routing_key": "rk", "url": f"{url}/v2/enqueue"},
}


@pytest.mark.parametrize("kind", sorted(CHANNELS))
def test_rate_limits_and_errors_are_classified_for_retry(kind: str, receiver: Receiver) -> None:
    receiver.answers.extend([Answer(429, headers={"Retry-After": "7"}, body=b"rate_limited"),
                             Answer(500, body=b"internal"), Answer(400, body=b"invalid_payload")])
    config = CHANNELS[kind](receiver.url)
    limited, failed, rejected = (send(config, notification(1)) for _ in range(3))
    assert (limited.status_code, limited.retry_after, limited.permanent) == (429, 7.0, False)
    assert (failed.status_code, failed.permanent) == (500, False) and "internal" in failed.error
    assert (rejected.status_code, rejected.permanent) == (400, True) and "invalid_payload" in rejected.error
