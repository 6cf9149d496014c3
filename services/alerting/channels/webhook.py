"""Generic webhooks signed per the Standard Webhooks specification (webhook-id, -timestamp, -signature)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from services.alerting.base import HttpChannel, Notification, SendResult, post
from services.alerting.config import WebhookChannel as WebhookConfig


def sign(secret: str, *, msg_id: str, timestamp: int, body: bytes) -> str:
    """One 'v1,<base64 HMAC-SHA256>' signature of '{id}.{timestamp}.{body}' with a whsec_ secret."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    digest = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(secrets: list[str], *, msg_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    """The three Standard Webhooks headers; with two secrets (a rotation) both signatures are sent."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": " ".join(sign(s, msg_id=msg_id, timestamp=ts, body=body) for s in secrets),
    }


class WebhookChannel(HttpChannel[WebhookConfig]):
    """Posts Standard-Webhooks-signed JSON."""

    def send(self, notification: Notification) -> SendResult:
        """The webhook-id is the event id, the same on every retry, so receivers can drop duplicates."""
        payload = {"type": f"alert.{notification.status}", "timestamp": notification.created_at,
                   "data": notification.to_dict()}
        body = json.dumps(payload, separators=(",", ":")).encode()
        keys = [s.get_secret_value() for s in self._config.secrets]
        headers = signed_headers(keys, msg_id=notification.event_id, body=body)
        return post(self._client, self._config.url, body=body, headers=headers, secrets=self.secrets())
