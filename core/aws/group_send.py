"""Group commit for the votes queue: concurrent sends of one process share a SendMessageBatch.

The way databases group-commit their log: the first vote to arrive is sent at
once (an idle server adds no wait); votes arriving while that send is in
flight wait for it, then leave together in the next SendMessageBatch (up to
10 entries and 256 KiB). While a whole batch waits, another may leave beside
the one in flight (at most `max_in_flight` at once: WEB_IN_FLIGHT for the web).
Each caller returns only once SQS acknowledged its own entry, and raises
QueueUnavailable if its entry failed: SendMessageBatch reports per entry, so a
partial failure fails only those votes.

There is no background thread. A caller whose entry is pending and finds no
send in flight becomes the sender ("leader") for whatever is pending, and
hands over once its own entry is answered; so every pending entry has a live
request thread behind it, nothing is left unsent when the requests end, and
a fork (gunicorn's workers) copies no thread. The sender is still made per
process, after the fork, like the botocore clients (webapp/services.py).

Batch formation under load: with several clients voting in a closed loop
(each sends its next vote once the last was answered), the votes answered by
one batch come back while the next is already on its way, and two half-size
groups leapfrog each other for ever. So a caller can say which client
connection its vote came from (`from_client`, set by a web hook). A leader
about to send waits, at most `max_linger` seconds, until its batch holds as
many votes as the clients this process served in the last CLIENT_WINDOW
seconds (no more than the threads that sent them, nor 10): the groups merge
into one batch per round. One client alone (or a caller naming none) is
never kept waiting: an idle server still sends at once.

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

from core.aws.queue import MAX_BATCH, MAX_BATCH_BYTES, VoteQueue
from core.rules.errors import QueueUnavailable

# A client connection (or thread) that sent a vote this recently counts as
# active: several of its round trips (vote, answer, next vote) under load.
CLIENT_WINDOW = 0.25
# Batches a web process may have in flight at once (the web's sender). The first
# leaves at once; more leave beside it only while a whole batch (10) waits, so small
# groups still form behind the one in flight, and a room's burst (hundreds of votes
# pending in one gevent process) is not held to one SQS round trip per 10 votes.
WEB_IN_FLIGHT = 4

# Called by the leader once per batch with its size and how long each of its
# votes waited (seconds) before the batch left: the web layer's metrics.
BatchObserver = Callable[[int, list[float]], None]


class _Entry:
    """One vote's message and, once SQS answered, its outcome."""

    __slots__ = ("body", "size", "arrived", "deadline", "in_batch", "done", "outcome", "_signal")

    def __init__(self, body: str, arrived: float, deadline: float):
        self.body = body
        self.size = len(body.encode())
        self.arrived = arrived
        self.deadline = deadline
        self.in_batch = False
        self.done = False
        self.outcome: str | QueueUnavailable | None = None
        # Wakes only this vote's thread (answered, or its turn to lead), and not
        # through the sender's lock: a Condition on that lock would make every
        # answered thread queue for the lock the leader still holds (a second
        # sleep and wake-up per vote) before it could return. Held = no news.
        self._signal = threading.Lock()
        self._signal.acquire()

    def wake(self) -> None:
        """Tell the waiting thread to look again (the caller holds the sender's lock)."""
        if self._signal.locked():  # else a wake-up is already on its way: one is enough
            self._signal.release()

    def sleep(self, timeout: float | None) -> None:
        """Wait for wake() (at most `timeout` seconds); the caller released the sender's lock."""
        self._signal.acquire(timeout=-1 if timeout is None else timeout)


