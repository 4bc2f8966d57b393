"""The vote worker loop: long-polls the votes queue and records each batch in DynamoDB.

`worker.py` at the project root is its entry (the Procfile's `worker:`).

Exactly-once tallies on an at-least-once queue: every vote carries the id it
was given at intake, and the vote record is written with
`attribute_not_exists(id)` in the same transaction as its tally increment. A
redelivered message therefore fails its condition, is dropped from the
transaction and deleted without being counted again.

Messages are deleted only after their transaction committed. A message that
cannot be parsed (or names a topic that does not exist) is left alone, so
after MAX_RECEIVE_COUNT receives SQS moves it to the dead-letter queue.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import signal
import threading
import time
from dataclasses import asdict, dataclass, field

from pydantic import ValidationError

from core.aws.backend import Backend
from core.aws.batch import BatchOutcome, BatchWriter
from core.aws.errors import (
    BallotChanged,
    TalliesChanged,
    TopicChanged,
    WriteInvalid,
    WriteRetryable,
)
from core.aws.queue import Message, VoteQueue
from core.aws.store import Store
from core.aws.upvotes import UpvoteStore
from core.logs import configure as configure_logging
from core.rules.errors import QueueUnavailable, StoreUnavailable
from core.rules.game import plan_takes, standing_keys, standings_of
from core.rules.planning import pick_shards, plan_batch, voter_keys
from core.rules.votes import COUNTED, REPLACED, VoteMessage
from core.services.upvote_worker import UpvoteRecorder, is_upvote
from core.services.worker_metrics import WorkerMetrics
from core.services.worker_metrics import serve as serve_metrics
from core.settings import InvalidSettings, Settings, environment_help

log = logging.getLogger("worker")

MAX_WRITE_ATTEMPTS = 6
# Re-plans after losing a ballot race to another worker's progress (a voter's ballot
# moved by a vote it recorded): not failed attempts, as the other worker moved on and
# ours is next, but bounded all the same, so a voter changing votes without end
# cannot hold a batch forever.
MAX_CONTENDED_REPLANS = 10 * MAX_WRITE_ATTEMPTS


@dataclass
class BatchReport:
    received: int = 0
    counted: int = 0
    duplicates: int = 0
    rejected: int = 0
    replaced: int = 0
    failed: int = 0
    delete_failed: int = 0
    retries: dict = field(default_factory=dict)
    # {"id", "request_id"} of each parsed vote: the batch line links votes to requests.
    votes: list = field(default_factory=list)

    def fields(self) -> dict:
        """The report as structured log fields."""
        return {"event": "batch", **asdict(self)}

    def line(self) -> str:
        return (
            f"batch received={self.received} counted={self.counted} "
            f"duplicates={self.duplicates} rejected={self.rejected} failed={self.failed}"
            + (f" replaced={self.replaced}" if self.replaced else "")
            + (f" delete_failed={self.delete_failed}" if self.delete_failed else "")
            + (f" retries={self.retries}" if self.retries else "")
        )


class VoteWorker:
    """Records batches of queued votes. Store and queue are injected."""

    def __init__(
        self,
        store: Store,
        batches: BatchWriter,
        queue: VoteQueue,
        settings: Settings,
        sleep=time.sleep,
        metrics=None,
        choose=random.randrange,
        upvotes: UpvoteRecorder | None = None,
    ):
        self.store = store
        self.batches = batches
        self.queue = queue
        self.settings = settings
        self.sleep = sleep
        self.metrics = metrics or WorkerMetrics(settings.worker_wait_seconds)
        # A game's rival pick (game.pick_rival): random; tests pass a seeded one.
        self.choose = choose
        # Upvotes of audience questions travel on the same queue (upvote_worker.py):
        # their recorder is made at the first one, over the store's client.
        self.upvotes = upvotes

    @classmethod
    def over(cls, backend: Backend, settings: Settings, **kwargs) -> VoteWorker:
        """A worker over a process's adapters (kwargs: sleep, metrics, choose)."""
        return cls(backend.store, backend.batches, backend.queue, settings, **kwargs)

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                messages = self.queue.receive(self.settings.worker_wait_seconds)
            except QueueUnavailable as exc:
                log.error("receive failed: %s", exc)
                self.metrics.receive_failed()
                stop.wait(2)
                continue
            self.metrics.polled()
            if messages:
                started = time.monotonic()
                try:
                    report = self.process(messages)
                except Exception:
                    # A bug must not kill the loop: the batch stays undeleted,
                    # so it is retried and, if it keeps failing, lands in the DLQ.
                    log.exception("batch of %d failed unexpectedly", len(messages))
                    continue
                self.metrics.batch(report, messages, time.monotonic() - started)
                log.info(report.line(), extra=report.fields())

    def process(self, messages: list[Message]) -> BatchReport:
        """Record one received batch; delete exactly the messages whose votes are recorded."""
        report = BatchReport(received=len(messages))
        # Upvotes of audience questions share the queue; they are recorded on their own.
        upvotes = [m for m in messages if is_upvote(m.body)]
        votes: dict[str, tuple[VoteMessage, list[Message]]] = {}
        for message in (m for m in messages if m not in upvotes):
            vote = _parse(message)
            if vote is None:
                report.failed += 1
                continue
            # The same vote twice in one batch (a client or SQS sending it
            # again): one write, and every copy is deleted if it commits.
            votes.setdefault(vote.id, (vote, []))[1].append(message)
        report.votes = [{"id": v.id, "request_id": v.request_id} for v, _ in votes.values()]

        with _Heartbeat(self.queue, messages, self.settings.visibility_timeout):
            done, report_failed = (set(), 0)
            if votes:
                done, report_failed = self._record(list(votes.values()), report)
            upvoted = self._upvotes().process(upvotes, report) if upvotes else []
        report.failed += report_failed
        to_delete = [m for vote_id in done for m in votes[vote_id][1]]
        report.duplicates += sum(len(votes[v][1]) - 1 for v in done)
        to_delete += upvoted
        try:
            failed = self.queue.delete(to_delete)
        except QueueUnavailable as exc:
            # Recorded but not deleted: redelivery is harmless (the vote is a
            # duplicate next time), so this is logged, not retried.
            log.error("delete failed: %s", exc)
            failed = to_delete
        report.delete_failed = len(failed)
        return report

    def _upvotes(self) -> UpvoteRecorder:
        if self.upvotes is None:
            store = UpvoteStore(self.store.client, self.store.names.prefix)
            self.upvotes = UpvoteRecorder(store, sleep=self.sleep)
        return self.upvotes

    def _record(self, items, report: BatchReport) -> tuple[set[str], int]:
        """Write the batch, re-planning on topic or ballot changes, retrying on conflicts.

        Returns the vote ids whose records are now stored, and how many
        messages were left for redelivery (poison or unrecordable).
        """
        shards = pick_shards([vote for vote, _ in items], self.settings.tally_shards)
        poison: set[str] = set()
        # Topic states learned from failed topic checks, for this batch only:
        # the happy path never reads a topic (the transaction's ConditionCheck
        # is the check), and a topic reopened later is never judged stale.
        topics: dict[str, dict] = {}
        ballots: dict | None = None
        # Votes a game batch settled before it had to re-plan (TalliesChanged): recorded
        # by an earlier transaction of the batch, or found recorded before. Never re-planned.
        settled = BatchOutcome()
        # The ballots a transaction that lost a ballot race was planned on.
        lost_on: dict | None = None
        attempt = contended = 0
        while attempt < MAX_WRITE_ATTEMPTS:
            attempt += 1
            done_ids = {w.vote_id for w in settled.recorded + settled.duplicates}
            live = [vote for vote, _ in items if vote.id not in poison | done_ids]
            try:
                if ballots is None:
                    ballots = self.store.get_ballots(voter_keys(live, topics))
                    if lost_on is not None and ballots != lost_on:
                        if contended < MAX_CONTENDED_REPLANS:
                            attempt -= 1  # another worker's progress, not a failed try
                        contended += 1
                    lost_on = None
                writes = plan_batch(live, topics, ballots, shards)
                self._plan_takes(writes)
                outcome = self.batches.record(writes)
            except TopicChanged as exc:
                if exc.topic is None:
                    log.warning("topic %s does not exist: its votes go to the DLQ", exc.topic_id)
                    poison |= {v.id for v in live if v.topic_id == exc.topic_id}
                else:
                    topics[exc.topic_id] = exc.topic
                ballots = None  # the policy may have changed: read again what it needs
                continue
            except BallotChanged:
                lost = report.retries["BallotChanged"] = report.retries.get("BallotChanged", 0) + 1
                lost_on, ballots = ballots, None
                # Jittered and growing: two workers re-planning in step would collide again.
                self.sleep(random.uniform(0.0, min(0.2, 0.01 * 2**lost)))
                continue
            except TalliesChanged as exc:
                report.retries["TalliesChanged"] = report.retries.get("TalliesChanged", 0) + 1
                settled.recorded += exc.recorded
                settled.duplicates += exc.duplicates
                ballots = None  # a settled vote may hold a ballot now
                if exc.recorded or exc.duplicates:
                    attempt -= 1  # fewer votes are left to plan: progress, not a failed try
                continue
            except WriteRetryable as exc:
                report.retries[str(exc)] = report.retries.get(str(exc), 0) + 1
                self.sleep(min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.5))
                continue
            except WriteInvalid as exc:
                return self._isolate(items, poison, report, exc)
            except StoreUnavailable as exc:
                log.error("store unavailable, batch left for redelivery: %s", exc)
                return set(), sum(len(m) for _, m in items)
            outcome.recorded[:0] = settled.recorded
            outcome.duplicates[:0] = settled.duplicates
            for write in outcome.recorded:
                if write.status == COUNTED:
                    report.counted += 1
                elif write.status == REPLACED:
                    report.replaced += 1
                else:
                    report.rejected += 1
            report.duplicates += len(outcome.duplicates)
            done = {w.vote_id for w in outcome.recorded + outcome.duplicates}
            return done, sum(len(m) for v, m in items if v.id in poison)
        log.error("gave up after %d attempts; batch left for redelivery", MAX_WRITE_ATTEMPTS)
        return set(), sum(len(m) for _, m in items)

    def _plan_takes(self, writes) -> None:
        """Give the plan's game votes their rival takes (game.py), on standings read now:
        one consistent Query of each game topic's tallies. Batches without a game read none."""
        keys = standing_keys(writes)
        if keys:
            standings = {key: standings_of(self.store.get_slot_counts(*key)) for key in keys}
            plan_takes(writes, standings, self.choose)

    def _isolate(self, items, poison: set[str], report: BatchReport, exc: Exception):
        """DynamoDB refused the batch as malformed: record each vote on its own, so
        the valid ones are recorded once and only the bad one is left for the DLQ
        (a batch retried whole would send every vote there, and redrive would loop)."""
        live = [item for item in items if item[0].id not in poison]
        failed = sum(len(m) for v, m in items if v.id in poison)
        if len(live) == 1:
            vote, messages = live[0]
            log.warning("DynamoDB refused vote %s, left for the DLQ: %s", vote.id, exc)
            return set(), failed + len(messages)
        done: set[str] = set()
        for item in live:
            recorded, left = self._record([item], report)
            done |= recorded
            failed += left
        return done, failed


