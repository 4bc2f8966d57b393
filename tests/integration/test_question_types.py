"""Question types end to end on a real moto server: the API takes each type's topic and
vote, the worker's own batch code records them, and the results count each vote once.

Concurrent voters (threads casting through the Voting service, two workers recording
at once), redelivered messages, changeable and one_per_voter per type, and the
100-item limit of one DynamoDB transaction.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.schemas.votes import VoteIn
from core.services.repair import fix, recount
from core.services.worker import VoteWorker
from tests.helpers.api import ADMIN, make_topic
from tests.helpers.queued import queued_bodies, record_queued

# One topic of each type: its settings and a few votes' answers (choices by index).
TYPES = {
    "multiple": ({"min_choices": 1, "max_choices": 2}, [[0, 1], [1], [1, 2]]),
    "ranking": ({}, [[2, 0, 1], [0, 1, 2], [0, 2, 1]]),
    "rating": ({"type": "rating", "scale_min": 1, "scale_max": 5}, [5, 4, 4]),
    "rate_each": ({"type": "rating", "rate_each": True}, [{0: 5, 1: 2}, {0: 3}, {1: 2}]),
    "text": ({}, ["Great talk", "  great   TALK ", "Too long"]),
    "game": ({}, [0, 0, 1]),
}
# What those votes add up to, as the API's `results` shows them.
EXPECTED = {
    "multiple": {
        "voters": 3,
        "choices": [{"count": 1, "share": 33}, {"count": 3, "share": 100},
                    {"count": 1, "share": 33}],
        "shares_of": "voters",
    },
    "ranking": {
        "voters": 3,
        # Borda: 3 points for first, 2 for second, 1 for third.
        "choices": [{"points": 3 + 3 + 2, "first": 2}, {"points": 1 + 2 + 1, "first": 0},
                    {"points": 3 + 1 + 2, "first": 1}],
        "leaders": [0],
        "runoff": None,
    },
    "rating": {"voters": 3, "scale": [1, 5],
               "distribution": {"1": 0, "2": 0, "3": 0, "4": 2, "5": 1}, "mean": 4.33},
    "rate_each": {
        "voters": 3, "scale": [1, 5],
        "choices": [
            {"count": 2, "distribution": {"1": 0, "2": 0, "3": 1, "4": 0, "5": 1}, "mean": 4.0},
            {"count": 2, "distribution": {"1": 0, "2": 2, "3": 0, "4": 0, "5": 0}, "mean": 2.0},
            {"count": 0, "distribution": {"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}, "mean": None},
        ],
    },
    # Shown as typed: a group's spelling given most, ties to the shortest, then the first.
    "text": {"voters": 3, "answers": [{"text": "Great talk", "count": 2, "cloud": True},
                                      {"text": "Too long", "count": 1, "cloud": True}],
             "more": False},
}  # fmt: skip


def new_topic(client, name: str, **settings) -> dict:
    rules, _ = TYPES[name]
    kind = rules.get("type", name)
    choices = () if kind == "text" or (kind == "rating" and not rules.get("rate_each")) else "abc"
    return make_topic(client, title=name, choices=choices, **{"type": kind, **rules, **settings})


def answer_of(topic: dict, name: str, answer) -> dict:
    """The vote body's answer field for `answer` as TYPES writes it (choice indexes)."""
    ids = [c["id"] for c in topic["choices"]]
    if name in ("multiple",):
        return {"choice_ids": [ids[i] for i in answer]}
    if name == "ranking":
        return {"ranking": [ids[i] for i in answer]}
    if name == "rate_each":
        return {"rating": {ids[i]: v for i, v in answer.items()}}
    if name == "rating":
        return {"rating": answer}
    if name == "text":
        return {"text": answer}
    return {"choice_id": ids[answer]}


def results(client, topic: dict) -> dict:
    answer = client.get(f"/topics/{topic['id']}?include_votes=true", headers=ADMIN)
    assert answer.status_code == 200, answer.text
    return answer.json


def with_ids(topic: dict, expected: dict) -> dict:
    """EXPECTED with choice positions turned into the topic's ids."""
    ids = [c["id"] for c in topic["choices"]]
    body = dict(expected)
    if "choices" in body:
        body["choices"] = [{"id": ids[i], **row} for i, row in enumerate(body["choices"])]
    if "leaders" in body:
        body["leaders"] = [ids[i] for i in body["leaders"]]
    return body


@pytest.mark.parametrize("name", sorted(set(TYPES) - {"game"}))
def test_each_type_counts_each_vote_once_even_redelivered(client, voting, name):
    topic = new_topic(client, name)
    for answer in TYPES[name][1]:
        body = {"topic_id": topic["id"], **answer_of(topic, name, answer)}
        accepted = client.post("/votes", json=body)
        assert accepted.status_code == 202, accepted.text
        assert "choice_id" not in accepted.json  # the type's own field instead
    bodies = queued_bodies(voting)  # read (now invisible), then sent again: redelivery
    for body in bodies + bodies:
        voting.queue.send(body)
    record_queued(voting)
    shown = results(client, topic)
    assert shown["type"] == TYPES[name][0].get("type", name)
    assert shown["results"] == with_ids(topic, EXPECTED[name])
    records = voting.store.list_votes(topic["id"], 100, None)[0]
    assert len(records) == 3 and {r["status"] for r in records} == {"counted"}


