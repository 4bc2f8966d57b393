"""The `make run` snapshot's check (local/snapshot.py) is recount's rule (repair.Proof):
healthy data of every kind saves as consistent, drift that recount sees is reported,
and what recount leaves out (a reset's or a deletion's leftovers) is left out too.

In process: moto's mock_aws, the services and the worker's own batch code, no Flask.
"""

from __future__ import annotations

import pytest

from core.aws.backend import Backend
from core.rules.events import LOBBY
from core.schemas.topics import TopicIn
from core.schemas.votes import VoteIn
from core.services.assembly import Services
from core.services.repair import recount, recount_scores
from core.services.worker import VoteWorker
from core.settings import Settings
from local import moto_server, snapshot
from tests.helpers.queued import add_to_tally
from tests.helpers.stacks import make_env

# One topic per question type: its settings, its choices and the answers voted.
VOTED = {
    "single": ({}, "ab", [{"choice_id": 0}, {"choice_id": 1}, {"choice_id": 1}]),
    "multiple": ({"type": "multiple", "max_choices": 2}, "abc",
                 [{"choice_ids": [0, 1]}, {"choice_ids": [2]}]),
    "ranking": ({"type": "ranking"}, "abc", [{"ranking": [2, 0, 1]}, {"ranking": [0, 1, 2]}]),
    "rating": ({"type": "rating", "scale_min": 1, "scale_max": 5}, "", [{"rating": 4}]),
    "rate_each": ({"type": "rating", "rate_each": True}, "ab", [{"rating": {0: 5, 1: 2}}]),
    "text": ({"type": "text"}, "", [{"text": "Great talk"}, {"text": "great  TALK!"}]),
    # Shards: a counter over several tally items; the game's takes come off a rival.
    "game": ({"type": "game", "tally_shards": 3}, "ab",
             [{"choice_id": 0}, {"choice_id": 0}, {"choice_id": 1}, {"choice_id": 1}]),
}  # fmt: skip


@pytest.fixture
def room(monkeypatch):
    """Services over an in-process moto (mock_aws) with every table and the queue."""
    from moto import mock_aws

    env = make_env("unused")
    for name in ("DYNAMODB_ENDPOINT_URL", "AWS_SQS_ENDPOINT_URL"):
        env.pop(name)
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    moto_server.apply()
    with mock_aws():
        settings = Settings.from_env()
        backend = Backend.connect(settings)
        backend.tables.create()
        backend.queue.create(settings.visibility_timeout, settings.max_receive_count)
        yield Services.connect(settings)


def record(room) -> None:
    """The worker's own batch code over everything queued (votes and upvotes)."""
    worker = VoteWorker.over(room.backend, room.voting.settings)
    while messages := room.backend.queue.receive(0):
        worker.process(messages)


def topic_of(room, name: str) -> dict:
    settings, choices, _ = VOTED[name]
    body = {"title": name, "choices": [{"description": c} for c in choices], **settings}
    return room.topics.create(TopicIn.model_validate(body))


def cast(room, topic: dict, answer: dict, voter_id: str | None = None) -> None:
    """`answer` names choices by index; cast as its ids."""
    ids = [c["id"] for c in topic["choices"]]

    def named(value):
        if isinstance(value, list):
            return [ids[i] for i in value]
        if isinstance(value, dict):
            return {ids[i]: v for i, v in value.items()}
        return ids[value]

    fields = {k: (named(v) if k != "text" and (k != "rating" or isinstance(v, dict)) else v)
              for k, v in answer.items()}  # fmt: skip
    room.voting.cast(VoteIn(topic_id=topic["id"], voter_id=voter_id, **fields))


