"""Question types end to end on a real moto server: the API takes each type's topic and
vote, the worker's own batch code records them, and the results count each vote once.

Concurrent voters (threads casting through the Voting service, two workers recording
at once), redelivered messages, changeable and one_per_voter per type, and the
100-item limit of one DynamoDB transaction.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.schemas import VoteIn
from tests.helpers import ADMIN, make_topic, queued_bodies, record_queued

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
    "text": {"voters": 3, "answers": [{"text": "great talk", "count": 2, "cloud": True},
                                      {"text": "too long", "count": 1, "cloud": True}]},
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
    # The rival take is the game planner's (issue 13's game work); the cast part is here.
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