class GroupSender:
    """Sends queue messages for many threads, batching those that arrive together."""

    def __init__(
        self,
        queue: VoteQueue,
        max_wait: float,
        observe: BatchObserver | None = None,
        clock: Callable[[], float] = time.monotonic,
        max_linger: float = 0.0,
        max_in_flight: int = 1,
    ):
        self.queue = queue
        self.max_in_flight = max_in_flight
        self.max_wait = max_wait
        self.max_linger = max_linger
        self.observe = observe
        self.clock = clock
        self.client_window = CLIENT_WINDOW
        lock = self._lock = threading.Lock()
        self._changed = threading.Condition(lock)
        # Wakes only a lingering leader (not every waiting follower) when a vote joins.
        self._joined = threading.Condition(lock)
        self._caller = threading.local()
        # When each recent client connection and each recent sending thread last
        # sent (threads by object: a finished thread's ident can be reused).
        self._clients: dict[object, float] = {}
        self._threads: dict[threading.Thread, float] = {}
        # While a leader lingers: the batch size it waits for (never reached otherwise).
        self._linger_target = MAX_BATCH + 1
        self._pending: deque[_Entry] = deque()
        self._in_flight = 0  # batches sent and not yet answered
        self._closed = False

    def send(self, body: dict) -> str:
        """Queue one message as JSON; its MessageId once SQS stored it, else QueueUnavailable."""
        now = self.clock()
        entry = _Entry(json.dumps(body), now, now + self.max_wait)
        self._lock.acquire()
        held = True
        try:
            if self._closed:
                raise QueueUnavailable("this process is shutting down")
            self._pending.append(entry)
            self._note_client(now)
            while not entry.done:
                if not entry.in_batch and self._may_lead():
                    self._send_next_batch()
                    continue
                left = None
                if not entry.in_batch:
                    left = entry.deadline - self.clock()
                    if left <= 0:
                        self._pending.remove(entry)
                        self._changed.notify_all()  # close() may wait for the pending list
                        raise QueueUnavailable(f"not sent within {self.max_wait:g} s")
                self._lock.release()
                held = False
                entry.sleep(left)
                if entry.done:  # set before its wake-up: an answered vote returns lock-free
                    break
                self._lock.acquire()
                held = True
        finally:
            if held:
                self._lock.release()
        if isinstance(entry.outcome, QueueUnavailable):
            raise entry.outcome
        return entry.outcome

    def _may_lead(self) -> bool:
        """May a caller send a batch now? When none is in flight, or beside those in
        flight when a whole batch waits (and fewer than `max_in_flight` are out)."""
        if self._in_flight == 0:
            return True
        return self._in_flight < self.max_in_flight and len(self._pending) >= MAX_BATCH

    def from_client(self, key: object) -> None:
        """The votes this thread sends next come from this client connection (None: unknown)."""
        self._caller.client = key

    def _note_client(self, now: float) -> None:
        client = getattr(self._caller, "client", None)
        if client is not None:
            self._clients[client] = now
            self._threads[threading.current_thread()] = now
        if len(self._pending) >= self._linger_target:
            self._joined.notify()  # once per batch: waking the leader per vote costs CPU

    def _expected(self) -> int:
        """How many votes a batch can hope for now: the recently active clients and threads."""
        since = self.clock() - self.client_window
        for recent in (self._clients, self._threads):
            for key in [k for k, t in recent.items() if t < since]:
                del recent[key]
        return min(MAX_BATCH, len(self._clients), len(self._threads))

    def close(self, timeout: float) -> int:
        """Refuse new sends and send what is pending; the number of entries left unsent.

        Called as a web process exits (gunicorn.conf.py worker_exit): by then
        gunicorn has let the requests in progress finish, so normally nothing
        is pending; anything that is gets sent here rather than dropped.
        """
        deadline = self.clock() + timeout
        with self._changed:
            self._closed = True
            self._joined.notify()  # a lingering leader sends now
            while self._pending or self._in_flight:
                left = deadline - self.clock()
                if left <= 0:
                    return len(self._pending)
                if not self._in_flight:
                    self._send_next_batch()
                else:
                    self._changed.wait(left)
        return 0

    def _send_next_batch(self) -> None:
        """As leader, with the lock held: send the oldest pending entries, then answer them.

        The lock is released during the SendMessageBatch so that new votes can
        join the pending list meanwhile (they form the next batch).
        """
        self._in_flight += 1
        self._linger()
        batch = self._take_batch()
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
                entry.wake()
            self._in_flight -= 1
            if self._pending:
                self._pending[0].wake()  # the oldest pending vote leads the next batch
            if self._closed:
                self._changed.notify_all()
        if self.observe is not None:
            self.observe(len(batch), waits)

    def _linger(self) -> None:
        """Wait (at most max_linger) while the batch holds fewer votes than active clients."""
        if self.max_linger <= 0 or self._closed or getattr(self._caller, "client", None) is None:
            return  # a leader naming no client keeps the plain group commit
        until = self.clock() + self.max_linger
        self._linger_target = self._expected()
        try:
            while len(self._pending) < self._linger_target and not self._closed:
                left = until - self.clock()
                if left <= 0:
                    return
                self._joined.wait(left)
        finally:
            self._linger_target = MAX_BATCH + 1

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
