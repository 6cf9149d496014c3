"""Prometheus Alertmanager: POST /api/v2/alerts, so users keep their own routing, grouping and silences."""

from __future__ import annotations

from typing import Any

from services.alerting.base import HttpChannel, Notification, SendResult, post
from services.alerting.config import AlertmanagerChannel as AlertmanagerConfig


def postable_alerts(notification: Notification) -> list[dict[str, Any]]:
    """Alertmanager's PostableAlerts: labels identify the alert (alertname = rule), endsAt resolves it."""
    out: list[dict[str, Any]] = []
    for alert in notification.alerts:
        labels = {"alertname": alert.rule, "severity": alert.severity, "headroom_kind": alert.kind,
                  "subject": alert.subject, "fingerprint": alert.fingerprint, **alert.labels}
        if notification.test:
            labels["test"] = "true"
        item: dict[str, Any] = {
            "labels": {k: str(v) for k, v in labels.items() if v not in (None, "")},
            "annotations": {"summary": alert.summary, "value": "" if alert.value is None else f"{alert.value:.6g}"},
            "startsAt": alert.starts_at,
        }
        if alert.ends_at:
            item["endsAt"] = alert.ends_at
        out.append(item)
    return out


class AlertmanagerChannel(HttpChannel[AlertmanagerConfig]):
    """Posts alerts to Alertmanager's v2 API."""

    def send(self, notification: Notification) -> SendResult:
        headers = {"Authorization": f"Bearer {self._config.token.get_secret_value()}"} if self._config.token else {}
        return post(self._client, self._config.url.rstrip("/") + "/api/v2/alerts",
                    body=postable_alerts(notification), headers=headers, secrets=self.secrets())
