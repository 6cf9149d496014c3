"""An api_core Retry that bounds attempts and waits as long as Google asks (Retry-After, RetryInfo)."""

from __future__ import annotations

import functools
import random
from collections.abc import Callable, Iterator
from typing import Any

from google.api_core import exceptions as gexc
from google.api_core.retry import Retry, retry_target

from collector.config import RetrySettings

FIRST_BACKOFF_SECONDS = 1.0
RATE_LIMIT_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded"})


class AttemptsExhausted(Exception):  # noqa: N818 - it wraps the last error, it is not itself one
    """Raised by the retry when every attempt was throttled or unavailable; `last` is the final error."""

    def __init__(self, last: Exception, attempts: int, waited: float) -> None:
        super().__init__(str(last))
        self.last = last
        self.attempts = attempts
        self.waited = waited


def is_throttled(exc: BaseException) -> bool:
    """429 / RESOURCE_EXHAUSTED, 503 / UNAVAILABLE, and BigQuery's 403 rateLimitExceeded."""
    if isinstance(exc, gexc.TooManyRequests | gexc.ServiceUnavailable):
        return True
    if isinstance(exc, gexc.Forbidden):
        return any(isinstance(e, dict) and e.get("reason") in RATE_LIMIT_REASONS for e in exc.errors or ())
    return False


def requested_delay(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait: the Retry-After header (REST) or google.rpc.RetryInfo (gRPC)."""
    response = getattr(exc, "response", None)
    headers = getattr(response, "headers", None)
    if headers is not None:
        value = headers.get("Retry-After")
        if value and value.strip().isdigit():
            return float(value.strip())
    for detail in getattr(exc, "details", None) or ():
        delay = getattr(detail, "retry_delay", None)
        if delay is not None and (delay.seconds or delay.nanos):
            return delay.seconds + delay.nanos / 1e9
    return None


class _Schedule:
    """Per-call state shared by the on_error hook and the sleep generator (api_core reads the next sleep
    after calling on_error, so the hook can set it from the error)."""

    def __init__(self, max_attempts: int, max_backoff: float) -> None:
        self.max_attempts = max_attempts
        self.max_backoff = max_backoff
        self.failures = 0
        self.waited = 0.0
        self.next_sleep = 0.0

    def on_error(self, exc: Exception) -> None:
        self.failures += 1
        if self.failures >= self.max_attempts:
            raise AttemptsExhausted(exc, self.failures, self.waited) from exc
        backoff = min(self.max_backoff, FIRST_BACKOFF_SECONDS * 2 ** (self.failures - 1))
        asked = requested_delay(exc)
        # full jitter on our own backoff; the server's Retry-After is honoured as given (capped)
        self.next_sleep = min(self.max_backoff, asked) if asked is not None else random.uniform(0, backoff)
        self.waited += self.next_sleep

    def sleeps(self) -> Iterator[float]:
        while True:
            yield self.next_sleep


class ThrottleRetry(Retry):
    """Retry throttling and unavailability up to max_attempts, sleeping Retry-After/RetryInfo when the
    server gives one and otherwise exponential backoff with full jitter (1 s, 2 s, 4 s ... capped at
    max_backoff_seconds). The overall deadline is max_attempts * max_backoff_seconds."""

    max_attempts: int = 6

    @classmethod
    def from_settings(cls, settings: RetrySettings) -> ThrottleRetry:
        retry = cls(
            predicate=is_throttled,
            initial=FIRST_BACKOFF_SECONDS,
            maximum=settings.max_backoff_seconds,
            multiplier=2.0,
            timeout=max(1.0, settings.max_attempts * settings.max_backoff_seconds),
        )
        retry.max_attempts = settings.max_attempts
        return retry

    def __call__(self, func: Callable[..., Any], on_error: Callable[[Exception], Any] | None = None) -> Any:
        @functools.wraps(func)
        def retrying(*args: Any, **kwargs: Any) -> Any:
            schedule = _Schedule(self.max_attempts, self._maximum)
            return retry_target(
                functools.partial(func, *args, **kwargs),
                self._predicate,
                schedule.sleeps(),
                timeout=self._timeout,
                on_error=schedule.on_error,
            )

        return retrying
