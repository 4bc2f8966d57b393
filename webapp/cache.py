"""A tiny per-process cache with a time to live, for topics and tallies.

Small on purpose: a dict, a lock and a monotonic clock. Entries older than
`ttl` seconds are never served; `ttl=0` turns the cache off.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

_MISSING = object()


class TTLCache:
    def __init__(self, ttl: float, max_entries: int = 4096, clock=time.monotonic):
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get_or_load(self, key: Any, load: Callable[[], Any]) -> Any:
        """The cached value for `key`, or `load()`'s answer (then cached)."""
        if self.ttl > 0:
            with self._lock:
                stamp, value = self._entries.get(key, (0.0, _MISSING))
            if value is not _MISSING and self.clock() - stamp < self.ttl:
                return value
        value = load()
        self.put(key, value)
        return value

    def put(self, key: Any, value: Any) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()  # crude but bounded; entries live seconds anyway
            self._entries[key] = (self.clock(), value)

    def forget(self, key: Any) -> None:
        with self._lock:
            self._entries.pop(key, None)
