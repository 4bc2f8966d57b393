"""Rate limit counts shared by every web process: a `limits` storage over DynamoDB counters.

Flask-Limiter counts through a `limits` storage; this one (`dynamodb://`, the
default RATELIMIT_STORAGE_URI) keeps each count in the counters table
(core/aws/counters.py), which every web process reaches, so a client gets one
budget however many processes and routes its requests land on.

Counting every hit in DynamoDB would cost a write per vote, so a process counts
a key's hits of a fixed window (aligned to the epoch, the same in every
process) in memory and adds them to the shared count in three ways:

- below a tenth of the limit (at least 2 hits), it keeps them to itself: a
  voter voting a few times a minute costs no write at all;
- from there, its background flusher adds what it counted every
  FLUSH_SECONDS (0.5 s), one UpdateItem per key, and learns the shared total;
- from half the limit on (the shared total as last learnt, plus its own),
  every hit is added at once, and the answer is the exact shared total.

The slack: past the limit, another process may still accept what it counted
and has not added yet, under a tenth of the limit plus FLUSH_SECONDS of its
traffic, and never more than half the limit. With N processes a client gets
at most the limit plus (N - 1) halves of it, and far less in practice.

A store error never refuses a vote: Flask-Limiter is told to let the request
through (RATELIMIT_SWALLOW_ERRORS), and hits a flush could not add are kept
for the next one.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from limits.storage import Storage

from core.aws.counters import Counters
from core.rules.errors import StoreError

FLUSH_SECONDS = 0.5
# A window's item outlives its window by this much (DynamoDB's TTL deletes it later).
KEEP_SECONDS = 60


@dataclass
class _Count:
    """One key's count in this process for the current window."""

    start: int  # the window's start, epoch seconds
    length: int  # the window's length, seconds
    limit: int | None  # the limit's amount, when the key states it
    shared: int = 0  # the shared total as last learnt (this process's added hits included)
    pending: int = 0  # hits counted here, not added yet

    @property
    def estimate(self) -> int:
        return self.shared + self.pending

    def keeps_to_itself(self) -> bool:
        """Below a tenth of the limit (at least 2): not worth a write yet."""
        return self.limit is not None and self.estimate < max(2, self.limit // 10)

    def adds_at_once(self) -> bool:
        """From half the limit on, every hit is added (and the answer exact)."""
        return self.limit is None or self.estimate * 2 >= self.limit


def limit_of(key: str) -> int | None:
    """The amount a `limits` key states ("<namespace>/<ids...>/<amount>/<multiples>/<unit>")."""
    parts = key.rsplit("/", 3)
    return int(parts[1]) if len(parts) == 4 and parts[1].isdigit() else None


class SharedCounts(Storage):
    """A `limits` storage whose fixed-window counts live in DynamoDB (see the module).

    `counters` makes the process's Counters adapter; it is called in the process
    that counts (after gunicorn's fork), from a request.
    """

    STORAGE_SCHEME = ["dynamodb"]

    def __init__(
        self,
        uri: str | None = None,
        wrap_exceptions: bool = False,
        counters: Callable[[], Counters] | None = None,
        flush_seconds: float = FLUSH_SECONDS,
        **options,
    ):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        if counters is None:
            raise ValueError("dynamodb:// rate limits need RATELIMIT_STORAGE_OPTIONS counters")
        self._make_counters = counters
        self._flush_seconds = flush_seconds
        self._lock = threading.Lock()
        self._counts: dict[str, _Count] = {}
        self._pid: int | None = None
        self._counters: Counters | None = None
        self._flusher: threading.Thread | None = None

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return StoreError

    # -- the storage interface -----------------------------------------------------

    def incr(self, key: str, expiry: float, amount: int = 1) -> int:
        """Count `amount` hits on `key` in its current window; the count as known now."""
        self._in_this_process()
        with self._lock:
            count = self._current(key, int(expiry), create=True)
            count.pending += amount
            if not count.adds_at_once():
                self._start_flusher()
                return count.estimate
            adding, count.pending = count.pending, 0
        try:
            total = self._counters.add(self._item_key(key, count), adding, self._ttl(count))
        except Exception:
            with self._lock:
                count.pending += adding  # added by a later flush
            raise
        with self._lock:
            count.shared = max(count.shared, total)
            return count.estimate

    def get(self, key: str) -> int:
        with self._lock:
            count = self._current(key)
            return count.estimate if count else 0

    def get_expiry(self, key: str) -> float:
        with self._lock:
            count = self._current(key)
        return float(count.start + count.length) if count else time.time()

    def check(self) -> bool:
        return True

    def reset(self) -> int | None:
        with self._lock:
            self._counts.clear()
        return None

    def clear(self, key: str) -> None:
        with self._lock:
            self._counts.pop(key, None)

    # -- counting ------------------------------------------------------------------

    def _current(self, key: str, length: int = 0, create: bool = False) -> _Count | None:
        """The key's count in its current window (a new one if `create`); under the lock."""
        count = self._counts.get(key)
        now = time.time()
        if count is not None and now < count.start + count.length:
            return count
        if not create:
            return None
        start = int(now // length) * length
        self._counts[key] = count = _Count(start, length, limit_of(key))
        return count

    @staticmethod
    def _item_key(key: str, count: _Count) -> str:
        return f"{key}#{count.start}"

    @staticmethod
    def _ttl(count: _Count) -> int:
        return count.start + count.length + KEEP_SECONDS

    def _in_this_process(self) -> None:
        """Made per process (after the fork): the adapter and the flusher thread."""
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid == os.getpid():
                return
            self._counts = {}
            self._counters = self._make_counters()
            self._flusher = None
            self._pid = os.getpid()

    def _start_flusher(self) -> None:
        """Under the lock: a flusher runs while this process holds counts."""
        if self._flusher is None or not self._flusher.is_alive():
            self._flusher = threading.Thread(target=self._flush_while_counting,
                                             name="rate-counts", daemon=True)  # fmt: skip
            self._flusher.start()

    def _flush_while_counting(self) -> None:
        """Flush every FLUSH_SECONDS; stop once every window it held has ended."""
        while True:
            time.sleep(self._flush_seconds)
            self.flush()
            with self._lock:
                if not self._counts:
                    self._flusher = None
                    return

    def flush(self) -> int:
        """Add the hits counted here past a tenth of their limit to the shared counts,
        and forget windows that ended; how many keys were added."""
        now = time.time()
        with self._lock:
            for key in [k for k, c in self._counts.items() if now >= c.start + c.length]:
                del self._counts[key]
            due = []
            for key, count in self._counts.items():
                if count.pending and not count.keeps_to_itself():
                    due.append((key, count, count.pending))
                    count.pending = 0
        for key, count, adding in due:
            try:
                total = self._counters.add(self._item_key(key, count), adding, self._ttl(count))
            except Exception:  # the store is down: keep them for the next flush
                with self._lock:
                    count.pending += adding
                continue
            with self._lock:
                count.shared = max(count.shared, total)
        return len(due)
