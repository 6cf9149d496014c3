"""An azure-core retry policy that honours Azure's throttling headers, bounded by our longest backoff.

azure-core's RetryPolicy reads only Retry-After / retry-after-ms, never retries a POST on 429 unless
Retry-After is present, and sleeps whatever Retry-After says. Cost Management throttles its (POST)
query with its own x-ms-ratelimit-microsoft.costmanagement-*-retry-after headers, so this policy
retries every 429 (our POSTs are read-only queries) and waits the longest of all those headers, up to
`max_wait` (the source's max_throttle_wait_seconds); its own backoff, when Azure names no wait, stays within
RetrySettings.max_backoff_seconds.
"""

from __future__ import annotations

import logging
from typing import Any

from azure.core.pipeline import PipelineResponse
from azure.core.pipeline.policies import RetryPolicy

from collector.config import RetrySettings

log = logging.getLogger(__name__)

# Every header Azure uses to say how long to wait, in seconds (Retry-After may also be an HTTP date).
RETRY_AFTER_HEADERS = (
    "retry-after",
    "x-ms-ratelimit-microsoft.costmanagement-qpu-retry-after",
    "x-ms-ratelimit-microsoft.costmanagement-entity-retry-after",
    "x-ms-ratelimit-microsoft.costmanagement-tenant-retry-after",
    "x-ms-ratelimit-microsoft.costmanagement-clienttype-retry-after",
)
RETRY_AFTER_MS_HEADERS = ("retry-after-ms", "x-ms-retry-after-ms")
THROTTLED = 429


class ThrottleRetryPolicy(RetryPolicy):
    """RetryPolicy that waits as long as any Azure throttling header asks, capped at max_wait."""

    def __init__(self, settings: RetrySettings, *, max_wait: float | None = None, **kwargs: Any) -> None:
        retries = settings.max_attempts - 1
        super().__init__(
            retry_total=retries,
            retry_status=retries,
            retry_connect=min(retries, 3),
            retry_read=min(retries, 3),
            retry_backoff_factor=min(0.8, settings.max_backoff_seconds),
            retry_backoff_max=settings.max_backoff_seconds,
            **kwargs,
        )
        self.max_wait = settings.max_backoff_seconds if max_wait is None else max_wait

    def is_retry(self, settings: dict[str, Any], response: PipelineResponse[Any, Any]) -> bool:
        if response.http_response.status_code == THROTTLED:
            return True  # increment() decides whether attempts are left
        return super().is_retry(settings, response)

    def get_retry_after(self, response: PipelineResponse[Any, Any]) -> float | None:
        """The longest wait any throttling header asks for, at most max_wait; None if none."""
        headers = {k.lower(): v for k, v in response.http_response.headers.items()}
        waits = [self.parse_retry_after(headers[h]) for h in RETRY_AFTER_HEADERS if headers.get(h)]
        waits += [self.parse_retry_after(headers[h]) / 1000.0 for h in RETRY_AFTER_MS_HEADERS if headers.get(h)]
        if not waits:
            return None
        wait = min(max(waits), self.max_wait)
        log.warning(
            "azure: %s %s throttled (HTTP %s); retrying in %.1f s",
            response.http_request.method,
            response.http_request.url.split("?")[0],
            response.http_response.status_code,
            wait,
        )
        return wait
