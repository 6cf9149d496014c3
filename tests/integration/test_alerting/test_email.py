"""E-mail to a real SMTP server (aiosmtpd) that requires STARTTLS, with a certificate made for the test."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from services.alerting.channels import build_channel
from services.alerting.config import CHANNEL_ADAPTER
from testbed.servers import free_port
from tests.integration.test_alerting.conftest import alert_settings
from tests.integration.test_alerting.receivers import self_signed
from tests.integration.test_alerting.test_channels import notification

pytestmark = pytest.mark.integration


class Inbox:
    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        self.messages.append({"from": envelope.mail_from, "to": envelope.rcpt_tos, "tls": session.ssl is not None,
                              "message": message_from_bytes(envelope.content)})
        return "250 OK"


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[tuple[Inbox, int, Path]]:
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, tls_context=context, require_starttls=True)
    controller.start()
    yield inbox, port, cert
    controller.stop()


def test_email_over_starttls_reaches_the_smtp_server(smtp: tuple[Inbox, int, Path]) -> None:
    inbox, port, cert = smtp
    config = CHANNEL_ADAPTER.validate_python({"type": "email", "name": "mail", "host": "localhost", "port": port,
                                              "from_addr": "headroom@example.com", "to": ["sre@example.com"],
                                              "ca_file": str(cert)})
    settings = alert_settings(allowed_hosts=["localhost"])
    result = build_channel(config, settings, None).send(notification(3))  # type: ignore[arg-type]
    assert result.ok, result.error
    [mail] = inbox.messages
    assert mail["tls"] and mail["to"] == ["sre@example.com"]
    assert mail["message"]["Subject"].startswith("[FIRING] cpu-high") and "msg_0001" in mail["message"]["Message-ID"]
    # a certificate the client does not trust is refused, and so is the host without the allow-list
    untrusted = CHANNEL_ADAPTER.validate_python({**config.model_dump(), "ca_file": ""})
    assert "CERTIFICATE_VERIFY_FAILED" in build_channel(untrusted, settings, None).send(notification()).error  # type: ignore[arg-type]
    refused = build_channel(config, alert_settings(allowed_hosts=[]), None).send(notification())  # type: ignore[arg-type]
    assert refused.permanent and "loopback" in refused.error and len(inbox.messages) == 1
