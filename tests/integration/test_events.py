"""Events and join codes against the moto server: the store's conditional writes and the rules.

Uniqueness of join codes is a database condition: many creators racing for
one code, exactly one wins. Lookups read codes case-insensitively; unknown
codes are EventNotFound. Driving the room opens and closes the topics
themselves, so intake refuses votes on questions the room has left.
"""

from __future__ import annotations

import threading

import pytest

from core.aws.events import EventStore
from core.aws.tables import Tables
from core.rules.errors import (
    BadPosition,
    CodeTaken,
    Conflict,
    EventNotFound,
    NoCurrentQuestion,
    TopicClosed,
    TopicNotFound,
)
from core.rules.events import LOBBY, current
from core.schemas.topics import TopicIn
from core.schemas.votes import VoteIn
from core.services import backups
from core.services import events as events_module
from core.services.event_questions import EventQuestions
from tests.helpers.api import ADMIN
from tests.helpers.queued import queued_vote, record_queued
from tests.helpers.stacks import aws_client, new_stack
from webapp import services


@pytest.fixture
def events(app):
    with app.app_context():
        return services.events()


def _topic(voting, title="Q", active=False):
    data = TopicIn(title=title, is_active=active, choices=[{"description": d} for d in "ab"])
    return voting.topics.create(data)


def _event_item(event_id: str, code: str) -> dict:
    return {"id": event_id, "code": code, "title": "t", "created": "x", "last_upd": "x",
            "version": 1, "position": LOBBY, "questions": []}  # fmt: skip


