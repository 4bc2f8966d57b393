"""Audience Q&A over HTTP on the moto server: asking, visibility per state, order, and
upvotes counted exactly once by the worker's own batch code (in process).

Text rules and the upvote plan are unit-tested (tests/unit/test_qna.py); the killed
worker is a system test (tests/system/test_faults.py).
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from core.rules.clock import new_id, utc_now
from core.rules.qna import LIST_SIZE
from core.services.worker import VoteWorker
from tests.helpers.api import ADMIN, json_of, make_event
from tests.helpers.queued import queued_bodies, record_queued

VOTER = "phone-1"


@pytest.fixture
def room(client):
    """An open Q&A event (no poll questions)."""
    return make_event(client, [], qna="open")


def ask(client, event, text="How does it scale?", voter=VOTER, **extra):
    answer = client.post(f"/events/code/{event['code']}/qna",
                         json={"text": text, "voter_id": voter, **extra})  # fmt: skip
    return answer


def asked(client, event, text="How does it scale?", voter=VOTER, **extra) -> dict:
    answer = ask(client, event, text, voter, **extra)
    assert answer.status_code == 201, json_of(answer)
    return json_of(answer)


def listing(client, event, sort="top") -> list[dict]:
    answer = client.get(f"/events/code/{event['code']}/qna", query_string={"sort": sort})
    assert answer.status_code == 200, json_of(answer)
    return json_of(answer)


def upvote(client, event, question, voter=VOTER, method="post"):
    return getattr(client, method)(f"/events/code/{event['code']}/qna/{question['id']}/upvote",
                                   json={"voter_id": voter})  # fmt: skip


def moderate(client, event, question, **body):
    return client.post(f"/events/{event['id']}/qna/{question['id']}", json=body, headers=ADMIN)


def upvotes_of(client, event, question) -> int:
    view = json_of(client.get(f"/events/{event['id']}/qna", headers=ADMIN))
    found = [q for q in view["top"] if q["id"] == question["id"]]
    return found[0]["upvotes"] if found else -1


# -- asking and the event's mode ---------------------------------------------------------


def test_an_open_event_shows_a_question_at_once_without_its_asker(client, room):
    question = asked(client, room, "  How   does\tit scale?  ", name="Ada")
    assert question["text"] == "How does it scale?" and question["state"] == "open"
    shown = listing(client, room)
    assert shown == [question]
    assert set(shown[0]) == {"id", "text", "name", "upvotes", "state", "pinned", "created"}
    assert VOTER not in json.dumps(shown)


def test_events_take_no_questions_unless_their_qna_is_on(client):
    off = make_event(client, [])
    assert off["qna"] == "off"
    assert ask(client, off).status_code == 409
    assert client.get(f"/events/code/{off['code']}/qna").status_code == 409
    changed = client.put(f"/events/{off['id']}", json={"title": "Keynote", "qna": "moderated"},
                         headers=ADMIN)  # fmt: skip
    assert json_of(changed)["qna"] == "moderated"
    assert asked(client, off)["state"] == "pending"
    assert json_of(client.get(f"/events/code/{off['code']}"))["qna"] == "moderated"


@pytest.mark.parametrize("text", ["", "   ", "x" * 281, "\u200b\u200b", "a\u202eb", "a\x07b"])
def test_a_question_that_cannot_be_shown_is_a_422_naming_text(client, room, text):
    answer = ask(client, room, text)
    assert answer.status_code == 422
    assert "text" in json.dumps(json_of(answer)["detail"])


def test_280_characters_count_after_whitespace_collapses(client, room):
    assert asked(client, room, "a " * 140 + "    ")["text"] == ("a " * 140).strip()
    assert ask(client, room, "é" * 280).status_code == 201
    assert ask(client, room, "e\u0301" * 141).status_code == 201  # NFC: 141 characters
    assert ask(client, room, "x" * 280, name="n" * 41).status_code == 422


@pytest.mark.parametrize("text", ["You are a BASTARD", "you are a bаstаrd", "b a s t a r d!",
                                  "ｂａｓｔａｒｄ", "bas\u200btard", "<b>bastard</b>",
                                  "b.a.s.t.a.r.d?"])  # fmt: skip
def test_a_question_the_block_lists_catch_is_held_for_the_moderator(client, room, text):
    question = asked(client, room, text)
    assert question["state"] == "pending"
    assert listing(client, room) == [] and listing(client, room, "recent") == []
    assert upvote(client, room, question).status_code == 404
    pending = json_of(client.get(f"/events/{room['id']}/qna", headers=ADMIN))["pending"]
    assert [q["text"] for q in pending] == [text]


def test_markup_is_stored_as_typed_and_never_rendered_as_json_markup(client, room):
    question = asked(client, room, "<script>alert(1)</script> why?")
    assert listing(client, room)[0]["text"] == "<script>alert(1)</script> why?"
    assert question["state"] == "open"


# -- moderation: visibility for every state on every read --------------------------------


def test_every_state_is_seen_only_where_it_may_be(client):
    event = make_event(client, [], qna="moderated")
    pending = asked(client, event, "Pending one?")
    opened = asked(client, event, "Open one?")
    answered = asked(client, event, "Answered one?")
    dismissed = asked(client, event, "Dismissed one?")
    assert json_of(moderate(client, event, opened, state="approved"))["state"] == "open"
    assert json_of(moderate(client, event, answered, state="answered"))["state"] == "answered"
    assert json_of(moderate(client, event, dismissed, state="dismissed"))["state"] == "dismissed"
    public = {opened["id"]: "open", answered["id"]: "answered"}
    for order in ("top", "recent"):
        assert {q["id"]: q["state"] for q in listing(client, event, order)} == public
    for hidden in (pending, dismissed):
        assert upvote(client, event, hidden).status_code == 404
    for shown in (opened, answered):
        assert upvote(client, event, shown).status_code == 202
    view = json_of(client.get(f"/events/{event['id']}/qna", headers=ADMIN))
    assert [q["id"] for q in view["pending"]] == [pending["id"]]
    assert {q["id"] for q in view["top"]} == set(public)
    assert client.get(f"/events/{event['id']}/qna").status_code == 401
    assert moderate(client, event, dismissed, pinned=True).status_code == 409
    unkeyed = client.post(f"/events/{event['id']}/qna/{opened['id']}", json={"pinned": True})
    assert unkeyed.status_code == 401


def test_a_moderation_needs_a_decision_and_a_known_question(client, room):
    question = asked(client, room)
    assert moderate(client, room, question).status_code == 422
    assert moderate(client, room, question, state="open").status_code == 422
    assert moderate(client, room, {"id": new_id()}, state="approved").status_code == 404


# -- order ----------------------------------------------------------------------------


def test_top_orders_by_upvotes_then_the_older_first_at_the_page_boundary(client, voting, room):
    questions = [asked(client, room, f"Question {n}?", voter=f"v{n}") for n in range(LIST_SIZE + 2)]
    top = listing(client, room)
    # All at 0 upvotes: the oldest LIST_SIZE, oldest first; the two newest fall off.
    assert [q["id"] for q in top] == [q["id"] for q in questions[:LIST_SIZE]]
    newest = questions[-1]
    assert upvote(client, room, newest).status_code == 202
    record_queued(voting)
    top = listing(client, room)
    assert top[0]["id"] == newest["id"] and top[0]["upvotes"] == 1
    assert [q["id"] for q in top[1:]] == [q["id"] for q in questions[: LIST_SIZE - 1]]
    recent = listing(client, room, "recent")
    assert [q["id"] for q in recent] == [q["id"] for q in questions[::-1][:LIST_SIZE]]
    pinned = questions[5]
    assert json_of(moderate(client, room, pinned, pinned=True))["pinned"] is True
    assert listing(client, room)[0]["id"] == pinned["id"]
    moderate(client, room, pinned, pinned=False)
    assert listing(client, room)[0]["id"] == newest["id"]


# -- upvotes: exactly once ----------------------------------------------------------------


def test_an_upvote_counts_once_and_a_repeat_is_never_counted(client, voting, room):
    question = asked(client, room)
    assert upvote(client, room, question).status_code == 202
    record_queued(voting)
    assert upvotes_of(client, room, question) == 1
    assert upvote(client, room, question).status_code == 202  # the worker refuses it
    record_queued(voting)
    assert upvotes_of(client, room, question) == 1
    assert upvote(client, room, question, voter="phone-2").status_code == 202
    anonymous = client.post(f"/events/code/{room['code']}/qna/{question['id']}/upvote")
    assert anonymous.status_code == 409
    record_queued(voting)
    assert upvotes_of(client, room, question) == 2


def test_redelivered_and_duplicated_upvote_messages_count_once(client, voting, room):
    question = asked(client, room)
    assert upvote(client, room, question).status_code == 202
    (body,) = queued_bodies(voting)  # received, left invisible: as a worker that died
    for _ in range(3):  # the same message sent again: one batch holds it three times
        voting.queue.send(body)
    record_queued(voting)
    voting.queue.send(body)  # a redelivery after the record committed
    record_queued(voting)
    assert upvotes_of(client, room, question) == 1


def test_withdrawals_count_once_and_follow_queue_order(client, voting, room):
    question = asked(client, room)
    assert upvote(client, room, question).status_code == 202
    assert upvote(client, room, question, method="delete").status_code == 202
    record_queued(voting)  # one batch: the upvote, then its withdrawal
    assert upvotes_of(client, room, question) == 0
    assert upvote(client, room, question).status_code == 202
    record_queued(voting)
    withdraw = upvote(client, room, question, method="delete")
    assert withdraw.status_code == 202
    (body,) = queued_bodies(voting)
    voting.queue.send(body)
    record_queued(voting)
    voting.queue.send(body)
    record_queued(voting)
    assert upvotes_of(client, room, question) == 0


def test_a_late_upvote_never_undoes_a_later_withdrawal(client, voting, room):
    """Two workers, or a redelivery, can record a voter's taps out of queue order."""
    question = asked(client, room)
    early = {"kind": "upvote", "id": new_id(), "event_id": room["id"],
             "question_id": question["id"], "voter_id": VOTER, "queued_at": utc_now()}  # fmt: skip
    later = {**early, "kind": "withdraw", "id": new_id(), "queued_at": utc_now()}
    voting.queue.send(later)
    record_queued(voting)
    voting.queue.send(early)
    record_queued(voting)
    assert upvotes_of(client, room, question) == 0


