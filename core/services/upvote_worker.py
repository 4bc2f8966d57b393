"""The worker's upvotes: the upvote and withdrawal messages of a received batch, recorded
exactly once (qna.plan_upvotes decides, core/aws/upvotes.py writes one transaction).

They arrive on the votes queue beside votes (the message's `kind` tells them
apart, core/services/worker.py routes them here) and follow the votes' rules:
each message's record is Put only if new, so a redelivered or duplicated message
counts nothing; a voter's standing upvote is guarded by what the plan read, so
two workers cannot both count one voter's upvote; a message is deleted only
once its transaction committed, and one that cannot be parsed is left for the
dead-letter queue.
"""

from __future__ import annotations

import json
import logging
import random
import time

from pydantic import ValidationError

from core.aws.errors import WriteRetryable
from core.aws.queue import Message
from core.aws.upvotes import QuestionGone, StandingMoved, UpvoteStore
from core.rules.errors import StoreUnavailable
from core.rules.qna import COUNTED, UPVOTE_KINDS, UpvoteMessage, plan_upvotes

log = logging.getLogger("worker")

MAX_ATTEMPTS = 6


def is_upvote(body: str) -> bool:
    """Is this queue message an upvote or a withdrawal (not a vote)?"""
    if '"kind"' not in body:  # votes carry no kind: most bodies are decided here
        return False
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("kind") in UPVOTE_KINDS


class UpvoteRecorder:
    """Records the upvote messages of a batch. The store is injected."""

    def __init__(self, store: UpvoteStore, sleep=time.sleep):
        self.store = store
        self.sleep = sleep

    def process(self, messages: list[Message], report) -> list[Message]:
        """Record the messages; return those to delete (recorded now or before). Adds to
        the batch's report: counted, rejected, duplicates, failed."""
        parsed: dict[str, tuple[UpvoteMessage, list[Message]]] = {}
        for message in messages:
            upvote = _parse(message)
            if upvote is None:
                report.failed += 1
                continue
            parsed.setdefault(upvote.id, (upvote, []))[1].append(message)
        report.duplicates += sum(len(m) - 1 for _, m in parsed.values())
        done = self._record([u for u, _ in parsed.values()], report)
        if done is None:
            report.failed += sum(len(m) for _, m in parsed.values())
            return []
        return [m for upvote_id in done for m in parsed[upvote_id][1]]

    def _record(self, upvotes: list[UpvoteMessage], report) -> set[str] | None:
        """The ids recorded (or found recorded); None when the batch is left for redelivery."""
        settled: set[str] = set()
        gone: set[str] = set()
        attempt = 0
        while attempt < MAX_ATTEMPTS:
            attempt += 1
            live = [u for u in upvotes if u.id not in settled]
            if not live:
                return settled
            try:
                keys = [(u.question_id, u.voter_id) for u in live if u.question_id not in gone]
                standing = self.store.standings(keys)
                writes, changes, deltas = plan_upvotes(live, standing, gone)
                duplicates = self.store.record(writes, changes, deltas)
            except QuestionGone as exc:
                gone.add(exc.question_id)
                attempt -= 1  # a fact learned, not a failed try (bounded by the questions)
                continue
            except (StandingMoved, WriteRetryable) as exc:
                name = type(exc).__name__
                report.retries[name] = report.retries.get(name, 0) + 1
                self.sleep(min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.5))
                continue
            except StoreUnavailable as exc:
                log.error("store unavailable, upvotes left for redelivery: %s", exc)
                return None
            if duplicates:
                settled |= {w.message.id for w in duplicates}
                report.duplicates += len(duplicates)
                attempt -= 1  # fewer messages left: progress, not a failed try
                continue
            for write in writes:
                if write.status == COUNTED:
                    report.counted += 1
                else:
                    report.rejected += 1
            return settled | {w.message.id for w in writes}
        log.error("gave up on %d upvotes after %d attempts", len(upvotes), MAX_ATTEMPTS)
        return None


def _parse(message: Message) -> UpvoteMessage | None:
    try:
        return UpvoteMessage.model_validate(json.loads(message.body))
    except (ValueError, ValidationError, RecursionError) as exc:
        log.warning("unparseable upvote %s, left for the DLQ: %s", message.message_id,
                    str(exc).splitlines()[0])  # fmt: skip
        return None
