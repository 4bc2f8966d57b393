"""The game's exact tug of war on a real moto server: votes through the API, recorded by
the worker's own batch code (seeded rival picks), standings proven from the records.

Every check holds for any pick: per choice, standing = cast - taken in the tallies and
in the records, no tally slot below zero, every redelivered vote neither added nor
took twice, and `recount` rebuilds standing, cast and taken from the records alone.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.schemas.votes import VoteIn
from core.services.worker import VoteWorker
from tests.helpers.api import ADMIN, make_topic
from tests.helpers.queued import add_to_tally, queued_bodies

CHOICES = "abcd"


def new_game(client, **settings) -> dict:
    return make_topic(client, title="tug of war", choices=CHOICES, type="game", **settings)


def record_with(voting, seed: int) -> Counter:
    """The worker's batch code on everything queued, picking rivals with a seeded chooser;
    its reports added up (received, counted, duplicates, retries by cause)."""
    worker = VoteWorker.over(voting.backend, voting.settings, choose=random.Random(seed).randrange)
    totals = Counter()
    while messages := voting.queue.receive(0):
        report = worker.process(messages)
        totals.update(received=report.received, counted=report.counted,
                      duplicates=report.duplicates, **report.retries)  # fmt: skip
    return totals


def cast(voting, topic: dict, indexes, **extra) -> None:
    """Votes for the topic's choices `indexes`, through the Voting service, 8 at a time."""
    ids = [c["id"] for c in topic["choices"]]
    payloads = [VoteIn(topic_id=topic["id"], choice_id=ids[i], **extra) for i in indexes]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(voting.cast, payloads))


def counted_records(voting, topic: dict) -> list[dict]:
    records = list(voting.store.topic_votes(topic["id"]))
    return [r for r in records if r["status"] == "counted"]


def assert_exact(client, voting, topic: dict, votes: int) -> dict:
    """The game's invariants, from the API's results, the tallies and the records; the
    results as the API shows them."""
    answer = client.get(f"/topics/{topic['id']}?include_votes=true", headers=ADMIN)
    results = answer.json["results"]
    rows = {row["id"]: row for row in results["choices"]}
    records = counted_records(voting, topic)
    assert len(records) == votes == results["cast"]
    cast = Counter(r["choice_id"] for r in records)
    taken = Counter(r["took"]["choice_id"] for r in records if "took" in r)
    for choice_id, row in rows.items():
        assert row["standing"] == row["cast"] - row["taken"] >= 0
        assert (row["cast"], row["taken"]) == (cast[choice_id], taken[choice_id])
    assert results["taken"] == sum(taken.values())
    slots = voting.store.get_slot_counts(topic["id"])
    assert min(slots.values()) >= 0, slots  # no slot ever taken below zero
    for record in records:
        if "took" in record:
            assert record["took"]["choice_id"] != record["choice_id"]
    return results


def test_the_first_vote_takes_nothing_and_the_next_takes_from_the_only_rival(client, voting):
    topic = new_game(client)
    cast(voting, topic, [0])
    record_with(voting, 1)
    cast(voting, topic, [1])
    record_with(voting, 1)
    results = assert_exact(client, voting, topic, 2)
    standing = [row["standing"] for row in results["choices"]]
    assert standing == [0, 1, 0, 0] and results["taken"] == 1
    second = next(
        r for r in counted_records(voting, topic) if r["choice_id"] != topic["choices"][0]["id"]
    )
    assert second["took"]["choice_id"] == topic["choices"][0]["id"]