def test_concurrent_creators_of_one_code_exactly_one_wins(events):
    store = events.store
    outcomes: list[str] = []
    start = threading.Barrier(8)

    def create(n):
        start.wait()
        try:
            store.put_new_event(_event_item(f"event-{n}", "RACE22"))
            outcomes.append(f"event-{n}")
        except CodeTaken:
            outcomes.append("taken")

    threads = [threading.Thread(target=create, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [o for o in outcomes if o != "taken"]
    assert len(outcomes) == 8 and len(winners) == 1
    assert store.event_id_for("RACE22") == winners[0]
    # The losers wrote nothing: no event without its code.
    assert [e["id"] for e in store.list_events()] == winners


def test_service_draws_another_code_when_one_is_taken(events, monkeypatch):
    codes = iter(["TAKEN2", "TAKEN2", "FRESH3"])
    monkeypatch.setattr(events_module, "new_code", lambda: next(codes))
    first = events.create("First")
    second = events.create("Second")
    assert (first["code"], second["code"]) == ("TAKEN2", "FRESH3")


def test_service_gives_up_after_repeated_clashes(events, monkeypatch):
    monkeypatch.setattr(events_module, "new_code", lambda: "SAME22")
    events.create("First")
    with pytest.raises(CodeTaken):
        events.create("Second")
    assert len(events.events()) == 1


def test_lookup_by_code_is_case_insensitive(events):
    event = events.create("Talk")
    code = event["code"]
    for typed in (code, code.lower(), f"{code[:3]}-{code[3:]}".lower(), f" {code} "):
        assert events.by_code(typed)["id"] == event["id"]


@pytest.mark.parametrize("typed", ["ZZZZZZ", "zzzzzz", "AB0DEF", "", "toolong1", None])
def test_unknown_or_impossible_codes_are_not_found(events, typed):
    events.create("Talk")
    with pytest.raises(EventNotFound):
        events.by_code(typed)


def test_a_deleted_events_code_names_nothing_and_is_free_again(events, monkeypatch):
    event = events.create("Talk")
    events.delete(event["id"])
    with pytest.raises(EventNotFound):
        events.by_code(event["code"])
    with pytest.raises(EventNotFound):
        events.event(event["id"], fresh=True)
    monkeypatch.setattr(events_module, "new_code", lambda: event["code"])
    assert events.create("Again")["code"] == event["code"]


def test_create_refuses_unknown_topics_before_writing(events):
    with pytest.raises(TopicNotFound):
        events.create("Talk", ["no-such-topic"])
    assert events.events() == []


def test_advancing_opens_the_next_question_and_closes_the_one_left(events, voting):
    topics = [_topic(voting, f"Q{i}") for i in range(3)]
    event = events.create("Talk", [t["id"] for t in topics])
    assert event["position"] == LOBBY and current(event) is None

    event = events.step(event["id"], +1)
    assert event["position"] == 0
    assert [q["state"] for q in event["questions"]] == ["open", "waiting", "waiting"]
    assert voting.topics.get(topics[0]["id"], fresh=True)["is_active"] is True

    event = events.step(event["id"], +1)
    assert [q["state"] for q in event["questions"]] == ["closed", "open", "waiting"]
    assert voting.topics.get(topics[0]["id"], fresh=True)["is_active"] is False
    with pytest.raises(TopicClosed):
        voting.cast(VoteIn(topic_id=topics[0]["id"], choice_id=topics[0]["choices"][0]["id"]))

    event = events.step(event["id"], -1)  # back to a closed question: it stays closed
    assert event["position"] == 0
    assert [q["state"] for q in event["questions"]] == ["closed", "closed", "waiting"]
    event = events.go_to(event["id"], 2)
    assert event["position"] == 2 and event["questions"][2]["state"] == "open"
    assert events.step(event["id"], +1)["position"] == 2  # the last question is the end
    assert events.go_to(event["id"], LOBBY)["position"] == LOBBY
    assert events.step(event["id"], -1)["position"] == LOBBY
    with pytest.raises(BadPosition):
        events.go_to(event["id"], 3)


def test_open_close_and_reveal_act_on_the_current_question(events, voting):
    topic = _topic(voting)
    event = events.create("Talk", [topic["id"]])
    with pytest.raises(NoCurrentQuestion):
        events.set_open(event["id"], True)
    with pytest.raises(NoCurrentQuestion):
        events.set_results(event["id"], True)
    events.step(event["id"], +1)
    event = events.set_open(event["id"], False)
    assert event["questions"][0]["state"] == "closed"
    assert voting.topics.get(topic["id"], fresh=True)["is_active"] is False
    event = events.set_open(event["id"], True)
    assert event["questions"][0]["state"] == "open"
    assert voting.topics.get(topic["id"], fresh=True)["is_active"] is True
    assert event["questions"][0]["results"] == "hidden"
    assert events.set_results(event["id"], True)["questions"][0]["results"] == "shown"
    assert events.set_results(event["id"], False)["questions"][0]["results"] == "hidden"


def test_questions_added_moved_and_removed_keep_the_room_where_it_is(events, voting):
    questions = EventQuestions(events)
    a, b, c = (_topic(voting, name) for name in "abc")
    event = events.create("Talk", [a["id"]])
    event = questions.add_question(event["id"], topic_id=b["id"])
    new = TopicIn(title="New one", choices=[{"description": "x"}, {"description": "y"}])
    event = questions.add_question(event["id"], topic=new, results="shown")
    made = event["questions"][2]
    assert made["results"] == "shown" and made["state"] == "waiting"
    assert voting.topics.get(made["topic_id"], fresh=True)["is_active"] is False  # made closed
    event = events.go_to(event["id"], 1)  # the room is on b
    event = questions.move_question(event["id"], 1, 0)
    assert [q["topic_id"] for q in event["questions"]][:2] == [b["id"], a["id"]]
    assert event["position"] == 0  # still on b
    event = questions.remove_question(event["id"], 1)  # a, before... after the room
    assert event["position"] == 0
    event = questions.remove_question(event["id"], 0)  # the current one: back to the lobby
    assert event["position"] == LOBBY and len(event["questions"]) == 1
    with pytest.raises(BadPosition):
        questions.move_question(event["id"], 0, 5)
    with pytest.raises(TopicNotFound):
        questions.add_question(event["id"], topic_id=c["id"] + "x")


def test_duplicate_copies_content_without_votes_under_a_new_code(events, voting):
    topic = _topic(voting, "Favourite?", active=True)
    event = events.create("Talk", [topic["id"]], results="shown")
    events.step(event["id"], +1)
    copy = events.duplicate(event["id"])
    assert copy["code"] != event["code"] and copy["title"] == "Talk (copy)"
    assert copy["position"] == LOBBY
    (question,) = copy["questions"]
    assert question["topic_id"] != topic["id"]
    assert question["state"] == "waiting" and question["results"] == "shown"
    copied = voting.topics.get(question["topic_id"], fresh=True)
    assert copied["title"] == "Favourite?" and copied["is_active"] is False
    assert [c["description"] for c in copied["choices"]] == ["a", "b"]
    assert voting.topics.counts(copied["id"]) == {}


def test_a_stale_write_is_refused_not_lost(events):
    event = events.create("Talk")
    events.rename(event["id"], "Renamed")
    with pytest.raises(Conflict):
        events.store.replace_event({**event, "title": "Lost?"}, expected_version=event["version"])
    assert events.event(event["id"], fresh=True)["title"] == "Renamed"


@pytest.mark.env(RESULTS_CACHE_SECONDS="60")
def test_reads_by_code_are_served_from_the_cache(events, monkeypatch):
    event = events.create("Talk")
    calls = []
    real = events.store.get_event
    monkeypatch.setattr(events.store, "get_event", lambda i: calls.append(i) or real(i))
    monkeypatch.setattr(events.store, "event_id_for", lambda c: pytest.fail("code read again"))
    for _ in range(50):
        assert events.by_code(event["code"].lower())["id"] == event["id"]
    assert calls == []  # created in this process: cached already


def test_export_and_import_carry_events_and_their_codes(events, voting, moto_endpoint, tmp_path):
    topic = _topic(voting)
    event = events.step(events.create("Talk", [topic["id"]])["id"], +1)
    manifest = backups.write_export(voting.backend, tmp_path / "backup")
    assert manifest["tables"]["events"]["itemCount"] == 1
    assert manifest["tables"]["event_codes"]["itemCount"] == 1
    fresh = new_stack(moto_endpoint)
    dynamodb = aws_client("dynamodb", moto_endpoint)
    backups.load_export(
        Tables(dynamodb, fresh["TABLE_PREFIX"]), backups.ExportDir(tmp_path / "backup")
    )
    restored = EventStore(dynamodb, fresh["TABLE_PREFIX"])
    assert restored.event_id_for(event["code"]) == event["id"]
    assert restored.get_event(event["id"]) == event


def test_racing_presenter_controls_change_event_and_topic_together_or_not_at_all(app, voting):
    """Two presenters' clicks at once, "voting open: false" against "open: true", through
    the API from real threads: every round the event's question state and its topic's
    is_active agree, and a click answered 409 changed nothing."""
    with app.app_context():
        events = services.events()
        topic = _topic(voting)
        event = events.create("Talk", [topic["id"]])
        events.step(event["id"], +1)
    url = f"/events/{event['id']}/voting"

    def click(open_: bool, start: threading.Barrier, answers: dict):
        client = app.test_client()
        start.wait()
        answers[open_] = client.post(url, json={"open": open_}, headers=ADMIN).status_code

    for round_ in range(40):
        start, answers = threading.Barrier(2), {}
        threads = [threading.Thread(target=click, args=(o, start, answers)) for o in (True, False)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert set(answers.values()) <= {200, 409} and 200 in answers.values(), answers
        with app.app_context():
            state = services.events().event(event["id"], fresh=True)["questions"][0]["state"]
        is_active = voting.store.get_topic(topic["id"])["is_active"]
        assert state == ("open" if is_active else "closed"), (round_, answers, state)
        refused = [o for o, status in answers.items() if status == 409]
        if refused:
            assert is_active is not refused[0], (round_, answers)



def test_votes_queued_before_a_close_count_after_it_and_later_ones_do_not(events, voting):
    """A close by the presenter (voting off, or moving on) stamps the topic's closed_at:
    the worker's transaction counts the votes queued before it, recorded after the close,
    and refuses one queued after it (a web process's stale copy)."""
    first, second = _topic(voting, "Q1"), _topic(voting, "Q2")
    event = events.create("Talk", [first["id"], second["id"]])
    events.step(event["id"], +1)
    before_off = queued_vote(first, 0)
    voting.queue.send(before_off)
    events.set_open(event["id"], False)
    after_off = queued_vote(first, 1)
    voting.queue.send(after_off)
    assert record_queued(voting) == 2
    status = lambda body: voting.store.get_vote(body["id"])["status"]  # noqa: E731
    assert [status(before_off), status(after_off)] == ["counted", "rejected"]
    assert voting.store.get_vote(after_off["id"])["reason"] == "topic_closed"
    events.set_open(event["id"], True)
    before_move = queued_vote(first, 1)
    voting.queue.send(before_move)
    events.step(event["id"], +1)  # moving on closes the first question
    assert record_queued(voting) == 1
    assert status(before_move) == "counted"
    counts = voting.store.get_counts(first["id"])
    assert [counts.get(c["id"], 0) for c in first["choices"]] == [1, 1]
