"""A tiny per-process cache with a time to live, for topics and tallies.

Small on purpose: a dict, a lock and a monotonic clock. Entries older than
`ttl` seconds are never served; `ttl=0` turns the cache off. When an entry
expires under load, one thread reloads it and the others that missed wait
for that answer: without this, every busy thread of a web process read the
same tallies at once, several DynamoDB reads per expiry instead of one.
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
        self._loading: dict[Any, threading.Lock] = {}  # one per key being (re)loaded

    def get_or_load(self, key: Any, load: Callable[[], Any]) -> Any:
        """The cached value for `key`, or `load()`'s answer (then cached)."""
        if self.ttl <= 0:
            return load()
        value = self._fresh(key)
        if value is not _MISSING:
            return value
        with self._lock:
            if len(self._loading) >= self.max_entries:
                self._loading.clear()  # bounded like the entries; holders keep their lock
            loading = self._loading.setdefault(key, threading.Lock())
        with loading:
            value = self._fresh(key)  # loaded by the thread we waited for
            if value is _MISSING:
                value = load()
                self.put(key, value)
        return value

    def _fresh(self, key: Any) -> Any:
        with self._lock:
            stamp, value = self._entries.get(key, (0.0, _MISSING))
        return value if value is not _MISSING and self.clock() - stamp < self.ttl else _MISSING

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
