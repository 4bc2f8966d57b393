"""core/rules/qna.py: a question's text, who sees it, its rank, and the upvote plan."""

from __future__ import annotations

import pytest

from core.rules.qna import (
    ANSWERED,
    DISMISSED,
    LIST_SIZE,
    OPEN,
    PENDING,
    PINNED,
    RANK_STEP,
    UpvoteMessage,
    is_public,
    moderated,
    name_refusal,
    new_question,
    plan_upvotes,
    public_view,
    question_refusal,
    rank_of,
    shelf_of,
    sort_key,
    typed_question,
)

EVENT = "ev1"


def ask(text="Why?", mode="open", **extra) -> dict:
    return new_question(EVENT, extra.pop("id", "q1"), typed_question(text), mode, **extra)


# -- text ---------------------------------------------------------------------------


@pytest.mark.parametrize("typed, fine", [
    ("Why?", True), ("x" * 280, True), ("x" * 281, False), ("", False),
    ("\u200b\u200c\u2060", False),  # zero-width only: nothing shows
    ("abc\u202edcba", False), ("a\u2066b\u2069", False),  # direction overrides and isolates
    ("a\x00b", False), ("a\x1bb", False),  # controls
    ("e" + "\u0301" * 5, False), ("e" + "\u0301" * 4, True),  # stacked marks
    ("<img src=x onerror=alert(1)>", True),  # markup is text: escaped where shown
])  # fmt: skip
def test_what_a_question_may_hold(typed, fine):
    assert (question_refusal(typed) is None) is fine, question_refusal(typed)


def test_a_question_is_counted_as_typed_after_nfc_and_collapsed_whitespace():
    assert typed_question("  a\t\n b  ") == "a b"
    assert len(typed_question("e\u0301" * 280)) == 280  # NFC: one character each
    assert question_refusal(typed_question(" a " * 200)) is not None  # 399 after collapsing


def test_a_name_is_optional_and_short():
    assert name_refusal("") is None and name_refusal("Ada") is None
    assert name_refusal("x" * 41) is not None and name_refusal("a\u202eb") is not None


# -- moderation ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "what a bastard", "WHAT A BASTARD", "what a bаstаrd",  # Cyrillic а
    "ｂａｓｔａｒｄ", "b\u200ba\u200bstard", "b.a.s.t.a.r.d", "b a s t a r d",
    "<i>bastard</i>", "bas<b></b>tard?", "ВАSТАRD",  # Cyrillic capitals
])  # fmt: skip
def test_the_block_lists_hold_a_question_and_its_look_alikes_in_any_mode(text):
    question = ask(text)
    assert question["state"] == PENDING and question["held"] == "blocked"
    assert not is_public(question) and question["shelf"] == f"{EVENT}#pending"


def test_a_blocked_name_holds_the_question_too():
    assert ask("Fine question?", name="ｆｕｃｋ")["state"] == PENDING


def test_the_mode_decides_the_first_state():
    assert ask(mode="open")["state"] == OPEN and ask(mode="open")["shelf"] == EVENT
    assert ask(mode="moderated")["state"] == PENDING
    assert "held" not in ask(mode="moderated")


@pytest.mark.parametrize("decision, state, public", [
    ("approved", OPEN, True), ("answered", ANSWERED, True), ("dismissed", DISMISSED, False),
])  # fmt: skip
def test_each_decision_and_who_sees_its_result(decision, state, public):
    question = moderated(ask("what a bastard"), decision, None)
    assert question["state"] == state and is_public(question) is public
    assert question.get("shelf") == (EVENT if public else None)
    assert ("held" in question) is (not public)
    assert ("answered_at" in question) is (state == ANSWERED)


def test_pinning_puts_a_question_first_and_leaving_the_list_unpins_it():
    older, newer = ask(id="a", created="2026-01-01T10:00:00.000000"), ask(id="b")
    pinned = moderated(newer, None, True)
    assert pinned["rank"] > rank_of(10**9, older["created"]) and pinned["rank"] >= PINNED
    assert moderated(pinned, "dismissed", None)["pinned"] is False


def test_public_view_never_shows_the_asker_or_why_it_was_held():
    question = moderated(ask("Why?", voter_id="phone-1", name="Ada"), "answered", None)
    view = public_view(question)
    assert "phone-1" not in repr(view) and set(view) == {
        "id", "text", "name", "upvotes", "state", "pinned", "created"}


