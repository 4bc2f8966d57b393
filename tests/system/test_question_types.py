"""Question types with real processes: gunicorn and two worker.py processes record
concurrent voters of every type exactly once, with every message sent twice
(as an at-least-once queue may deliver it), and changeable voters moving their answer."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests

from core.rules.question_types import counters, rules_of
from tests.helpers.api import ADMIN, make_topic
from tests.helpers.queued import queued_bodies
from tests.helpers.waiting import wait_until

CHOICES = ("A", "B", "C", "D")


def answers(kind: str, ids: list[str], i: int) -> dict:
    """The i-th voter's answer on a topic of `kind` (ids: its choice ids)."""
    if kind == "multiple":
        return {"choice_ids": [ids[i % 4], ids[(i + 1) % 4]]}
    if kind == "ranking":
        return {"ranking": ids[i % 4:] + ids[: i % 4]}
    if kind == "rating":
        return {"rating": 1 + i % 5}
    if kind == "text":
        return {"text": ["Wow", "  wow ", "Too long", "Great talk"][i % 4]}
    return {"choice_id": ids[i % 4]}


def test_every_type_counts_concurrent_and_redelivered_votes_once(procs, http, voting):
    base = procs.web(workers=2)
    topics = {
        kind: make_topic(http, title=kind, base=base, type=kind,
                         choices=() if kind in ("rating", "text") else CHOICES)
        for kind in ("multiple", "ranking", "rating", "text", "game")
    }  # fmt: skip
    votes = 40
    sessions: dict[int, requests.Session] = {}

    def vote(job: tuple[str, int]) -> int:
        kind, i = job
        topic = topics[kind]
        session = sessions.setdefault(threading.get_ident(), requests.Session())
        ids = [c["id"] for c in topic["choices"]]
        body = {"topic_id": topic["id"], **answers(kind, ids, i)}
        return session.post(f"{base}/votes", json=body, timeout=30).status_code

    jobs = [(kind, i) for i in range(votes) for kind in topics]
    with ThreadPoolExecutor(16) as pool:
        assert set(pool.map(vote, jobs)) == {202}
    # Every message twice: read off the queue (no worker yet), then sent back twice.
    bodies = queued_bodies(voting)
    assert len(bodies) == votes * len(topics)
    for body in bodies + bodies:
        voting.queue.send(body)
    procs.worker()
    procs.worker()

    def results(kind: str) -> dict:
        answer = http.get(f"{base}/topics/{topics[kind]['id']}?include_votes=true", headers=ADMIN)
        return answer.json()["results"]

    def all_counted() -> bool:
        return all(
            results(kind).get("voters", results(kind).get("cast")) == votes for kind in topics
        )

    wait_until(all_counted, timeout=120, message="every vote counted")
    # Ten of each answer; nothing counted twice, whichever copy a worker recorded.
    multiple = results("multiple")
    assert [c["count"] for c in multiple["choices"]] == [20, 20, 20, 20]
    ranking = results("ranking")
    assert [c["first"] for c in ranking["choices"]] == [10] * 4
    assert sum(c["points"] for c in ranking["choices"]) == votes * (4 + 3 + 2 + 1)
    rating = results("rating")
    assert rating["distribution"] == {"1": 8, "2": 8, "3": 8, "4": 8, "5": 8}
    assert rating["mean"] == 3.0
    text = results("text")["answers"]
    assert [(a["text"], a["count"]) for a in text] == [
        ("Wow", 20), ("Great talk", 10), ("Too long", 10)  # as typed, ties to "W" < "w"
    ]
    game = results("game")
    assert game["cast"] == votes and [c["cast"] for c in game["choices"]] == [10] * 4
    wait_until(lambda: voting.queue.message_counts()["waiting"] == 0, timeout=60)
    for kind, topic in topics.items():
        records, _ = voting.store.list_votes(topic["id"], 100, None)
        assert len(records) == votes and {r["status"] for r in records} == {"counted"}, kind


def test_changeable_voters_of_every_type_leave_only_their_last_answer(procs, http, voting):
    base = procs.web(workers=2)
    procs.worker()
    for kind in ("multiple", "ranking", "rating", "text"):
        topic = make_topic(http, title=kind, base=base, type=kind, vote_limit="changeable",
                           choices=() if kind in ("rating", "text") else CHOICES)  # fmt: skip
        ids = [c["id"] for c in topic["choices"]]
        # Ten voters, each answering three times in a row, all at once.
        jobs = [(voter, round_) for round_ in range(3) for voter in range(10)]

        def vote(job, topic=topic, ids=ids, kind=kind):
            voter, round_ = job
            body = {"topic_id": topic["id"], "voter_id": f"v{voter}",
                    **answers(kind, ids, voter + round_)}  # fmt: skip
            return requests.post(f"{base}/votes", json=body, timeout=30).status_code

        for round_ in range(3):  # rounds one after the other: "last" is well defined
            with ThreadPoolExecutor(10) as pool:
                assert set(pool.map(vote, [j for j in jobs if j[1] == round_])) == {202}
        wait_until(lambda topic=topic: len(voting.store.list_votes(topic["id"], 100, None)[0])
                   == 30, timeout=60)  # fmt: skip
        counts = {k: n for k, n in voting.topics.counts(topic["id"], fresh=True).items() if n}
        expected: dict[str, int] = {}
        rules = rules_of(voting.topics.get(topic["id"], fresh=True))
        for voter in range(10):
            payload = answers(kind, ids, voter + 2)
            if kind == "text":
                payload = {"text": " ".join(payload["text"].split())}  # kept as typed
            for counter, n in counters(rules, payload).items():
                expected[counter] = expected.get(counter, 0) + n
        assert counts == expected, kind