@pytest.mark.env(TALLY_SHARDS="3")
def test_concurrent_voters_and_two_workers_keep_standing_exactly_cast_minus_taken(client, voting):
    topic = new_game(client)
    cast(voting, topic, [i % 4 if i % 3 else 0 for i in range(60)])
    barrier = threading.Barrier(2)

    def work(seed):
        barrier.wait()
        record_with(voting, seed)

    workers = [threading.Thread(target=work, args=(seed,)) for seed in (1, 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    record_with(voting, 3)  # anything a conflict left for redelivery
    results = assert_exact(client, voting, topic, 60)
    assert results["taken"] > 0


def test_every_message_redelivered_neither_adds_nor_takes_twice(client, voting):
    topic = new_game(client)
    cast(voting, topic, [i % 4 for i in range(24)])
    bodies = queued_bodies(voting)
    # Half recorded first; then every vote comes again, mixed with the other half,
    # so batches hold redeliveries beside new votes.
    for body in bodies[:12]:
        voting.queue.send(body)
    record_with(voting, 4)
    before = assert_exact(client, voting, topic, 12)
    again = bodies + bodies[12:]
    random.Random(5).shuffle(again)
    for body in again:
        voting.queue.send(body)
    mixed = record_with(voting, 6)
    assert (mixed["counted"], mixed["duplicates"]) == (12, 24)
    # Redeliveries beside new votes whose takes were planned after them: re-planned.
    assert mixed["TalliesChanged"] >= 1
    after = assert_exact(client, voting, topic, 24)
    first_half = {b["id"] for b in bodies[:12]}
    kept = [r for r in counted_records(voting, topic) if r["id"] in first_half]
    assert len(kept) == 12 and after["cast"] == 24 and before["cast"] == 12
    # Sent a third time: nothing moves.
    for body in bodies:
        voting.queue.send(body)
    assert record_with(voting, 7)["duplicates"] == 24
    assert assert_exact(client, voting, topic, 24) == after


def test_one_per_voter_refuses_the_second_vote_and_takes_once(client, voting):
    topic = new_game(client, vote_limit="one_per_voter")
    cast(voting, topic, [1], voter_id="v0")
    record_with(voting, 8)
    ids = [c["id"] for c in topic["choices"]]
    body = {"topic_id": topic["id"], "voter_id": "v1", "choice_id": ids[0]}
    racing = {**body, "choice_id": ids[2]}
    # Both pass intake before either is recorded: the worker keeps the first.
    assert [client.post("/votes", json=b).status_code for b in (body, racing)] == [202, 202]
    record_with(voting, 9)
    again = client.post("/votes", json=body)
    assert again.status_code == 409 and "already voted" in again.json["detail"]
    results = assert_exact(client, voting, topic, 2)
    assert [row["standing"] for row in results["choices"]] == [1, 0, 0, 0]
    statuses = Counter(
        (r["status"], r.get("reason")) for r in voting.store.topic_votes(topic["id"])
    )
    assert statuses == {("counted", None): 2, ("rejected", "duplicate_voter"): 1}


def test_changeable_is_refused_for_a_game(client):
    body = {"title": "g", "choices": [{"description": c} for c in "ab"], "type": "game",
            "vote_limit": "changeable"}  # fmt: skip
    answer = client.post("/topics", json=body, headers=ADMIN)
    assert answer.status_code == 422 and "vote_limit" in str(answer.json["detail"])


def test_recount_proves_the_standings_and_reports_a_tampered_tally(client, voting, runner):
    topic = new_game(client)
    cast(voting, topic, [i % 3 for i in range(15)])
    record_with(voting, 10)
    results = assert_exact(client, voting, topic, 15)
    clean = runner.invoke(args=["recount", topic["id"]])
    assert clean.exit_code == 0 and "15 counted votes, no drift" in clean.output
    # A buggy writer adds a standing vote to a choice behind the app's back.
    tampered = next(row["id"] for row in results["choices"] if row["standing"] > 0)
    add_to_tally(voting, topic["id"], f"{tampered}#0", 2)
    found = runner.invoke(args=["recount", topic["id"]])
    assert found.exit_code == 1
    assert f"choice {tampered} tally" in found.output and "(drift +2)" in found.output
    fixed = runner.invoke(args=["recount", topic["id"], "--fix"])
    assert fixed.exit_code == 0, fixed.output
    assert assert_exact(client, voting, topic, 15) == results
