"""The Channel interface, the notification a channel sends, and the outcome of one attempt."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any, Generic, Protocol, TypeVar

import httpx
from pydantic import BaseModel

from services.alerting.config import channel_secrets
from services.alerting.safety import UnsafeDestinationError, redact, truncate


@dataclass
class AlertEvent:
    """One alert inside a notification: an incident of a rule on one subject (a series, a provider, a source)."""

    fingerprint: str
    rule: str
    kind: str
    severity: str
    status: str  # firing | resolved
    subject: str
    summary: str
    value: float | None
    labels: dict[str, str]
    starts_at: str
    ends_at: str | None = None  # when it resolved, or until when a firing alert stays valid without a resend


@dataclass
class Notification:
    """What one outbox row carries: the alerts of one rule that changed together, sent as one message."""

    event_id: str
    rule: str
    severity: str
    created_at: str
    alerts: list[AlertEvent]
    test: bool = False

    @property
    def status(self) -> str:
        return "firing" if any(a.status == "firing" for a in self.alerts) else "resolved"

    @property
    def title(self) -> str:
        firing = sum(a.status == "firing" for a in self.alerts)
        resolved = len(self.alerts) - firing
        parts = [f"{firing} firing"] if firing else []
        parts += [f"{resolved} resolved"] if resolved else []
        prefix = "[TEST] " if self.test else ""
        return f"{prefix}[{self.status.upper()}] {self.rule} ({self.severity}): {', '.join(parts)}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Notification:
        alerts = [AlertEvent(**a) for a in data.get("alerts", [])]
        return cls(**{**data, "alerts": alerts})


@dataclass
class SendResult:
    """Outcome of one attempt: ok, or an error (retryable unless `permanent`), with an optional Retry-After."""

    ok: bool
    status_code: int | None = None
    error: str = ""
    retry_after: float | None = None
    permanent: bool = False
    latency_ms: float = 0.0
    requests: int = 1
    extra: dict[str, Any] = field(default_factory=dict)


class Channel(Protocol):
    """A destination for notifications. send() never raises for delivery problems: it returns a SendResult."""

    name: str
    min_interval_seconds: float

    def send(self, notification: Notification) -> SendResult: ...

    def secrets(self) -> list[str]: ...


ConfigT = TypeVar("ConfigT", bound=BaseModel)


class HttpChannel(Generic[ConfigT]):
    """Shared plumbing of the HTTP channels: the config, the safe client, the secrets to redact."""

    def __init__(self, config: ConfigT, client: httpx.Client) -> None:
        self.name: str = getattr(config, "name")  # noqa: B009 - every channel config has a name
        self.min_interval_seconds: float = float(getattr(config, "min_interval_seconds", 0.0))
        self._config = config
        self._client = client

    def secrets(self) -> list[str]:
        return channel_secrets(self._config)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.replace(".", "", 1).isdigit():
        return max(0.0, float(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def post(
    client: httpx.Client, url: str, *, body: Any, headers: dict[str, str] | None = None, secrets: list[str]
) -> SendResult:
    """POST a JSON body (or pre-serialised bytes) and classify the answer; never raises for HTTP problems."""
    content = body if isinstance(body, bytes) else json.dumps(body, separators=(",", ":")).encode()
    started = time.perf_counter()
    try:
        response = client.post(url, content=content, headers={"Content-Type": "application/json", **(headers or {})})
    except UnsafeDestinationError as exc:
        return SendResult(False, error=str(exc), permanent=True, latency_ms=elapsed_ms(started))
    except httpx.TimeoutException as exc:
        error = redact(f"timed out ({type(exc).__name__})", secrets)
        return SendResult(False, error=error, latency_ms=elapsed_ms(started))
    except httpx.HTTPError as exc:
        error = redact(f"{type(exc).__name__}: {exc}", secrets)
        return SendResult(False, error=error, latency_ms=elapsed_ms(started))
    return classify(response, secrets=secrets, latency_ms=elapsed_ms(started))


def classify(response: httpx.Response, *, secrets: list[str], latency_ms: float) -> SendResult:
    code = response.status_code
    if 200 <= code < 300:
        return SendResult(True, code, latency_ms=latency_ms)
    body = redact(truncate(response.text), secrets)
    if 300 <= code < 400:
        location = response.headers.get("location", "")
        return SendResult(False, code, error=f"HTTP {code}: redirects are never followed (to {location[:200]!r})",
                          permanent=True, latency_ms=latency_ms)
    retry_after = parse_retry_after(response.headers.get("retry-after"))
    permanent = 400 <= code < 500 and code not in (408, 409, 425, 429)
    return SendResult(False, code, error=f"HTTP {code}: {body}", retry_after=retry_after, permanent=permanent,
                      latency_ms=latency_ms)


def elapsed_ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
