"""Rate limits per API token, per client address and for failed authentications, counted by the `limits` library."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Literal

from limits import RateLimitItem, parse_many
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from services.settings import ApiLimitSettings

LimitKind = Literal["token", "address", "failed_auth"]
_WHAT = {
    "token": "this API token",
    "address": "your address",
    "failed_auth": "failed authentications from your address",
}


@dataclass(frozen=True)
class RateLimited(Exception):
    """A limit is used up: retry_after says in how many seconds a request is counted again."""

    kind: LimitKind
    limit: str
    retry_after: int

    def __str__(self) -> str:
        return (f"too many requests: the limit for {_WHAT[self.kind]} is {self.limit}; "
                f"retry in {self.retry_after} s (Retry-After)")


def storage_url(settings: ApiLimitSettings, broker_url: str) -> str:
    """Where the counters live: the setting, else the Redis broker (shared by every API replica), else memory."""
    if settings.storage_url:
        return settings.storage_url
    if broker_url.startswith(("redis://", "rediss://")):
        return broker_url
    return "memory://"


class RateLimiter:
    """Moving-window counters keyed by kind and key (a token id or a client address)."""

    def __init__(self, settings: ApiLimitSettings, broker_url: str) -> None:
        storage = storage_from_string(storage_url(settings, broker_url))
        if not isinstance(storage, Storage):
            raise TypeError(f"limits.storage_url {storage_url(settings, broker_url)!r}: use a synchronous storage")
        self.storage = storage
        self._strategy = MovingWindowRateLimiter(self.storage)
        self._rates: dict[LimitKind, tuple[str, list[RateLimitItem]]] = {
            "token": (settings.per_token, parse_many(settings.per_token)),
            "address": (settings.per_address, parse_many(settings.per_address)),
            "failed_auth": (settings.failed_auth, parse_many(settings.failed_auth)),
        }

    def _refuse(self, kind: LimitKind, item: RateLimitItem, key: str) -> RateLimited:
        reset, _ = self._strategy.get_window_stats(item, kind, key)
        return RateLimited(kind, self._rates[kind][0], max(1, math.ceil(reset - time.time())))

    def hit(self, kind: LimitKind, key: str) -> None:
        """Count one request; RateLimited when it is over any of the kind's limits."""
        for item in self._rates[kind][1]:
            if not self._strategy.hit(item, kind, key):
                raise self._refuse(kind, item, key)
