"""Alerting configuration: channel and rule definitions (config/alerts.yml and the API) and delivery settings."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, PrivateAttr, SecretStr, TypeAdapter, field_validator, model_validator

from services.sealing import DEV_SECRET

NAME = r"^[a-z0-9][a-z0-9_.-]{0,62}$"
Severity = Literal["critical", "warning", "info"]
RuleKind = Literal[
    "capacity", "runway", "growth", "cost_anomaly", "budget", "metric_anomaly", "source_silent", "autoscaling_max"
]


class ChannelBase(BaseModel):
    """What every channel config has, a plug-in channel type's too: a name and a type."""

    model_config = {"extra": "forbid"}
    name: str = Field(pattern=NAME, description="Unique channel name that rules refer to.")
    type: str


class SlackChannel(ChannelBase):
    type: Literal["slack"] = "slack"
    webhook_url: SecretStr = Field(description="Slack incoming-webhook URL (https://hooks.slack.com/services/…).")
    min_interval_seconds: float = Field(1.0, ge=0.0, le=60.0, description="At most one message per this interval.")


class GrafanaChannel(ChannelBase):
    type: Literal["grafana"] = "grafana"
    url: str = Field(description="Grafana base URL, e.g. https://grafana.example.com.")
    token: SecretStr = Field(description="Grafana service-account token (Editor role on annotations).")
    dashboard_uid: str = Field("", description="Pin annotations to this dashboard; empty = organisation-wide.")
    tags: list[str] = Field(default_factory=lambda: ["headroom"])


class AlertmanagerChannel(ChannelBase):
    type: Literal["alertmanager"] = "alertmanager"
    url: str = Field(description="Alertmanager base URL, e.g. https://alertmanager.example.com.")
    token: SecretStr | None = Field(None, description="Bearer token, when Alertmanager sits behind a proxy.")


class PagerDutyChannel(ChannelBase):
    type: Literal["pagerduty"] = "pagerduty"
    routing_key: SecretStr = Field(description="Events API v2 integration (routing) key.")
    url: str = Field("https://events.pagerduty.com/v2/enqueue", description="Events API v2 endpoint.")


class EmailChannel(ChannelBase):
    type: Literal["email"] = "email"
    host: str = Field(description="SMTP server; STARTTLS is always required.")
    port: int = Field(587, ge=1, le=65535)
    username: str = ""
    password: SecretStr | None = None
    from_addr: str = Field(description="Sender address.")
    to: list[str] = Field(min_length=1, description="Recipients.")
    ca_file: str = Field("", description="CA bundle to verify the server's certificate; empty = system CAs.")


class WebhookChannel(ChannelBase):
    type: Literal["webhook"] = "webhook"
    url: str = Field(description="Receiver URL; requests are signed per the Standard Webhooks specification.")
    secrets: list[SecretStr] = Field(
        min_length=1, max_length=2, description="whsec_… secrets; two during a rotation (both sign every message)."
    )

    @field_validator("secrets")
    @classmethod
    def _whsec(cls, v: list[SecretStr]) -> list[SecretStr]:
        for secret in v:
            raw = secret.get_secret_value()
            try:
                key = base64.b64decode(raw.removeprefix("whsec_"), validate=True)
            except (binascii.Error, ValueError):
                key = b""
            if not raw.startswith("whsec_") or not 24 <= len(key) <= 64:
                raise ValueError("each secret must be 'whsec_' + base64 of 24–64 random bytes (headroom alerts "
                                 "new-secret makes one)")
        return v


ChannelConfig = Annotated[
    SlackChannel | GrafanaChannel | AlertmanagerChannel | PagerDutyChannel | EmailChannel | WebhookChannel,
    Field(discriminator="type"),
]
CHANNEL_ADAPTER: TypeAdapter[ChannelConfig] = TypeAdapter(ChannelConfig)


class Scope(BaseModel):
    """Which resources (or costs) a rule looks at; every given filter must match."""

    model_config = {"extra": "forbid"}
    provider: str | None = None
    account: str | None = None
    environment: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)


class RuleConfig(BaseModel):
    """One alert rule. `params` depend on the kind; see README "Alerts" for each kind's parameters."""

    model_config = {"extra": "forbid"}
    name: str = Field(pattern=NAME)
    kind: RuleKind
    severity: Severity = "warning"
    channels: list[str] = Field(default_factory=list, description="Channel names to notify.")
    scope: Scope = Field(default_factory=Scope)
    params: dict[str, Any] = Field(default_factory=dict)
    for_seconds: int = Field(0, ge=0, le=7 * 86400, description="Condition must hold this long before firing.")
    repeat_seconds: int = Field(4 * 3600, ge=60, le=30 * 86400, description="Re-notify a firing alert this often.")
    enabled: bool = True

    @model_validator(mode="after")
    def _params_for_kind(self) -> RuleConfig:
        from services.alerting.params import check_params

        self.params = check_params(self.kind, self.params)
        return self


class AlertingSettings(BaseModel):
    """Delivery and safety settings plus the channels and rules of config/alerts.yml."""

    allowed_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts channels may reach over http or on private addresses ('*.corp.example' for sub-domains).",
    )
    ca_file: str = Field("", description="CA bundle that HTTPS channels trust; empty = the system's CAs.")
    connect_timeout_seconds: float = Field(5.0, gt=0, le=60)
    read_timeout_seconds: float = Field(10.0, gt=0, le=120)
    max_attempts: int = Field(12, ge=1, le=100, description="Attempts before a delivery is dead-lettered.")
    backoff_base_seconds: float = Field(30.0, gt=0, le=3600, description="First retry delay; doubles each attempt.")
    backoff_max_seconds: float = Field(3600.0, gt=0, le=86400, description="Longest retry delay.")
    lease_seconds: float = Field(120.0, gt=0, le=3600, description="A send unfinished after this is retried.")
    evaluate_interval_seconds: int = Field(300, ge=10, le=86400, description="Beat period of rule evaluation.")
    deliver_interval_seconds: int = Field(15, ge=1, le=3600, description="Beat period of the outbox sweep.")
    channels: list[ChannelConfig] = Field(default_factory=list)
    rules: list[RuleConfig] = Field(default_factory=list)
    # seals channel secrets in the database: always HEADROOM_SECRET_KEY (Settings hands it over), never set here
    _sealing_key: SecretStr = PrivateAttr(default=SecretStr(DEV_SECRET))

    @property
    def sealing_key(self) -> SecretStr:
        return self._sealing_key

    def seal_with(self, key: SecretStr) -> None:
        self._sealing_key = key

    @model_validator(mode="after")
    def _unique_names(self) -> AlertingSettings:
        for what, names in (("channel", [c.name for c in self.channels]), ("rule", [r.name for r in self.rules])):
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{what} names must be unique; repeated: {', '.join(dupes)}")
        known = {c.name for c in self.channels}
        for rule in self.rules:
            missing = [c for c in rule.channels if c not in known]
            if missing:
                raise ValueError(f"rule {rule.name!r} names unknown channels {missing}; define them under channels")
        return self


def channel_secrets(config: BaseModel) -> list[str]:
    """Every secret value of a channel config (for redaction), including a webhook URL's path."""
    found: list[str] = []
    for value in config.__dict__.values():
        values = value if isinstance(value, list) else [value]
        for item in values:
            if isinstance(item, SecretStr):
                raw = item.get_secret_value()
                found.append(raw)
                match = re.match(r"https?://[^/]+(/.+)", raw)
                if match:
                    found.append(match.group(1))
    return found
