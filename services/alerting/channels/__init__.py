"""One module per channel type; build_channel() turns a channel config into a Channel."""

from __future__ import annotations

import ssl
from typing import Any

import httpx

from services.alerting.base import Channel
from services.alerting.config import AlertingSettings, ChannelConfig
from services.alerting.safety import safe_client


def http_client(settings: AlertingSettings) -> httpx.Client:
    return safe_client(allowed_hosts=settings.allowed_hosts, connect_timeout=settings.connect_timeout_seconds,
                       read_timeout=settings.read_timeout_seconds,
                       verify=ssl.create_default_context(cafile=settings.ca_file or None))


def build_channel(config: ChannelConfig, settings: AlertingSettings, client: httpx.Client) -> Channel:
    """The Channel for a config; HTTP channels share client (pinned addresses, no redirects, timeouts)."""
    from services.alerting.channels import alertmanager, email, grafana, pagerduty, slack, webhook

    if config.type == "email":
        return email.EmailChannel(config, settings)
    http: dict[str, Any] = {"slack": slack.SlackChannel, "grafana": grafana.GrafanaChannel,
                            "alertmanager": alertmanager.AlertmanagerChannel,
                            "pagerduty": pagerduty.PagerDutyChannel, "webhook": webhook.WebhookChannel}
    channel: Channel = http[config.type](config, client)
    return channel