def test_game_counts_its_single_style_part(client, voting):
    # The rival take is the game planner's; the cast part is here.
    topic = new_topic(client, "game")
    for answer in TYPES["game"][1]:
        assert client.post("/votes", json={"topic_id": topic["id"],
                                           **answer_of(topic, "game", answer)}).status_code == 202
    record_queued(voting)
    shown = results(client, topic)["results"]
    assert shown["cast"] == 3
    assert [c["cast"] for c in shown["choices"]] == [2, 1, 0]


@pytest.mark.parametrize("name", sorted(set(TYPES) - {"game"}))
def test_concurrent_voters_and_two_workers_count_exactly(client, voting, name):
    topic = new_topic(client, name)
    answers = TYPES[name][1] * 10  # 30 votes, ten of each answer
    payloads = [VoteIn(topic_id=topic["id"], **answer_of(topic, name, a)) for a in answers]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(voting.cast, payloads))
    barrier = threading.Barrier(2)

    def work():
        barrier.wait()
        record_queued(voting)

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    record_queued(voting)  # anything a conflict left for redelivery
    expected = with_ids(topic, EXPECTED[name])
    assert results(client, topic)["results"] == scaled(expected, 10)


def scaled(expected: dict, factor: int) -> dict:
    """The expected results of `factor` times the same votes (shares and means stay)."""
    def scale(value, key):
        if key in ("voters", "count", "points", "first") and isinstance(value, int):
            return value * factor
        if key == "distribution":
            return {v: n * factor for v, n in value.items()}
        if isinstance(value, list) and key in ("choices", "answers"):
            return [{k: scale(v, k) for k, v in row.items()} for row in value]
        return value

    return {key: scale(value, key) for key, value in expected.items()}


# What a voter's first answer and then changed answer are, per type (choice indexes).
CHANGES = {
    "multiple": ([0, 1], [2]),
    "ranking": ([0, 1, 2], [2, 1, 0]),
    "rating": (2, 5),
    "rate_each": ({0: 1, 1: 1}, {1: 4, 2: 5}),
    "text": ("first word", "Second word"),
}


@pytest.mark.parametrize("name", sorted(CHANGES))
@pytest.mark.parametrize("apart", [True, False], ids=["batches_apart", "same_batch"])
def test_changeable_moves_every_count_of_the_old_answer(client, voting, name, apart):
    changing = new_topic(client, name, vote_limit="changeable")
    steady = new_topic(client, name, vote_limit="changeable")
    first, then = CHANGES[name]
    for topic, answers in ((changing, [first, then]), (steady, [then])):
        for answer in answers:
            body = {"topic_id": topic["id"], "voter_id": "v1", **answer_of(topic, name, answer)}
            assert client.post("/votes", json=body).status_code == 202
            if apart:
                record_queued(voting)
    record_queued(voting)
    # The changed vote leaves exactly what a voter who only gave the second answer left.
    changed, only = results(client, changing)["results"], results(client, steady)["results"]
    assert changed == relabel(only, steady, changing)
    counts = voting.topics.counts(changing["id"], fresh=True)
    assert all(n >= 0 for n in counts.values()) and counts.get(":voters") == 1
    statuses = sorted(r["status"] for r in voting.store.list_votes(changing["id"], 10, None)[0])
    assert statuses == ["counted", "replaced"]


def relabel(only: dict, steady: dict, changing: dict) -> dict:
    """`only` (results) with the steady topic's choice ids turned into the changing one's."""
    ids = dict(zip([c["id"] for c in steady["choices"]], [c["id"] for c in changing["choices"]],
                   strict=True))  # fmt: skip
    body = dict(only)
    if "choices" in body:
        body["choices"] = [{**row, "id": ids[row["id"]]} for row in only["choices"]]
    if "leaders" in body:
        body["leaders"] = [ids[i] for i in only["leaders"]]
    return body


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_one_per_voter_refuses_the_second_vote(client, voting, name):
    topic = new_topic(client, name, vote_limit="one_per_voter")
    first, then = CHANGES[name]
    bodies = [{"topic_id": topic["id"], "voter_id": "v1", **answer_of(topic, name, a)}
              for a in (first, then)]  # fmt: skip
    # Both pass intake before either is recorded (a race): the worker keeps the first.
    assert [client.post("/votes", json=b).status_code for b in bodies] == [202, 202]
    record_queued(voting)
    again = client.post("/votes", json=bodies[1])
    assert again.status_code == 409 and "already voted" in again.json["detail"]
    assert voting.topics.counts(topic["id"], fresh=True).get(":voters") == 1
    records = voting.store.list_votes(topic["id"], 10, None)[0]
    assert sorted((r["status"], r.get("reason")) for r in records) == [
        ("counted", None), ("rejected", "duplicate_voter")
    ]