def _parse(message: Message) -> VoteMessage | None:
    try:
        return VoteMessage.model_validate(json.loads(message.body))
    except (ValueError, ValidationError, RecursionError) as exc:
        log.warning(
            "unparseable message %s (receive %d), left for the DLQ: %s",
            message.message_id,
            message.receive_count,
            str(exc).splitlines()[0],
        )
        return None


class _Heartbeat:
    """While a batch takes long, keep its messages invisible to other workers.

    Every half visibility timeout, ChangeMessageVisibility pushes the timeout
    out again, so a slow transaction is never processed by two workers at once.
    """

    def __init__(self, queue: VoteQueue, messages: list[Message], timeout: int):
        self.queue, self.messages, self.timeout = queue, messages, timeout
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True)

    def _beat(self):
        while not self._stop.wait(self.timeout / 2):
            try:
                self.queue.extend(self.messages, self.timeout)
                log.info("extended visibility of %d messages", len(self.messages))
            except QueueUnavailable as exc:
                log.error("could not extend visibility: %s", exc)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def build_parser() -> argparse.ArgumentParser:
    """The worker's command line; its help lists the settings the worker reads."""
    parser = argparse.ArgumentParser(
        description=(
            "Voting Game worker: long-polls the votes queue and records votes in DynamoDB, "
            "exactly once. Configured by the environment (below). "
            "SIGTERM or SIGINT: stop receiving, finish the batch in hand, exit 0."
        ),
        epilog=environment_help(worker=True),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--wait-seconds",
        type=int,
        default=None,
        help="long-poll wait (default WORKER_WAIT_SECONDS)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    overrides = {} if args.wait_seconds is None else {"worker_wait_seconds": args.wait_seconds}
    try:
        settings = Settings.from_env(**overrides)
    except InvalidSettings as exc:
        parser.error(str(exc))
    configure_logging("worker", settings.log_level)
    backend = Backend.connect(settings)
    metrics = WorkerMetrics(settings.worker_wait_seconds)
    worker = VoteWorker.over(backend, settings, metrics=metrics)
    metrics_server = None
    if settings.metrics_port:
        try:
            metrics_server = serve_metrics(metrics, settings.metrics_port)
            log.info("metrics and health on port %d", settings.metrics_port)
        except OSError as exc:
            # Votes matter more than metrics: keep consuming, but say so loudly.
            log.error("metrics server not started on port %d: %s", settings.metrics_port, exc)
    stop = threading.Event()

    def on_signal(signum, _frame):
        log.info("signal %d: finishing the batch in hand, then exiting", signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    log.info("worker started on queue %s", settings.full_queue_name)
    worker.run(stop)
    if metrics_server is not None:
        metrics_server.shutdown()
    log.info("worker stopped")
    return 0