def every_kind(room) -> dict:
    """Every question type voted, a reset topic voted again, an event whose audience
    questions were upvoted (one withdrawn), and a quiz whose players scored."""
    topics = {}
    for name, (_, _, answers) in VOTED.items():
        topics[name] = topic_of(room, name)
        for answer in answers:
            cast(room, topics[name], answer)
    record(room)
    room.topics.reset(topics["single"]["id"])  # its tallies now under "<id>#1"
    cast(room, topics["single"], {"choice_id": 0})

    qna = room.events.create("Q&A", qna="open")
    asked = room.qna.ask(qna, "How does it scale?", None, "asker")
    for voter in ("p1", "p2", "p3"):
        room.qna.upvote(qna, asked["id"], voter)
    record(room)
    room.qna.upvote(qna, asked["id"], "p3", withdraw=True)

    quiz_topic = room.topics.create(TopicIn.model_validate({
        "title": "Capital of France?", "type": "quiz", "is_active": False,
        "choices": [{"description": "Paris", "correct": True}, {"description": "Rome"}],
    }))  # fmt: skip
    quiz = room.events.create("Quiz", [quiz_topic["id"]])
    for name in ("Ann", "Bob", "Cy"):
        room.players.join(quiz, name, name.lower())
    room.events.go_to(quiz["id"], 0)
    quiz_topic = room.topics.get(quiz_topic["id"], fresh=True)
    cast(room, quiz_topic, {"choice_id": 0}, "ann")  # right: scores
    cast(room, quiz_topic, {"choice_id": 1}, "bob")  # wrong: answered, no points
    record(room)
    room.events.go_to(quiz["id"], LOBBY)
    return {"topics": topics, "quiz": quiz, "quiz_topic": quiz_topic, "qna": qna}


def test_healthy_data_of_every_kind_saves_as_consistent(room, tmp_path):
    made = every_kind(room)
    saved = snapshot.save(room.backend.tables, tmp_path / "snap.jsonl")
    assert saved.drift == {} and saved.consistent
    # What was saved is what recount proves: every topic, and the quiz's scores.
    assert all(not recount(room.backend.store, t["id"]).drift for t in made["topics"].values())
    scores = recount_scores(room.backend.store, room.backend.players, made["quiz"]["id"])
    assert scores.counted == 2 and not scores.drift
    assert saved.items["upvotes"] and saved.items["players"] and saved.items["questions"]


def test_a_vote_moved_by_hand_between_choices_is_reported(room, tmp_path):
    # One more on a, one fewer on b: the topic's total is unchanged, its counters are not.
    topic = topic_of(room, "single")
    for answer in VOTED["single"][2]:
        cast(room, topic, answer)
    record(room)
    a, b = (c["id"] for c in topic["choices"])
    add_to_tally(room.voting, topic["id"], f"{a}#0", 1)
    add_to_tally(room.voting, topic["id"], f"{b}#0", -1)
    saved = snapshot.save(room.backend.tables, tmp_path / "snap.jsonl")
    assert saved.drift == {topic["id"]: {a: 1, b: -1}}
    assert saved.drift[topic["id"]] == recount(room.backend.store, topic["id"]).drift


def test_a_tally_changed_by_hand_after_a_reset_is_reported(room, tmp_path):
    made = every_kind(room)
    single = made["topics"]["single"]
    add_to_tally(room.voting, f"{single['id']}#1", f"{single['choices'][1]['id']}#0", 2)
    saved = snapshot.save(room.backend.tables, tmp_path / "snap.jsonl")
    assert saved.drift == {single["id"]: {single["choices"][1]["id"]: 2}}


def test_a_score_changed_by_hand_is_reported_per_player(room, tmp_path):
    made = every_kind(room)
    players = room.backend.players
    for voter, points in (("ann", -7), ("cy", 7)):  # moved between players: same total
        players.client.update_item(
            TableName=players.names.players,
            Key={"event_id": {"S": made["quiz"]["id"]}, "player": {"S": f"player#{voter}"}},
            UpdateExpression="ADD score :n", ExpressionAttributeValues={":n": {"N": str(points)}},
        )  # fmt: skip
    saved = snapshot.save(room.backend.tables, tmp_path / "snap.jsonl")
    assert saved.drift == {made["quiz"]["id"]: {"ann": {"score": -7}, "cy": {"score": 7}}}


def test_what_a_cut_short_purge_left_is_not_drift(room, tmp_path):
    # A purge deletes the old records first, the old tallies last: cut short in between
    # (a store error), a reset topic keeps generation 0's tallies and a deleted topic
    # its tallies, with no records. Nothing reads them and recount finds no drift.
    made = every_kind(room)
    single = made["topics"]["single"]
    add_to_tally(room.voting, single["id"], f"{single['choices'][0]['id']}#0", 3)
    gone = topic_of(room, "ranking")
    room.topics.delete(gone["id"])
    add_to_tally(room.voting, gone["id"], f"{gone['choices'][0]['id']}#0", 1)
    assert not recount(room.backend.store, single["id"]).drift
    saved = snapshot.save(room.backend.tables, tmp_path / "snap.jsonl")
    assert saved.drift == {} and saved.consistent
