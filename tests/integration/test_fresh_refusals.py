"""Refusals confirmed on a fresh read, shared (real moto server, two "processes").

Two apps over one stack stand for two web processes, each with its own caches
(long ones here, 60 s, so a stale copy is certain, not a matter of timing). A
topic closed, reopened, or an event moved on through one process: votes
through the other are refused only when a copy read after they arrived says
so, and a room of them costs a couple of store reads, not one each.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.rules.errors import QuestionNotOnScreen
from core.schemas.votes import VoteIn
from tests.helpers.api import ADMIN, make_topic, make_topic_past_its_deadline
from tests.helpers.queued import record_queued
from webapp import create_app, services

ROOM = 50
CACHES = {"TOPIC_CACHE_SECONDS": "60", "RESULTS_CACHE_SECONDS": "60"}


class _Reads:
    """Counts one process's store reads of topics and events, a round of votes at a time.

    In a round every read waits until each of its `room` votes has reached
    Topics.get, so each vote has noted the moment it arrived before any read
    starts or lands: how many reads the room shares then depends on the code, not
    on how the threads happen to be scheduled.
    """

    def __init__(self, made):
        self.lock = threading.Lock()
        self.round(0)
        store, topics, events = made.backend.store, made.topics, made.events.store
        get, get_topic, get_event = topics.get, store.get_topic, events.get_event

        def arriving_get(*args, **kwargs):
            with self.lock:
                self.voters.add(threading.get_ident())
                if len(self.voters) >= self.room:
                    self.arrived.set()
            return get(*args, **kwargs)

        def counted(read, kind: str):
            def read_counted(key):
                assert self.arrived.wait(30), "the room never arrived"
                with self.lock:
                    self.counts[kind] += 1
                return read(key)

            return read_counted

        topics.get = arriving_get
        store.get_topic = counted(get_topic, "topics")
        events.get_event = counted(get_event, "events")

    def round(self, room: int) -> None:
        """Start counting afresh, for a room of `room` votes (0: reads wait for none)."""
        with self.lock:
            self.room, self.voters = room, set()
            self.counts = {"topics": 0, "events": 0}
            self.arrived = threading.Event()
            if room == 0:
                self.arrived.set()


def _process(app):
    """The app's services, as one web process holds them."""
    with app.app_context():
        return services.current()


def _room(call):
    """`call(i)` for each of the room's votes, all at once; their answers in order."""
    with ThreadPoolExecutor(max_workers=ROOM) as pool:
        return list(pool.map(call, range(ROOM)))


def _put(client, topic: dict, **changes) -> None:
    body = {"title": topic["title"], "choices": topic["choices"], **changes}
    answer = client.put(f"/topics/{topic['id']}", json=body, headers=ADMIN)
    assert answer.status_code == 200, answer.text


@pytest.mark.env(**CACHES)
def test_a_room_voting_after_a_close_and_a_reopen_elsewhere_is_answered_from_the_store(aws_env):
    here, there = create_app({"TESTING": True}), create_app({"TESTING": True})
    admin = here.test_client()
    topic = make_topic(admin)
    body = {"topic_id": topic["id"], "choice_id": topic["choices"][0]["id"]}

    def vote(_):
        answer = there.test_client().post("/votes", json=body)
        return answer.status_code, answer.get_json()["detail"] if answer.status_code != 202 else ""

    # Closed through one process, the room votes through the other, which has no
    # copy yet: every vote is refused, on a couple of shared reads.
    _put(admin, topic, is_active=False)
    reads = _Reads(_process(there))
    reads.round(ROOM)
    answers = _room(vote)
    assert {status for status, _ in answers} == {409}
    assert all(detail.startswith("This topic is closed") for _, detail in answers)
    assert 1 <= reads.counts["topics"] <= 2, reads.counts

    # Reopened through the first process, while the other holds the closed copy for
    # a minute: every vote is accepted, none refused from that copy.
    _put(admin, topic, is_active=True)
    reads.round(ROOM)
    answers = _room(vote)
    assert [status for status, _ in answers] == [202] * ROOM, answers
    assert 1 <= reads.counts["topics"] <= 2, reads.counts


@pytest.mark.env(**CACHES)
def test_votes_for_the_question_the_presenter_moved_to_elsewhere_are_never_refused(aws_env):
    here, there = create_app({"TESTING": True}), create_app({"TESTING": True})
    admin = here.test_client()
    first, second = (make_topic(admin, title=f"Q{n}", active=False) for n in (1, 2))
    event = admin.post(
        "/events", json={"title": "Keynote", "questions": [first["id"], second["id"]]},
        headers=ADMIN,
    ).get_json()  # fmt: skip
    opened = admin.post(f"/events/{event['id']}/position", json={"to": 0}, headers=ADMIN)
    assert opened.status_code == 200
    # The other process shows the first question, and holds both topics as they were.
    made = _process(there)
    seen = made.events.event(event["id"])
    assert made.events.topic_on_screen(seen, first["id"])["id"] == first["id"]
    assert made.topics.get(second["id"])["is_active"] is False

    moved = admin.post(f"/events/{event['id']}/position", json={"to": 1}, headers=ADMIN)
    assert moved.status_code == 200
    reads = _Reads(made)
    reads.round(ROOM)

    def vote(_):
        stale = made.events.event(event["id"])  # the copy from before the move
        topic = made.events.topic_on_screen(stale, second["id"])
        ballot = VoteIn(topic_id=topic["id"], choice_id=second["choices"][0]["id"])
        return made.voting.cast(ballot).topic_id

    assert _room(vote) == [second["id"]] * ROOM
    assert 1 <= reads.counts["events"] <= 2, reads.counts
    # The question left behind is refused, on the fresh copy too.
    with pytest.raises(QuestionNotOnScreen):
        made.events.topic_on_screen(made.events.event(event["id"]), first["id"])


@pytest.mark.env(**CACHES)
def test_every_refusal_a_topic_decides_is_confirmed_after_a_change_elsewhere(aws_env):
    here, there = create_app({"TESTING": True}), create_app({"TESTING": True})
    admin, phone = here.test_client(), there.test_client()
    late = make_topic_past_its_deadline(admin)
    named = make_topic(admin, vote_limit="one_per_voter")
    grown = make_topic(admin)
    once = make_topic(admin, vote_limit="one_per_voter")

    def vote(topic, index=0, **extra):
        body = {"topic_id": topic["id"], "choice_id": topic["choices"][index]["id"], **extra}
        return phone.post("/votes", json=body)

    # The phones' process caches each topic as it refuses (or, `grown`, before its change).
    assert vote(late).status_code == 409
    assert vote(named).status_code == 409  # no voter_id
    assert vote(grown).status_code == 202
    assert vote(once, voter_id="ann").status_code == 202
    with here.app_context():
        assert record_queued(services.voting()) == 2
    assert vote(once, voter_id="ann").status_code == 409  # already voted

    # Changed through the other process: the deadline lifted, no voter required, a
    # choice added, more than one vote per voter. The phones' copies say otherwise.
    _put(admin, late, closes_at=None)
    _put(admin, named, vote_limit="unlimited")
    _put(admin, grown, choices=[*grown["choices"], {"description": "Both"}])
    grown = admin.get(f"/topics/{grown['id']}").get_json()
    _put(admin, once, vote_limit="unlimited")

    answers = [vote(late), vote(named), vote(grown, 2), vote(once, voter_id="ann")]
    assert [a.status_code for a in answers] == [202] * 4, [a.get_json() for a in answers]
