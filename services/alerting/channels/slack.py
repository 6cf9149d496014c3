"""Slack incoming webhooks: one Block Kit message per notification, within Block Kit's limits."""

from __future__ import annotations

from typing import Any

from services.alerting.base import AlertEvent, HttpChannel, Notification, SendResult, post
from services.alerting.config import SlackChannel as SlackConfig

MAX_BLOCKS = 50  # per message
HEADER_CHARS = 150  # plain_text of a header block
SECTION_CHARS = 3000  # text of a section block
FALLBACK_CHARS = 3000  # top-level text, shown in notifications
ICON = {"firing": ":red_circle:", "resolved": ":large_green_circle:"}


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _line(alert: AlertEvent) -> str:
    value = f" (value {alert.value:.4g})" if alert.value is not None else ""
    return f"{ICON.get(alert.status, '')} *{alert.status}* `{alert.subject}`: {alert.summary}{value}"


def blocks_for(notification: Notification) -> dict[str, Any]:
    """The webhook body: a header, one section per alert, and a context line for what did not fit."""
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": clip(notification.title, HEADER_CHARS)}}
    ]
    room = MAX_BLOCKS - len(blocks) - 1  # keep one block for "… and N more"
    shown = notification.alerts[:room]
    for alert in shown:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": clip(_line(alert), SECTION_CHARS)}})
    hidden = len(notification.alerts) - len(shown)
    footer = f"Headroom · event {notification.event_id}"
    if hidden:
        footer = f"… and {hidden} more alerts · " + footer
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": clip(footer, SECTION_CHARS)}]})
    fallback = notification.title + "\n" + "\n".join(f"{a.status}: {a.subject}: {a.summary}" for a in shown[:10])
    return {"text": clip(fallback, FALLBACK_CHARS), "blocks": blocks}


class SlackChannel(HttpChannel[SlackConfig]):
    """Posts Block Kit messages to an incoming webhook."""

    def send(self, notification: Notification) -> SendResult:
        return post(self._client, self._config.webhook_url.get_secret_value(), body=blocks_for(notification),
                    secrets=self.secrets())
