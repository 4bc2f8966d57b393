"""A tiny per-process cache with a time to live, for topics and tallies.

Small on purpose: a dict, a lock and a monotonic clock. Entries older than
`ttl` seconds are fresh; `ttl=0` turns the cache off. One load per key at a
time: without this, every busy thread of a web process read the same
tallies at once when they expired, several DynamoDB reads instead of one.
An entry less than 2 x `ttl` old is refreshed in the background while
requests keep getting it, so no request waits on that read (it was the
slowest 1% of vote intake); older, or missing, and the caller waits for the
one load in flight. Nothing older than 2 x `ttl` is ever served.

With `serve_stale=False` nothing older than `ttl` is served either: past it,
the caller waits for the one load. The tallies are cached so: a results poll
that gets a stale copy shows a vote only at its next poll, and with polls
spread over several web processes that added up to a second to the tap-to-
projector time (bench/tap_to_screen.py); the read costs no more often.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

_MISSING = object()


class TTLCache:
    def __init__(
        self, ttl: float, max_entries: int = 4096, clock=time.monotonic, serve_stale: bool = True
    ):
        self.ttl = ttl
        self.serve_stale = serve_stale
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self._loading: dict[Any, threading.Lock] = {}  # one per key being (re)loaded

    def get_or_load(self, key: Any, load: Callable[[], Any]) -> Any:
        """The cached value for `key`, or `load()`'s answer (then cached)."""
        if self.ttl <= 0:
            return load()
        value = self._younger_than(key, self.ttl)
        if value is not _MISSING:
            return value
        with self._lock:
            if len(self._loading) >= self.max_entries:
                self._loading.clear()  # bounded like the entries; holders keep their lock
            loading = self._loading.setdefault(key, threading.Lock())
        stale = self._younger_than(key, 2 * self.ttl) if self.serve_stale else _MISSING
        if stale is not _MISSING:
            if loading.acquire(blocking=False):
                threading.Thread(
                    target=self._refresh, args=(key, load, loading), daemon=True
                ).start()
            return stale
        with loading:
            value = self._younger_than(key, self.ttl)  # loaded by the thread we waited for
            if value is _MISSING:
                value = load()
                self.put(key, value)
        return value

    def find(self, key: Any, load: Callable[[], Any], fresh: bool = False) -> Any:
        """Like get_or_load (or `load()` alone when `fresh`), but None, "no such item",
        is never kept: an item created a moment later is found at once."""
        value = load() if fresh else self.get_or_load(key, load)
        if value is None:
            self.forget(key)
        return value

    def _refresh(self, key: Any, load: Callable[[], Any], loading: threading.Lock) -> None:
        try:
            self.put(key, load())
        except Exception:  # noqa: BLE001 - the next caller past 2 x ttl loads, and sees it
            pass
        finally:
            loading.release()

    def _younger_than(self, key: Any, age: float) -> Any:
        with self._lock:
            stamp, value = self._entries.get(key, (0.0, _MISSING))
        return value if value is not _MISSING and self.clock() - stamp < age else _MISSING

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
