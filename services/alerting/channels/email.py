"""E-mail over SMTP with STARTTLS (always required), to the address that passed the safety check."""

from __future__ import annotations

import smtplib
import ssl
import time
from email.message import EmailMessage

from services.alerting.base import Notification, SendResult, elapsed_ms
from services.alerting.config import AlertingSettings, channel_secrets
from services.alerting.config import EmailChannel as EmailConfig
from services.alerting.safety import UnsafeDestinationError, check_host, redact


def message_for(notification: Notification, *, from_addr: str, to: list[str]) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = notification.title
    msg["From"] = from_addr
    msg["To"] = ", ".join(to)
    msg["Message-ID"] = f"<{notification.event_id}@headroom>"  # the same on every retry
    lines = [notification.title, ""]
    for a in notification.alerts:
        value = "" if a.value is None else f" (value {a.value:.4g})"
        lines.append(f"- {a.status}: {a.subject}: {a.summary}{value} since {a.starts_at}")
    lines += ["", f"Headroom event {notification.event_id}"]
    msg.set_content("\n".join(lines))
    return msg


class EmailChannel:
    def __init__(self, config: EmailConfig, settings: AlertingSettings) -> None:
        self.name = config.name
        self.min_interval_seconds = 0.0
        self._config = config
        self._settings = settings

    def secrets(self) -> list[str]:
        return channel_secrets(self._config)

    def send(self, notification: Notification) -> SendResult:
        c = self._config
        started = time.perf_counter()
        try:
            dest = check_host(c.host, c.port, allowed_hosts=self._settings.allowed_hosts)
        except UnsafeDestinationError as exc:
            return SendResult(False, error=str(exc), permanent=True)
        context = ssl.create_default_context(cafile=c.ca_file or None)
        timeout = self._settings.connect_timeout_seconds + self._settings.read_timeout_seconds
        try:
            with smtplib.SMTP(timeout=timeout) as smtp:
                smtp.connect(dest.address, c.port)
                smtp._host = dest.host  # type: ignore[attr-defined]  # SNI and certificate name = the configured host
                smtp.ehlo()
                if not smtp.has_extn("starttls"):
                    return SendResult(False, error=f"{c.host} does not offer STARTTLS; refusing to send in clear",
                                      permanent=True)
                smtp.starttls(context=context)
                smtp.ehlo()
                if c.username and c.password:
                    smtp.login(c.username, c.password.get_secret_value())
                smtp.send_message(message_for(notification, from_addr=c.from_addr, to=c.to))
        except smtplib.SMTPResponseException as exc:
            permanent = 500 <= exc.smtp_code < 600
            return SendResult(False, exc.smtp_code, error=redact(f"SMTP {exc.smtp_code}: {exc.smtp_error!r}",
                                                                  self.secrets()), permanent=permanent,
                              latency_ms=elapsed_ms(started))
        except (OSError, smtplib.SMTPException) as exc:
            return SendResult(False, error=redact(f"{type(exc).__name__}: {exc}", self.secrets()),
                              latency_ms=elapsed_ms(started))
        return SendResult(True, 250, latency_ms=elapsed_ms(started))