class CountingClient:
    """The DynamoDB client, noting the size of every TransactWriteItems it sends."""

    def __init__(self, client):
        self.client = client
        self.sizes: list[int] = []

    def transact_write_items(self, TransactItems):  # noqa: N803 - boto3's parameter name
        self.sizes.append(len(TransactItems))
        return self.client.transact_write_items(TransactItems=TransactItems)

    def __getattr__(self, name):
        return getattr(self.client, name)


def receive_batch(voting, size: int) -> list:
    """`size` queued messages, received as one batch for the worker."""
    messages = []
    while len(messages) < size:
        messages += voting.queue.receive(0)
    assert len(messages) == size
    return messages


def test_a_batch_over_100_items_is_recorded_once_in_whole_vote_transactions(client, voting):
    # Ten rankings of ten choices, each on its own topic, and ten rate_each votes of ten
    # choices on a 0-10 scale changing earlier ratings: more than 100 items in one batch.
    labels = [f"c{i}" for i in range(10)]
    rankings = [make_topic(client, title=f"r{i}", choices=labels, type="ranking")
                for i in range(10)]  # fmt: skip
    rated = make_topic(client, title="rate", choices=labels, type="rating", rate_each=True,
                       scale_min=0, scale_max=10, vote_limit="changeable")  # fmt: skip
    ids = [c["id"] for c in rated["choices"]]

    def rate(voter: int, shift: int) -> None:
        rating = {cid: (voter + position + shift) % 11 for position, cid in enumerate(ids)}
        body = {"topic_id": rated["id"], "voter_id": f"v{voter}", "rating": rating}
        assert client.post("/votes", json=body).status_code == 202

    for voter in range(10):
        rate(voter, 0)
    VoteWorker.over(voting.backend, voting.settings).process(receive_batch(voting, 10))
    counting = CountingClient(voting.backend.batches.client)
    voting.backend.batches.client = counting
    for voter in range(10):
        rate(voter, 5)
    worker = VoteWorker.over(voting.backend, voting.settings)
    report = worker.process(receive_batch(voting, 10))
    assert report.counted == 10
    # Each old rating comes off its own batch's shard: well over 100 items, so several
    # transactions, none over DynamoDB's limit.
    assert len(counting.sizes) >= 2 and max(counting.sizes) <= 100
    rated_transactions = len(counting.sizes)
    for topic in rankings:
        order = [c["id"] for c in reversed(topic["choices"])]
        body = {"topic_id": topic["id"], "ranking": order}
        assert client.post("/votes", json=body).status_code == 202
    batch = receive_batch(voting, 10)
    report = worker.process(batch)
    assert report.counted == 10 and report.duplicates == 0
    assert len(counting.sizes) - rated_transactions >= 2 and max(counting.sizes) <= 100
    # The same batch again (every message redelivered): nothing counts twice.
    for message in batch:
        voting.queue.send(json.loads(message.body))
    again = worker.process(receive_batch(voting, 10))
    assert again.counted == 0 and again.duplicates == 10
    for topic in rankings:
        shown = results(client, topic)["results"]
        assert [c["points"] for c in shown["choices"]] == list(range(1, 11))
        assert shown["voters"] == 1 and shown["choices"][-1]["first"] == 1
    shown = results(client, rated)["results"]
    assert shown["voters"] == 10
    for position, row in enumerate(shown["choices"]):
        expected = {str(v): 0 for v in range(11)}
        for voter in range(10):
            expected[str((voter + position + 5) % 11)] += 1
        assert row["distribution"] == expected and row["count"] == 10


@pytest.mark.parametrize("name", sorted(CHANGES))
def test_recount_proves_every_counter_and_repairs_drift(client, voting, name):
    topic = new_topic(client, name, vote_limit="changeable")
    first, then = CHANGES[name]
    for voter, answer in (("v1", first), ("v2", first), ("v1", then)):
        body = {"topic_id": topic["id"], "voter_id": voter, **answer_of(topic, name, answer)}
        assert client.post("/votes", json=body).status_code == 202
        record_queued(voting)
    clean = recount(voting.store, topic["id"])
    assert clean.counted == 2 and clean.drift == {}
    assert clean.proven == voting.topics.counts(topic["id"], fresh=True)
    # Damage one counter of the type behind the app's back (as a buggy writer would).
    counter = sorted(k for k in clean.proven if ":" in k)[0]
    voting.store.client.update_item(
        TableName=voting.store.names.tallies,
        Key={"topic_id": {"S": topic["id"]}, "slot": {"S": f"{counter}#7"}},
        UpdateExpression="ADD #c :n",
        ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues={":n": {"N": "3"}},
    )
    found = recount(voting.store, topic["id"])
    assert found.drift == {counter: 3}
    fix(voting.store, found)
    assert voting.topics.counts(topic["id"], fresh=True) == clean.proven
    assert recount(voting.store, topic["id"]).drift == {}
