"""Two workers recording the same voter's votes at once, over a real moto server.

A worker's batch transaction guards each voter's ballot with what it read; when
another worker moves that ballot first, the batch re-reads and re-plans
(BallotChanged). Here the rival always wins the race: it records the voter's next
vote right after each of the worker's ballot reads, so every transaction of the
worker is cancelled until the rival runs out of votes.
"""

from __future__ import annotations

import json

import pytest

from core.services.repair import recount
from core.services.worker import MAX_WRITE_ATTEMPTS, VoteWorker
from tests.helpers.api import ADMIN, api_vote, make_topic, vote_counts


class RivalAfterEachRead:
    """A store whose every ballot read is followed by the rival worker's next write."""

    def __init__(self, store, rival_turn):
        self._store, self._rival_turn = store, rival_turn

    def __getattr__(self, name):
        return getattr(self._store, name)

    def get_ballots(self, keys):
        ballots = self._store.get_ballots(keys)
        self._rival_turn()
        return ballots


def received_by_id(voting, count: int) -> dict:
    """Receive `count` queued messages (10 at most per receive): {vote id: message}."""
    messages = {}
    while len(messages) < count and (batch := voting.queue.receive(0)):
        messages |= {json.loads(m.body)["id"]: m for m in batch}
    assert len(messages) == count
    return messages


# Two receives: old code gave up each one after MAX_WRITE_ATTEMPTS lost races, and
# the third receive moved the vote to the DLQ.
@pytest.mark.env(MAX_RECEIVE_COUNT="2")
def test_a_batch_that_keeps_losing_the_ballot_race_waits_and_is_recorded_not_dead_lettered(
    client, voting
):
    topic = make_topic(client, vote_limit="changeable")
    # The rival's votes are queued first, so the worker's vote is the voter's latest
    # and each of the rival's moves cancels the worker's transaction.
    rival_count = 2 * MAX_WRITE_ATTEMPTS + 3
    rival_votes = [api_vote(client, topic, 0, voter_id="ann") for _ in range(rival_count)]
    latest = api_vote(client, topic, 1, voter_id="ann")
    messages = received_by_id(voting, rival_count + 1)

    rival = VoteWorker.over(voting.backend, voting.settings)
    pending = [messages[v] for v in rival_votes]

    def rival_turn():
        if pending:
            assert rival.process([pending.pop(0)]).received == 1

    pauses = []
    worker = VoteWorker(
        RivalAfterEachRead(voting.store, rival_turn),
        voting.backend.batches,
        voting.queue,
        voting.settings,
        sleep=pauses.append,
    )
    message, reports = messages[latest], []
    while message is not None:
        reports.append(worker.process([message]))
        if reports[-1].failed == 0:
            break
        voting.queue.extend([message], 0)  # left for redelivery: visible again at once
        message = next(iter(voting.queue.receive(0)), None)  # None: dead-lettered

    lines = [r.line() for r in reports]
    assert voting.queue.message_counts(dead_letters=True)["waiting"] == 0, lines
    assert (len(reports), reports[0].counted) == (1, 1), lines
    assert reports[0].retries == {"BallotChanged": rival_count}
    assert len(pauses) == rival_count  # a jittered pause before each re-plan
    assert pending == []
    record = client.get(f"/votes/{latest}", headers=ADMIN).get_json()
    assert record["status"] == "counted"
    for vote_id in rival_votes:
        assert client.get(f"/votes/{vote_id}", headers=ADMIN).get_json()["status"] == "replaced"
    assert vote_counts(client, topic["id"]) == [0, 1]
    assert voting.queue.message_counts() == {"waiting": 0, "in_flight": 0}
    assert recount(voting.store, topic["id"]).drift == {}
