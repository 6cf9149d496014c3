"""Rendered JSON bodies of what is read far more often than it changes (a forecast changes once a day), per API
process, validated on every read by the version of the row they were rendered from."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass(frozen=True)
class Rendered:
    version: Hashable  # what the body was rendered from (a row id): a new version renders again
    etag: str
    body: bytes


class ResponseCache:
    """A bounded LRU of rendered bodies. `get_or_render` returns the cached body while the caller's current version
    equals the cached one, else renders, stores and returns the new one."""

    def __init__(self, max_entries: int) -> None:
        self.max_entries = max_entries
        self._entries: OrderedDict[Hashable, Rendered] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_render(self, key: Hashable, version: Hashable, render: Callable[[], bytes]) -> Rendered:
        with self._lock:
            found = self._entries.get(key)
            if found is not None and found.version == version:
                self._entries.move_to_end(key)
                self.hits += 1
                return found
        body = render()  # outside the lock: two first reads may both render, and both bodies are the same
        rendered = Rendered(version, f'"{hashlib.blake2b(body, digest_size=12).hexdigest()}"', body)
        with self._lock:
            self.misses += 1
            self._entries[key] = rendered
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return rendered

    def __len__(self) -> int:
        return len(self._entries)
