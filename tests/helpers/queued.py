"""Votes in the queue and the store, in process: queue them, record them, read the tallies."""

from __future__ import annotations

import json

from core.rules.clock import new_id, utc_now
from core.rules.votes import VoteMessage
from core.services.worker import VoteWorker
from tests.helpers.waiting import wait_until


def queued_vote(topic: dict, choice_index: int = 0, **extra) -> dict:
    """A vote message for `topic`'s choice, as intake would queue it (`extra` overrides)."""
    fields = {"id": new_id(), "queued_at": utc_now(), **extra}
    vote = VoteMessage(
        topic_id=topic["id"], choice_id=topic["choices"][choice_index]["id"], **fields
    )
    return vote.model_dump(exclude_none=True)


def queue_votes(voting, topic: dict, indexes) -> list[dict]:
    """Queue one vote per choice index in `indexes`; the message bodies sent."""
    bodies = [queued_vote(topic, index) for index in indexes]
    for body in bodies:
        voting.queue.send(body)
    return bodies


def record_queued(voting) -> int:
    """Run the worker's own batch code on what is queued; returns how many it received."""
    handled = 0
    while messages := voting.queue.receive(0):
        report = VoteWorker.over(voting.backend, voting.settings).process(messages)
        handled += report.received
    return handled


def queued_bodies(voting) -> list[dict]:
    """Every message in the votes queue, read (and left invisible) while no worker runs."""
    bodies = []
    while batch := voting.queue.receive(wait_seconds=0):
        bodies += [json.loads(m.body) for m in batch]
    return bodies


def tallies_of(voting, topic: dict) -> list[int]:
    """The topic's counted votes since its last reset, choice by choice, straight from
    the tallies table."""
    stored = voting.store.get_topic(topic["id"]) or {}
    found = voting.store.get_counts(topic["id"], stored.get("generation", 0))
    return [found.get(c["id"], 0) for c in topic["choices"]]


def add_to_tally(voting, topic_id: str, slot: str, n: int) -> None:
    """Add `n` to one tally slot ("<counter>#<shard>") behind the app's back, as a buggy
    writer would: the drift recount must find."""
    voting.store.client.update_item(
        TableName=voting.store.names.tallies,
        Key={"topic_id": {"S": topic_id}, "slot": {"S": slot}},
        UpdateExpression="ADD #c :n",
        ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues={":n": {"N": str(n)}},
    )


def queue_drained(voting) -> bool:
    """No message waiting or in flight in the votes queue (SQS's approximate counts)."""
    depth = voting.queue.message_counts()
    return depth["waiting"] == 0 and depth["in_flight"] == 0


def wait_drained(voting, procs, timeout: float = 120.0) -> None:
    """Wait for the votes queue to drain; on failure, say what is left and what the
    processes logged last (a drain that stalls once in a CI run must explain itself)."""
    try:
        wait_until(lambda: queue_drained(voting), timeout=timeout)
    except AssertionError:
        raise AssertionError(
            f"queue not drained within {timeout:.0f}s: {queue_report(voting, procs)}"
        ) from None


def queue_report(voting, procs) -> str:
    """The votes queue's and the DLQ's counts, and the last 60 lines the processes logged."""
    tail = "\n".join(procs.logs().splitlines()[-60:])
    dead = voting.queue.message_counts(dead_letters=True)
    return f"queue {voting.queue.message_counts()}, dead letters {dead}\n{tail}"