def test_rank_orders_by_upvotes_then_the_older_first():
    older, newer = "2026-05-01T10:00:00.000000", "2026-05-01T10:00:00.000001"
    assert rank_of(0, older) > rank_of(0, newer)  # a microsecond apart
    assert rank_of(1, newer) > rank_of(0, older)
    assert rank_of(1, newer) - rank_of(0, newer) == RANK_STEP  # an upvote is one ADD
    assert rank_of(10**9, older, pinned=True) < 10**27  # within Decimal's 28 digits
    questions = [ask(id=f"q{n}", created=f"2026-05-01T10:00:{n:02d}.000000") for n in range(5)]
    assert [q["id"] for q in sorted(questions, key=sort_key)] == ["q0", "q1", "q2", "q3", "q4"]
    assert LIST_SIZE == 20


def test_shelves():
    assert shelf_of(EVENT, OPEN) == shelf_of(EVENT, ANSWERED) == EVENT
    assert shelf_of(EVENT, PENDING) == f"{EVENT}#pending" and shelf_of(EVENT, DISMISSED) is None


# -- the upvote plan -----------------------------------------------------------------------


def up(n: int, kind="upvote", voter="ann", question="q1") -> UpvoteMessage:
    return UpvoteMessage(kind=kind, id=f"m{n}-{kind}-{voter}", event_id=EVENT,
                         question_id=question, voter_id=voter,
                         queued_at=f"2026-05-01T10:00:{n:02d}.000000")  # fmt: skip


def outcome(writes):
    return [(w.message.id, w.status, w.reason, w.delta) for w in writes]


def test_one_upvote_per_voter_however_often_it_is_sent():
    writes, changes, deltas = plan_upvotes([up(1), up(2), up(3, voter="bob")], {})
    assert [(w.status, w.reason) for w in writes] == [
        ("counted", None), ("rejected", "already_upvoted"), ("counted", None)]
    assert deltas == {(EVENT, "q1"): 2}
    ann = next(c for c in changes if c.voter_id == "ann")
    assert (ann.read, ann.up, ann.at) == (None, True, up(2).queued_at)


def test_an_upvote_and_its_withdrawal_play_in_queue_order():
    writes, _, deltas = plan_upvotes([up(2, "withdraw"), up(1)], {})
    assert [(w.message.kind, w.status) for w in writes] == [
        ("upvote", "counted"), ("withdraw", "counted")]
    assert deltas == {}  # net nothing: the question is not written


def test_a_stale_message_never_undoes_a_later_one():
    standing = {("q1", "ann"): {"up": False, "at": up(5).queued_at}}
    writes, changes, deltas = plan_upvotes([up(3)], standing)
    assert outcome(writes)[0][1:] == ("rejected", "superseded", 0) and deltas == {}
    assert changes[0].up is None  # only checked to be as read


def test_a_withdrawal_of_nothing_is_refused_but_remembered():
    writes, changes, deltas = plan_upvotes([up(4, "withdraw")], {})
    assert outcome(writes)[0][1:] == ("rejected", "not_upvoted", 0) and deltas == {}
    assert (changes[0].up, changes[0].at) == (False, up(4).queued_at)
    later_but_queued_earlier = plan_upvotes([up(3)], {("q1", "ann"): {"up": False,
                                                                     "at": up(4).queued_at}})
    assert later_but_queued_earlier[0][0].reason == "superseded"


def test_a_standing_upvote_withdrawn_counts_minus_one():
    standing = {("q1", "ann"): {"up": True, "at": up(1).queued_at}}
    writes, changes, deltas = plan_upvotes([up(2, "withdraw")], standing)
    assert outcome(writes)[0][1:] == ("counted", None, -1) and deltas == {(EVENT, "q1"): -1}
    assert changes[0].read == standing[("q1", "ann")] and changes[0].up is False


def test_a_gone_question_refuses_its_upvotes_and_writes_nothing_for_it():
    writes, changes, deltas = plan_upvotes([up(1), up(2, question="q2")], {}, gone={"q1"})
    assert [(w.message.question_id, w.reason) for w in writes] == [("q1", "question_gone"),
                                                                   ("q2", None)]  # fmt: skip
    assert [c.question_id for c in changes] == ["q2"] and deltas == {(EVENT, "q2"): 1}


def test_a_record_is_keyed_by_its_message_apart_from_voter_items():
    (write,), _, _ = plan_upvotes([up(1)], {})
    assert write.record["entry"] == "#" + up(1).id and write.record["question_id"] == "q1"
    with pytest.raises(ValueError):
        UpvoteMessage(kind="upvote", id="m", event_id=EVENT, question_id="q1",
                      voter_id="has#hash", queued_at="x")  # fmt: skip
