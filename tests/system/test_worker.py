"""The worker as a real process on a real moto server: exactly-once under faults.

Faults are injected with botocore event hooks by tests/faulty_worker.py,
because moto never duplicates, throttles, conflicts or drops by itself.
"""

from __future__ import annotations

import json
import signal
import threading
from collections import Counter

import pytest
import requests

from core.schemas.topics import TopicIn
from tests.helpers.api import make_topic, vote_counts
from tests.helpers.queued import queue_drained, queue_votes, queued_vote, tallies_of
from tests.helpers.waiting import wait_until


def test_votes_are_counted_and_recorded(procs, voting, topic):
    bodies = queue_votes(voting, topic, [i % 3 for i in range(7)])
    procs.worker()
    wait_until(lambda: sum(tallies_of(voting, topic)) == 7 and queue_drained(voting))
    assert tallies_of(voting, topic) == [3, 2, 2]
    record = voting.store.get_vote(bodies[0]["id"])
    assert record["status"] == "counted" and record["queued_at"] == bodies[0]["queued_at"]


def test_same_message_delivered_twice_counts_once(procs, voting, topic):
    body = queued_vote(topic, 1)
    voting.queue.send(body)
    voting.queue.send(body)
    procs.worker()
    wait_until(lambda: queue_drained(voting) and voting.store.get_vote(body["id"]))
    assert tallies_of(voting, topic) == [0, 1, 0]
    # A late third copy is also dropped.
    voting.queue.send(body)
    wait_until(lambda: queue_drained(voting))
    assert tallies_of(voting, topic) == [0, 1, 0]
    assert "duplicates=1" in procs.logs()


@pytest.mark.env(VISIBILITY_TIMEOUT="2")
def test_sigkill_after_commit_before_delete(procs, voting, topic):
    bodies = queue_votes(voting, topic, [i % 2 for i in range(4)])
    killed = procs.faulty_worker("kill_before_delete")
    assert killed.wait(30) == -signal.SIGKILL
    # The transaction committed, the messages were never deleted.
    assert sum(tallies_of(voting, topic)) == 4
    assert not queue_drained(voting)
    procs.worker()
    wait_until(lambda: queue_drained(voting), message="redelivered messages were not deleted")
    assert tallies_of(voting, topic) == [2, 2, 0]
    assert all(voting.store.get_vote(b["id"])["status"] == "counted" for b in bodies)


@pytest.mark.env(VISIBILITY_TIMEOUT="1", MAX_RECEIVE_COUNT="2")
def test_poison_message_goes_to_dlq_without_blocking_its_batch(procs, voting, topic):
    voting.queue.client.send_message(QueueUrl=voting.queue.url, MessageBody="{not json")
    voting.queue.client.send_message(QueueUrl=voting.queue.url, MessageBody=json.dumps({"id": "x"}))
    queue_votes(voting, topic, [2, 2, 2])
    procs.worker()
    wait_until(lambda: voting.queue.message_counts(dead_letters=True)["waiting"] == 2, timeout=40)
    assert tallies_of(voting, topic) == [0, 0, 3]
    dlq_url = voting.queue._lookup(voting.queue.dlq_name)
    answer = voting.queue.client.receive_message(QueueUrl=dlq_url, MaxNumberOfMessages=10)
    assert sorted(m["Body"] for m in answer["Messages"]) == sorted(["{not json", '{"id": "x"}'])
    wait_until(lambda: queue_drained(voting))


def test_injected_transaction_conflict_is_retried(procs, voting, topic):
    queue_votes(voting, topic, [0, 0, 0])
    procs.faulty_worker("cancel_tx:TransactionConflict:2")
    wait_until(lambda: queue_drained(voting) and sum(tallies_of(voting, topic)) == 3)
    assert tallies_of(voting, topic) == [3, 0, 0]
    # The fault fired (else this test proves nothing) and was retried, not
    # mistaken for a duplicate.
    assert "'TransactionConflict': 2" in procs.logs()
    assert "duplicates=0" in procs.logs()


def test_a_close_after_intake_counts_what_was_queued_before_it_only(procs, voting, topic):
    before = queued_vote(topic, 0)
    voting.queue.send(before)
    voting.topics.set_active(topic["id"], False)
    after = queued_vote(topic, 1)  # queued after the close, as a web process's stale copy may
    voting.queue.send(after)
    procs.worker()
    wait_until(lambda: voting.store.get_vote(before["id"]) and voting.store.get_vote(after["id"]))
    assert voting.store.get_vote(before["id"])["status"] == "counted"
    record = voting.store.get_vote(after["id"])
    assert record["status"] == "rejected" and record["reason"] == "topic_closed"
    assert tallies_of(voting, topic) == [1, 0, 0]


def test_rejected_when_choice_removed_after_intake(procs, voting, topic):
    removed, kept = queued_vote(topic, 2), queued_vote(topic, 0)
    voting.queue.send(removed)
    voting.queue.send(kept)
    data = TopicIn(title=topic["title"], choices=topic["choices"][:2])
    voting.topics.update(topic["id"], data)
    procs.worker()
    wait_until(lambda: voting.store.get_vote(removed["id"]) and voting.store.get_vote(kept["id"]))
    assert voting.store.get_vote(removed["id"])["reason"] == "choice_removed"
    assert voting.store.get_vote(kept["id"])["status"] == "counted"
    assert tallies_of(voting, topic) == [1, 0, 0]


def test_sigterm_finishes_and_exits_zero(procs, voting, topic):
    worker = procs.worker()
    voting.queue.send(queued_vote(topic, 0))
    wait_until(lambda: sum(tallies_of(voting, topic)) == 1)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(30) == 0
    assert "worker stopped" in procs.logs()


def test_concurrent_http_voters_exact_tallies(procs, http, admin):
    base = procs.web(workers=2)
    procs.worker()
    topic = make_topic(http, "Lunch?", ("pizza", "sushi", "salad"), base=base)
    accepted: Counter = Counter()
    statuses: Counter = Counter()
    lock = threading.Lock()

    def voter(n: int):
        with requests.Session() as session:
            for i in range(25):
                choice = topic["choices"][(n + i) % 3]["id"]
                answer = session.post(
                    f"{base}/votes", json={"topic_id": topic["id"], "choice_id": choice}
                )
                with lock:
                    statuses[answer.status_code] += 1
                    if answer.status_code == 202:
                        accepted[choice] += 1

    threads = [threading.Thread(target=voter, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == Counter({202: 200})

    def tallies():
        counts = vote_counts(http, topic["id"], base=base)
        return {c["id"]: n for c, n in zip(topic["choices"], counts, strict=True)}

    wait_until(lambda: sum(tallies().values()) == 200, timeout=60)
    assert tallies() == dict(accepted)
