"""How often the worker re-plans a batch that keeps losing ballot races (no server).

A lost race (BallotChanged) whose re-read finds the ballots moved is another
worker's progress: not a failed attempt, up to MAX_CONTENDED_REPLANS. One whose
re-read finds them as before changes nothing in the plan, so it is a failed attempt,
and MAX_WRITE_ATTEMPTS of them leave the batch for redelivery. Either way the
worker pauses (jittered) before re-planning. The race itself, with two workers over
a moto server, is tests/integration/test_worker_contention.py.
"""

from __future__ import annotations

from core.aws.errors import BallotChanged
from core.aws.queue import Message
from core.rules.votes import VoteMessage
from core.services.worker import MAX_CONTENDED_REPLANS, MAX_WRITE_ATTEMPTS, VoteWorker
from core.settings import Settings


class Ballots:
    """get_ballots: the same ballot every read, or (`moving`) a newer one each read."""

    def __init__(self, moving: bool):
        self.moving, self.reads = moving, 0

    def get_ballots(self, keys):
        self.reads += 1
        vote_id = f"other-{self.reads}" if self.moving else "other"
        return {key: {"vote_id": vote_id, "queued_at": "2030-01-01T00:00:00.000000"}
                for key in keys}  # fmt: skip


class AlwaysLosing:
    """record() that loses the ballot race every time."""

    def __init__(self):
        self.calls = 0

    def record(self, writes):
        self.calls += 1
        raise BallotChanged("t1/ann")


class Queue:
    def delete(self, messages):
        return []


def one_vote() -> list[Message]:
    vote = VoteMessage(id="v1", topic_id="t1", choice_id="a", voter_id="ann",
                       vote_limit="changeable", queued_at="2030-01-01T00:00:01.000000")  # fmt: skip
    return [Message("m1", "r1", vote.model_dump_json(), 1, 0)]


def run(moving: bool):
    store, batches, pauses = Ballots(moving), AlwaysLosing(), []
    worker = VoteWorker(store, batches, Queue(), Settings(), sleep=pauses.append)
    return worker.process(one_vote()), store, batches, pauses


def test_a_lost_race_that_changes_nothing_is_a_failed_attempt():
    report, store, batches, pauses = run(moving=False)
    assert batches.calls == store.reads == MAX_WRITE_ATTEMPTS
    assert (report.counted, report.failed) == (0, 1)  # left for redelivery
    assert report.retries == {"BallotChanged": MAX_WRITE_ATTEMPTS}
    assert len(pauses) == MAX_WRITE_ATTEMPTS and all(0 <= p <= 0.2 for p in pauses)


def test_races_lost_to_other_workers_progress_cost_no_attempt_up_to_a_bound():
    report, store, batches, pauses = run(moving=True)
    # The first read has nothing to compare with, so it is an attempt; then each
    # moved ballot is free until MAX_CONTENDED_REPLANS, after which they count again.
    assert batches.calls == MAX_CONTENDED_REPLANS + MAX_WRITE_ATTEMPTS
    assert (report.counted, report.failed) == (0, 1)
    assert len(pauses) == batches.calls and max(pauses) <= 0.2
    assert max(pauses) > 0.01  # the pause grows with the races lost
