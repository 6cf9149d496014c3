"""The alert channel registry: one module per built-in channel type, others from plug-in packages (entry point
group `headroom.channels`); build_channel() turns a channel config into a Channel."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

import httpx

from services.alerting.base import Channel
from services.alerting.config import (
    AlertingSettings,
    AlertmanagerChannel,
    ChannelBase,
    EmailChannel,
    GrafanaChannel,
    PagerDutyChannel,
    SlackChannel,
    WebhookChannel,
)
from services.alerting.safety import safe_client
from services.plugins import Registry


def http_client(settings: AlertingSettings) -> httpx.Client:
    return safe_client(allowed_hosts=settings.allowed_hosts, connect_timeout=settings.connect_timeout_seconds,
                       read_timeout=settings.read_timeout_seconds,
                       verify=ssl.create_default_context(cafile=settings.ca_file or None))


@dataclass(frozen=True)
class ChannelPlugin:
    channel_type: str  # the `type` of its configs
    config: type[ChannelBase]  # its config class: `name`, `type` and its own fields, with descriptions
    build: Callable[[Any, AlertingSettings, httpx.Client], Channel]  # (config, settings, shared client) -> Channel


def _check(obj: object) -> ChannelPlugin:
    if not isinstance(obj, ChannelPlugin):
        raise TypeError(f"expected a services.alerting.channels.ChannelPlugin, got {type(obj).__name__}")
    return obj


CHANNELS: Registry[ChannelPlugin] = Registry("headroom.channels", "alert channel type", _check)


def validate_channel_config(data: dict[str, Any]) -> ChannelBase:
    """The config of a channel, validated by its type's config class (ValidationError or PluginError)."""
    return CHANNELS.get(str(data.get("type", ""))).config.model_validate(data)


def build_channel(config: ChannelBase, settings: AlertingSettings, client: httpx.Client) -> Channel:
    """The Channel for a config; HTTP channels share client (pinned addresses, no redirects, timeouts)."""
    return CHANNELS.get(config.type).build(config, settings, client)


def _email(config: EmailChannel, settings: AlertingSettings, _: httpx.Client) -> Channel:
    from services.alerting.channels.email import EmailChannel as Email

    return Email(config, settings)


def _http(module: str, cls: str) -> Callable[[Any, AlertingSettings, httpx.Client], Channel]:
    def build(config: Any, _: AlertingSettings, client: httpx.Client) -> Channel:
        channel: Channel = getattr(import_module(f"services.alerting.channels.{module}"), cls)(config, client)
        return channel

    return build


CHANNELS.register("email", ChannelPlugin("email", EmailChannel, _email))
CHANNELS.register("slack", ChannelPlugin("slack", SlackChannel, _http("slack", "SlackChannel")))
CHANNELS.register("grafana", ChannelPlugin("grafana", GrafanaChannel, _http("grafana", "GrafanaChannel")))
CHANNELS.register(
    "alertmanager", ChannelPlugin("alertmanager", AlertmanagerChannel, _http("alertmanager", "AlertmanagerChannel"))
)
CHANNELS.register("pagerduty", ChannelPlugin("pagerduty", PagerDutyChannel, _http("pagerduty", "PagerDutyChannel")))
CHANNELS.register("webhook", ChannelPlugin("webhook", WebhookChannel, _http("webhook", "WebhookChannel")))
