"""A tiny per-process cache with a time to live, for topics, events and tallies.

Small on purpose: a dict, a lock, a monotonic clock and one load in flight
per key. An entry is stamped with the moment its load started (a value the
caller `put` after writing it, with the moment of the put), and is fresh
while younger than `ttl`; `ttl=0` turns the cache off.

- **One load per key at a time.** Callers that need a key while its load is
  in flight wait for that load and share its answer (or its error), instead
  of each reading the store: every busy thread of a web process would
  otherwise read the same tallies at once when they expire.
- **Stale while refreshing.** An entry less than 2 x `ttl` old is refreshed
  in the background while requests keep getting it, so no request waits on
  that read (a wait that would be the slowest 1% of vote intake); older, or
  missing, and the caller waits for the one load. Nothing older than 2 x
  `ttl` is ever served. With `serve_stale=False` nothing older than `ttl` is
  served either. The tallies are cached so: a results poll that gets a stale
  copy shows a vote only at its next poll, and with polls spread over
  several web processes that adds up to a second to the tap-to-projector
  time (bench/tap_to_screen.py); the read costs no more often.
- **A copy read after a moment.** `get_loaded_after(key, load, since)` answers
  with a value whose load started at `since` or later (a moment of the
  cache's clock, `time.monotonic` unless a test injects one): the entry if
  it is that recent, else the load in flight if it started then or later,
  else a new load once the one in flight (too early to answer) is done. The
  services confirm a refusal so: a room of phones refused from a copy older
  than a change costs one or two reads between them, not one each.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, wait
from dataclasses import dataclass, field
from typing import Any

_MISSING = object()
_NOTHING = (float("-inf"), _MISSING)  # the (stamp, value) of a key never kept


@dataclass
class _Flight:
    """A load in flight: the moment it started and the answer its waiters share."""

    started: float
    answer: Future = field(default_factory=Future)


class TTLCache:
    def __init__(
        self, ttl: float, max_entries: int = 4096, clock=time.monotonic, serve_stale: bool = True
    ):
        self.ttl = ttl
        self.serve_stale = serve_stale
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[Any, tuple[float, Any]] = {}  # key -> (stamp, value)
        self._flights: dict[Any, _Flight] = {}  # key -> its one load in flight
        self._lock = threading.Lock()

    def get_or_load(self, key: Any, load: Callable[[], Any]) -> Any:
        """The cached value for `key`, or `load()`'s answer (then cached)."""
        if self.ttl <= 0:
            return load()
        now = self.clock()
        stamp, value = self._entry(key)
        if value is not _MISSING and now - stamp < self.ttl:
            return value
        if self.serve_stale and value is not _MISSING and now - stamp < 2 * self.ttl:
            with self._lock:
                flight, leader = self._flight(key)
            if leader:
                threading.Thread(target=self._fly, args=(key, load, flight), daemon=True).start()
            return value
        return self.get_loaded_after(key, load, now - self.ttl)

    def get_loaded_after(self, key: Any, load: Callable[[], Any], since: float) -> Any:
        """`key`'s value as read by a load that started at `since` or later (see above).

        A load's error reaches the callers waiting for it and is not kept: the
        next caller loads again."""
        if self.ttl <= 0:
            return load()
        while True:
            with self._lock:  # the entry and the flight seen together: no load lands between
                stamp, value = self._entries.get(key, _NOTHING)
                if value is not _MISSING and stamp >= since:
                    return value
                flight, leader = self._flight(key)
            if leader:
                self._fly(key, load, flight)
            if leader or flight.started >= since:
                return flight.answer.result()
            wait([flight.answer])  # it read too early for this caller: the next load will do

    def find(
        self, key: Any, load: Callable[[], Any], fresh: bool = False, since: float | None = None
    ) -> Any:
        """Like get_or_load (get_loaded_after with `since`; `load()` alone when `fresh`),
        but None, "no such item", is never kept: an item created a moment later is found
        at once."""
        if fresh:
            value = load()
        elif since is not None:
            value = self.get_loaded_after(key, load, since)
        else:
            value = self.get_or_load(key, load)
        if value is None:
            self.forget(key)
        return value

    def put(self, key: Any, value: Any) -> None:
        """Keep `value` (the caller's own write, so current as of now) for `key`."""
        self._keep(key, value, self.clock())

    def forget(self, key: Any) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def _entry(self, key: Any) -> tuple[float, Any]:
        with self._lock:
            return self._entries.get(key, _NOTHING)

    def _flight(self, key: Any) -> tuple[_Flight, bool]:
        """The key's load in flight, or a new one: (flight, True if the caller must fly it).
        The caller holds the lock."""
        flight = self._flights.get(key)
        if flight is not None:
            return flight, False
        flight = self._flights[key] = _Flight(self.clock())
        return flight, True

    def _fly(self, key: Any, load: Callable[[], Any], flight: _Flight) -> None:
        """Run the load, keep its value, then answer its waiters (its error too)."""
        try:
            value = load()
        except BaseException as exc:  # noqa: BLE001 - handed to every waiter, none kept
            self._land(key, flight)
            flight.answer.set_exception(exc)
        else:
            self._keep(key, value, flight.started)
            self._land(key, flight)
            flight.answer.set_result(value)

    def _land(self, key: Any, flight: _Flight) -> None:
        # Before the answer is set: a waiter that finds this flight too early loops,
        # and must then find it gone.
        with self._lock:
            if self._flights.get(key) is flight:
                del self._flights[key]

    def _keep(self, key: Any, value: Any, stamp: float) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if stamp < self._entries.get(key, _NOTHING)[0]:
                return  # a load that started before the kept value was read or written
            if len(self._entries) >= self.max_entries:
                self._entries.clear()  # crude but bounded; entries live seconds anyway
            self._entries[key] = (stamp, value)