def test_a_batch_of_votes_and_upvotes_records_both(client, voting, room):
    from tests.helpers.api import make_topic
    from tests.helpers.queued import queued_vote, tallies_of

    topic = make_topic(client)
    question = asked(client, room)
    for n in range(4):
        assert upvote(client, room, question, voter=f"p{n}").status_code == 202
        voting.queue.send(queued_vote(topic, 0))
    messages = []
    while batch := voting.queue.receive(0):
        messages += batch
    report = VoteWorker.over(voting.backend, voting.settings).process(messages)
    assert (report.counted, report.failed) == (8, 0)
    assert upvotes_of(client, room, question) == 4 and tallies_of(voting, topic)[0] == 4
    assert queued_bodies(voting) == []


# -- export and backups ----------------------------------------------------------------


def test_the_csv_export_lists_every_question_formula_safe_without_askers(client, voting, room):
    first = asked(client, room, "=HYPERLINK(\"http://x\")", name="@boss")
    asked(client, room, "Plain?", voter="phone-9")
    moderate(client, room, first, state="answered")
    answer = client.get(f"/events/{room['id']}/qna.csv", headers=ADMIN)
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    text = answer.get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r["text"] for r in rows] == ["'=HYPERLINK(\"http://x\")", "Plain?"]
    assert rows[0]["name"] == "'@boss" and rows[0]["state"] == "answered"
    assert rows[0]["answered_at"] and rows[1]["answered_at"] == ""
    assert VOTER not in text and "phone-9" not in text
    assert client.get(f"/events/{room['id']}/qna.csv").status_code == 401


def test_a_jsonl_backup_holds_the_questions_and_upvotes(client, voting, runner, room, tmp_path):
    question = asked(client, room)
    upvote(client, room, question)
    record_queued(voting)
    out = tmp_path / "backup"
    done = runner.invoke(args=["export", "--format", "jsonl", "-o", str(out)])
    assert done.exit_code == 0, done.output
    questions = [json.loads(line) for line in (out / "questions.jsonl").read_text().splitlines()]
    assert [q["Item"]["id"]["S"] for q in questions] == [question["id"]]
    upvotes = (out / "upvotes.jsonl").read_text().splitlines()
    assert len(upvotes) == 2  # the voter's standing upvote and the message's record
