"""PagerDuty Events API v2: trigger and resolve, one event per alert, dedup_key = the alert's fingerprint."""

from __future__ import annotations

from typing import Any

from services.alerting.base import AlertEvent, HttpChannel, Notification, SendResult, post
from services.alerting.config import PagerDutyChannel as PagerDutyConfig

SEVERITY = {"critical": "critical", "warning": "warning", "info": "info"}
SUMMARY_CHARS = 1024


def event_for(alert: AlertEvent, *, routing_key: str, test: bool) -> dict[str, Any]:
    """A trigger (firing) or resolve (resolved) event; the same dedup_key ties them to one PagerDuty incident."""
    dedup_key = f"headroom-{alert.fingerprint}" + ("-test" if test else "")
    if alert.status == "resolved":
        return {"routing_key": routing_key, "event_action": "resolve", "dedup_key": dedup_key}
    summary = f"{alert.rule}: {alert.subject}: {alert.summary}"
    return {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": {
            "summary": summary[:SUMMARY_CHARS],
            "source": alert.subject or "headroom",
            "severity": SEVERITY.get(alert.severity, "warning"),
            "timestamp": alert.starts_at,
            "component": alert.labels.get("resource_id", ""),
            "class": alert.kind,
            "custom_details": {"value": alert.value, "labels": alert.labels, "rule": alert.rule},
        },
    }


class PagerDutyChannel(HttpChannel[PagerDutyConfig]):
    """Triggers and resolves PagerDuty incidents."""

    def send(self, notification: Notification) -> SendResult:
        """One request per alert; a retry resends them all, which PagerDuty folds together by dedup_key."""
        key = self._config.routing_key.get_secret_value()
        result = SendResult(True, 202, requests=0)
        for alert in notification.alerts:
            one = post(self._client, self._config.url, body=event_for(alert, routing_key=key, test=notification.test),
                       secrets=self.secrets())
            one.requests = result.requests + 1
            one.latency_ms += result.latency_ms
            if not one.ok:
                return one
            result = one
        return result
