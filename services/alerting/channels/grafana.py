"""Grafana annotations through its HTTP API (POST /api/annotations) with a service-account token."""

from __future__ import annotations

from datetime import datetime

from services.alerting.base import HttpChannel, Notification, SendResult, post
from services.alerting.config import GrafanaChannel as GrafanaConfig


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso).timestamp() * 1000)


class GrafanaChannel(HttpChannel[GrafanaConfig]):
    """Writes one annotation per message."""

    def annotation(self, notification: Notification) -> dict[str, object]:
        """One annotation per notification: a region from the first alert's start to its end when resolved."""
        first = notification.alerts[0] if notification.alerts else None
        start = first.starts_at if first else notification.created_at
        lines = [f"{a.status}: {a.subject}: {a.summary}" for a in notification.alerts[:20]]
        body: dict[str, object] = {
            "time": _ms(notification.created_at if notification.status == "firing" else start),
            "tags": [*self._config.tags, f"rule:{notification.rule}", notification.severity, notification.status],
            "text": notification.title + "\n" + "\n".join(lines),
        }
        if notification.status == "resolved" and first and first.ends_at:
            body["timeEnd"] = _ms(first.ends_at)
        if self._config.dashboard_uid:
            body["dashboardUID"] = self._config.dashboard_uid
        return body

    def send(self, notification: Notification) -> SendResult:
        url = self._config.url.rstrip("/") + "/api/annotations"
        token = self._config.token.get_secret_value()
        return post(self._client, url, body=self.annotation(notification),
                    headers={"Authorization": f"Bearer {token}"}, secrets=self.secrets())
