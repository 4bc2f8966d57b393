"""Group commit for the votes queue: concurrent sends of one process share a SendMessageBatch.

The way databases group-commit their log: the first vote to arrive is sent at
once (an idle server adds no wait); votes arriving while that send is in
flight wait for it, then leave together in the next SendMessageBatch (up to
10 entries and 256 KiB). Each caller returns only once SQS acknowledged its
own entry, and raises QueueUnavailable if its entry failed: SendMessageBatch
reports per entry, so a partial failure fails only those votes.

There is no background thread. A caller whose entry is pending and finds no
send in flight becomes the sender ("leader") for whatever is pending, and
hands over once its own entry is answered; so every pending entry has a live
request thread behind it, nothing is left unsent when the requests end, and
a fork (gunicorn's workers) copies no thread. The sender is still made per
process, after the fork, like the botocore clients (webapp/services.py).

Bounded: a vote that is still pending (not yet in a batch) `max_wait` seconds
after it arrived is withdrawn and refused (503), so a stalled SQS turns into
quick refusals instead of a pile-up of waiting requests. A vote already in a
batch waits for SQS's answer (bounded by the client's timeouts, clients.py):
withdrawing it then could refuse a vote that SQS stored.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable

from .errors import QueueUnavailable
from .queue import MAX_BATCH, MAX_BATCH_BYTES, VoteQueue

# Called by the leader once per batch with its size and how long each of its
# votes waited (seconds) before the batch left: the web layer's metrics.
BatchObserver = Callable[[int, list[float]], None]


class _Entry:
    """One vote's message and, once SQS answered, its outcome."""

    __slots__ = ("body", "size", "arrived", "deadline", "in_batch", "done", "outcome")

    def __init__(self, body: str, arrived: float, deadline: float):
        self.body = body
        self.size = len(body.encode())
        self.arrived = arrived
        self.deadline = deadline
        self.in_batch = False
        self.done = False
        self.outcome: str | QueueUnavailable | None = None


class GroupSender:
    """Sends queue messages for many threads, batching those that arrive together."""

    def __init__(
        self,
        queue: VoteQueue,
        max_wait: float,
        observe: BatchObserver | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.queue = queue
        self.max_wait = max_wait
        self.observe = observe
        self.clock = clock
        self._changed = threading.Condition(threading.Lock())
        self._pending: deque[_Entry] = deque()
        self._sending = False
        self._closed = False

    def send(self, body: dict) -> str:
        """Queue one message as JSON; its MessageId once SQS stored it, else QueueUnavailable."""
        now = self.clock()
        entry = _Entry(json.dumps(body), now, now + self.max_wait)
        with self._changed:
            if self._closed:
                raise QueueUnavailable("this process is shutting down")
            self._pending.append(entry)
            while not entry.done:
                if not self._sending and not entry.in_batch:
                    self._send_next_batch()
                elif not entry.in_batch:
                    left = entry.deadline - self.clock()
                    if left <= 0:
                        self._pending.remove(entry)
                        self._changed.notify_all()
                        raise QueueUnavailable(f"not sent within {self.max_wait:g} s")
                    self._changed.wait(left)
                else:
                    self._changed.wait()
        if isinstance(entry.outcome, QueueUnavailable):
            raise entry.outcome
        return entry.outcome

    def close(self, timeout: float) -> int:
        """Refuse new sends and send what is pending; the number of entries left unsent.

        Called as a web process exits (gunicorn.conf.py worker_exit): by then
        gunicorn has let the requests in progress finish, so normally nothing
        is pending; anything that is gets sent here rather than dropped.
        """
        deadline = self.clock() + timeout
        with self._changed:
            self._closed = True
            while self._pending or self._sending:
                left = deadline - self.clock()
                if left <= 0:
                    return len(self._pending)
                if not self._sending:
                    self._send_next_batch()
                else:
                    self._changed.wait(left)
        return 0

    def _send_next_batch(self) -> None:
        """As leader, with the lock held: send the oldest pending entries, then answer them.

        The lock is released during the SendMessageBatch so that new votes can
        join the pending list meanwhile (they form the next batch).
        """
        batch = self._take_batch()
        self._sending = True
        waits = [self.clock() - e.arrived for e in batch]
        outcomes: list = [QueueUnavailable("send interrupted")] * len(batch)
        self._changed.release()
        try:
            outcomes = self.queue.send_batch([e.body for e in batch])
        except QueueUnavailable as exc:
            outcomes = [exc] * len(batch)
        except Exception as exc:  # a bug below must not leave the followers waiting forever
            outcomes = [QueueUnavailable(f"send failed: {exc!r}")] * len(batch)
        finally:
            self._changed.acquire()
            for entry, outcome in zip(batch, outcomes, strict=True):
                entry.outcome, entry.done = outcome, True
            self._sending = False
            self._changed.notify_all()
        if self.observe is not None:
            self.observe(len(batch), waits)

    def _take_batch(self) -> list[_Entry]:
        """The oldest pending entries that fit one SendMessageBatch (at least one)."""
        batch: list[_Entry] = []
        size = 0
        while self._pending and len(batch) < MAX_BATCH:
            entry = self._pending[0]
            if batch and size + entry.size > MAX_BATCH_BYTES:
                break
            self._pending.popleft()
            entry.in_batch = True
            batch.append(entry)
            size += entry.size
        return batch
