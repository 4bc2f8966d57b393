"""The quiz's rules (core/rules/formats/quiz.py), its planning and its batch items, no server.

Points at their edges (0 s, the limit, a microsecond after), who may see `correct`
when, how a batch scores answers (too late, a second answer, a stale open period),
what the transaction writes for them, that a scored answer is final, which events
`recount --all` recounts the scores of, ranks with ties, nicknames and teams.
"""

from __future__ import annotations

import pytest

from core.aws.batch import BatchWriter
from core.rules.errors import AnswerScored, RulesInvalid
from core.rules.formats.quiz import (
    answer_shown,
    can_reopen,
    deadline,
    elapsed_micros,
    nickname,
    nickname_key,
    nickname_refusal,
    points,
    public_quiz,
    rank_of,
    ranked,
    refused_team,
    team_board,
    teams_refusal,
)
from core.rules.planning import plan_batch
from core.rules.question_types import check_rules, counters, rules_of
from core.rules.topics import SETTING_DEFAULTS
from core.rules.votes import VoteMessage, scored
from core.services.repair import quiz_events
from webapp.refusals import refusal_for

OPENED = "2030-01-01T12:00:00.000000"
LIMIT = 20
SECOND = 1_000_000


def at(seconds: float) -> str:
    """The clock's format, `seconds` after OPENED."""
    whole, micros = divmod(round(seconds * SECOND), SECOND)
    minutes, secs = divmod(whole, 60)
    return f"2030-01-01T12:{minutes:02d}:{secs:02d}.{micros:06d}"


def quiz(**fields) -> dict:
    return {
        **SETTING_DEFAULTS,
        "id": "q1",
        "type": "quiz",
        "vote_limit": "one_per_voter",
        "is_active": True,
        "title": "Capital of France?",
        "choices": [{"id": "paris", "description": "Paris", "correct": True},
                    {"id": "rome", "description": "Rome"}],  # fmt: skip
        "opened_at": OPENED,
        "event_id": "e1",
        **fields,
    }


def answer(vote_id, choice="paris", seconds=1.0, voter="ann", topic="q1", opened=OPENED, **kw):
    rules = {"type": "quiz", **rules_of(quiz(id=topic))}
    return VoteMessage(id=vote_id, topic_id=topic, choice_id=choice, queued_at=at(seconds),
                       voter_id=voter, vote_limit="one_per_voter", rules=rules,
                       opened_at=opened, **kw)  # fmt: skip


# -- points -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [(0, 1000), (LIMIT / 2, 750), (LIMIT, 500), (LIMIT + 1e-6, 0), (1, 975), (19.99, 500)],
)
def test_a_correct_answer_scores_from_1000_at_once_to_500_at_the_limit(seconds, expected):
    elapsed = elapsed_micros(OPENED, at(seconds))
    assert points(elapsed, LIMIT, correct=True) == expected


def test_a_wrong_answer_scores_nothing_however_fast():
    assert points(0, LIMIT, correct=False) == 0


def test_points_round_half_up_on_whole_microseconds():
    # 500 * (1 - e/L) = 0.5 exactly: e = L * 0.999 -> 500.5 -> 501 (Python's round: 500).
    elapsed = LIMIT * SECOND * 999 // 1000
    assert points(elapsed, LIMIT, correct=True) == 501
    assert points(elapsed + 1, LIMIT, correct=True) == 500


def test_an_answer_before_the_opening_scores_nothing():
    assert points(-1, LIMIT, correct=True) == 0


def test_the_deadline_is_the_opening_plus_the_time_limit():
    assert deadline(quiz(time_limit=5)) == "2030-01-01T12:00:05.000000"
    assert deadline(quiz(opened_at=None)) is None


# -- correct is public only once asked and over --------------------------------------------


@pytest.mark.parametrize(
    ("fields", "now", "shown"),
    [
        ({}, at(3), False),  # open, time left
        ({}, at(LIMIT), False),  # at the limit it still takes answers
        ({}, at(LIMIT + 0.001), True),  # time is up
        ({"is_active": False, "closed_at": at(5)}, at(6), True),  # closed early
        ({"is_active": False, "opened_at": None}, at(60), False),  # waiting to be asked
        ({"is_active": True, "opened_at": None}, at(60), False),  # never opened in an event
        # Created open, then held closed by an event: not asked yet.
        ({"is_active": False, "closed_at": at(5), "event_id": None}, at(60), False),
    ],
)
def test_correct_is_public_once_the_question_was_asked_and_is_over(fields, now, shown):
    assert answer_shown(quiz(**fields), now) is shown


def test_a_public_read_marks_correct_choices_only_when_shown_and_an_admin_always(monkeypatch):
    import core.rules.formats.quiz as rules

    monkeypatch.setattr(rules, "utc_now", lambda: at(3))
    rows = [{"id": "paris"}, {"id": "rome"}]
    assert public_quiz(quiz(), rows) == {"deadline": at(LIMIT)}
    assert rows == [{"id": "paris"}, {"id": "rome"}]
    public_quiz(quiz(), rows, admin=True)
    assert rows == [{"id": "paris", "correct": True}, {"id": "rome", "correct": False}]
    monkeypatch.setattr(rules, "utc_now", lambda: at(LIMIT + 1))
    rows = [{"id": "paris"}, {"id": "rome"}]
    public_quiz(quiz(), rows)
    assert rows == [{"id": "paris", "correct": True}, {"id": "rome", "correct": False}]


def test_an_asked_quiz_question_is_not_opened_again():
    asked = quiz(is_active=False, closed_at=at(30))
    assert not can_reopen(asked, {**asked, "is_active": True})
    waiting = quiz(is_active=False, opened_at=None)
    assert can_reopen(waiting, {**waiting, "is_active": True})
    single = {**asked, "type": "single"}
    assert can_reopen(single, {**single, "is_active": True})
    # Created open, then held closed by the event it is put in: its event asks it.
    held = quiz(is_active=False, closed_at=at(30), event_id=None)
    assert can_reopen(held, {**held, "is_active": True})


# -- the type's rules ------------------------------------------------------------------------


def test_a_quiz_marks_at_least_one_choice_correct_and_only_a_quiz_marks_any():
    with pytest.raises(RulesInvalid, match="correct"):
        check_rules(quiz(choices=[{"id": c, "description": c} for c in "ab"]))
    with pytest.raises(RulesInvalid, match="only a quiz"):
        check_rules({**quiz(), "type": "single"})
    check_rules(quiz())



def test_the_documented_bodies_say_only_a_quiz_marks_a_choice_correct():
    """What /openapi.json states of `correct`: a body the API refuses 422 for it is
    schema-invalid too (Schemathesis sent a typeless body with a correct choice)."""
    from jsonschema import Draft202012Validator
    from pydantic.json_schema import models_json_schema

    from core.schemas.topics import NewTopicIn, TopicIn

    (_, defs) = models_json_schema([(NewTopicIn, "validation"), (TopicIn, "validation")])
    marked = [{"description": "a", "correct": True}, {"description": "b"}]
    for model, typeless_refused in ((NewTopicIn, True), (TopicIn, False)):
        valid = Draft202012Validator({**defs["$defs"][model.__name__], **defs}).is_valid
        for kind in (None, "single", "multiple", "game"):
            body = {"title": "t", "choices": marked, **({"type": kind} if kind else {})}
            refused = kind is not None or typeless_refused
            assert valid(body) is not refused, (model.__name__, kind)
        assert valid({"title": "t", "type": "quiz", "choices": marked})


def test_a_quiz_answer_counts_its_choice_and_carries_what_scores_it():
    assert counters(rules_of(quiz()), {"choice_id": "rome"}) == {"rome": 1, ":voters": 1}
    assert rules_of(quiz(time_limit=30)) == {
        "type": "quiz", "time_limit": 30, "correct": ["paris"], "event_id": "e1",
    }  # fmt: skip


def test_a_quiz_message_without_its_player_or_period_is_unparseable():
    with pytest.raises(ValueError, match="quiz answer"):
        answer("1", opened=None)
    with pytest.raises(ValueError, match="quiz answer"):
        answer("1", voter=None)


# -- planning: scores, too late, the open period ------------------------------------------------


def plan(votes, topics=None, ballots=None):
    return plan_batch(votes, topics or {}, ballots or {}, {"q1": 0, "q2": 0})


def test_answers_in_time_score_and_one_after_the_limit_is_rejected_too_late():
    writes = plan([answer("fast", seconds=0, voter="ann"),
                   answer("slow", seconds=LIMIT, voter="bob"),
                   answer("late", seconds=LIMIT + 1e-6, voter="cy"),
                   answer("wrong", choice="rome", seconds=1, voter="dee")])  # fmt: skip
    found = {w.vote_id: (w.status, w.reason, w.score and w.score["points"]) for w in writes}
    assert found == {
        "fast": ("counted", None, 1000),
        "slow": ("counted", None, 500),
        "late": ("rejected", "too_late", None),
        "wrong": ("counted", None, 0),
    }
    fast = next(w for w in writes if w.vote_id == "fast")
    assert fast.score == {"event_id": "e1", "points": 1000, "correct": True,
                          "opened_at": OPENED, "elapsed_us": 0}  # fmt: skip
    assert fast.record["score"] == fast.score and fast.ballot["score"] == fast.score


def test_a_players_second_answer_is_rejected_and_scores_nothing():
    writes = plan([answer("1", seconds=2), answer("2", choice="rome", seconds=3)])
    assert [(w.vote_id, w.status, w.reason, w.score is not None) for w in writes] == [
        ("1", "counted", None, True), ("2", "rejected", "duplicate_voter", False)]  # fmt: skip
    stored = {("q1", "ann"): {"vote_id": "1", "queued_at": at(2)}}
    again = plan([answer("3", seconds=4)], ballots=stored)
    assert [(w.status, w.reason, w.score) for w in again] == [("rejected", "duplicate_voter", None)]


def test_a_stale_period_stamp_is_scored_against_the_period_the_topic_is_in():
    # A web process's stale copy stamped the first opening; the topic reopened at 100 s
    # (after a reset) and the answer was queued 5 s into that period.
    reopened = quiz(opened_at=at(100))
    writes = plan([answer("1", seconds=105)], topics={"q1": reopened})
    assert writes[0].score["opened_at"] == at(100) and writes[0].score["points"] == 875
    # Queued before that period began: it belongs to an earlier one.
    early = plan([answer("2", seconds=50)], topics={"q1": reopened})
    assert (early[0].status, early[0].reason) == ("rejected", "topic_closed")


def player_items(items, owners) -> list[tuple[dict, tuple]]:
    """(item, owner) of a transaction's player updates."""
    return [(i, o) for i, o in zip(items, owners, strict=True)
            if isinstance(o, tuple) and o[0] == "player"]  # fmt: skip


def test_the_batch_checks_the_period_and_adds_each_players_score_once():
    writes = plan([answer("1", seconds=0, voter="ann"), answer("2", seconds=10, voter="bob"),
                   answer("3", seconds=0, voter="cy", choice="rome")])  # fmt: skip
    items, owners = BatchWriter(client=None).transaction(writes)
    check = next(i["ConditionCheck"] for i in items if "ConditionCheck" in i)
    assert "opened_at = :opened" in check["ConditionExpression"]
    assert check["ExpressionAttributeValues"][":opened"] == {"S": OPENED}
    players = {o[1]: i["Update"] for i, o in player_items(items, owners)}
    assert set(players) == {("e1", "ann"), ("e1", "bob"), ("e1", "cy")}
    ann = players[("e1", "ann")]
    assert ann["Key"] == {"event_id": {"S": "e1"}, "player": {"S": "player#ann"}}
    assert ann["ExpressionAttributeValues"] == {":s": {"N": "1000"}, ":c": {"N": "1"},
                                                ":a": {"N": "1"}}  # fmt: skip
    assert players[("e1", "cy")]["ExpressionAttributeValues"][":s"] == {"N": "0"}
    assert "ConditionExpression" not in ann  # the record Put beside it guards it


def test_one_players_answers_to_two_questions_in_a_batch_are_one_update():
    writes = plan([answer("1", seconds=0), answer("2", seconds=LIMIT, topic="q2")])
    items, owners = BatchWriter(client=None).transaction(writes)
    updates = [i for i, _ in player_items(items, owners)]
    assert len(updates) == 1
    assert updates[0]["Update"]["ExpressionAttributeValues"][":s"] == {"N": "1500"}
    assert updates[0]["Update"]["ExpressionAttributeValues"][":a"] == {"N": "2"}


def test_a_rejected_answer_adds_nothing_to_its_player():
    writes = plan([answer("late", seconds=LIMIT + 1)])
    items, owners = BatchWriter(client=None).transaction(writes)
    assert player_items(items, owners) == []


# -- a scored answer is final; recount --all -------------------------------------------------


def test_a_counted_answer_keeps_its_score_even_at_0_points_and_no_other_record_has_one():
    writes = plan([answer("fast", seconds=0, voter="ann"),
                   answer("wrong", choice="rome", seconds=1, voter="bob"),
                   answer("late", seconds=LIMIT + 1, voter="cy"),
                   answer("again", seconds=2, voter="ann")])  # fmt: skip
    records = {w.vote_id: w.record for w in writes}
    found = {vote_id: scored(record) for vote_id, record in records.items()}
    assert (found["fast"]["points"], found["fast"]["correct"]) == (1000, True)
    assert (found["wrong"]["points"], found["wrong"]["correct"]) == (0, False)  # answered
    assert found["late"] is None and found["again"] is None  # rejected: they scored nothing
    assert scored({**records["fast"], "status": "replaced"}) is None
    assert scored({"id": "v", "topic_id": "t", "choice_id": "a", "status": "counted"}) is None


def test_deleting_a_scored_answer_is_a_409_saying_it_is_final():
    exc = AnswerScored("v1")
    assert refusal_for(exc).status == 409
    assert refusal_for(exc).detail_of(exc) == (
        "This quiz answer has been scored: it is final and cannot be deleted"
    )


def test_recount_all_takes_the_events_a_quiz_was_asked_in_or_that_list_one_oldest_first():
    topics = [quiz(id="q1", event_id="e1"), quiz(id="q2", event_id="e1"),
              quiz(id="q3", event_id=None), {**quiz(id="poll"), "type": "single"}]  # fmt: skip
    events = [
        {"id": "e2", "created": "2030-01-02", "questions": [{"topic_id": "q3"}]},  # to ask
        {"id": "e1", "created": "2030-01-01", "questions": []},  # asked, listed no more
        {"id": "e3", "created": "2030-01-03", "questions": [{"topic_id": "poll"}]},  # no quiz
    ]
    found = [(event["id"], asked) for event, asked in quiz_events(events, topics)]
    assert found == [("e1", ["q1", "q2"]), ("e2", [])]


# -- ranks, ties, teams --------------------------------------------------------------------


def test_equal_scores_share_a_rank_and_the_next_skips():
    rows = ranked([{"name": "b", "score": 900}, {"name": "a", "score": 900},
                   {"name": "c", "score": 1500}, {"name": "d", "score": 0}])  # fmt: skip
    assert [(r["name"], r["rank"]) for r in rows] == [("c", 1), ("a", 2), ("b", 2), ("d", 4)]


def test_a_rank_is_one_more_than_the_higher_scores():
    scores = [1500, 900, 900, 0]
    assert [rank_of(s, scores) for s in (1500, 900, 0, 2000, 500)] == [1, 2, 4, 1, 4]


def test_teams_rank_by_their_members_mean_score():
    board = team_board([{"team": "Red", "score": 1000}, {"team": "Red", "score": 0},
                        {"team": "Blue", "score": 500}, {"team": "Green", "score": 600},
                        {"score": 9000}])  # fmt: skip
    assert board == [
        {"team": "Green", "members": 1, "score": 600.0, "rank": 1},
        {"team": "Blue", "members": 1, "score": 500.0, "rank": 2},
        {"team": "Red", "members": 2, "score": 500.0, "rank": 2},
    ]


# -- nicknames and teams -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("", "1 to 20"),
        ("x" * 21, "1 to 20"),
        ("bad\x07bell", "control characters"),
        ("\u200b\u200b", "a nickname needs"),
        ("badword", "not accepted"),
        ("B.a.d.w.o.r.d", "not accepted"),
    ],
)
def test_a_nickname_is_refused_naming_why(typed, why, monkeypatch):
    import core.rules.text_answers as text

    monkeypatch.setattr(text, "shipped_blocklist", lambda: frozenset({"badword"}))
    text._blocker.cache_clear()
    try:
        assert why in nickname_refusal(nickname(typed))
    finally:
        text._blocker.cache_clear()


def test_a_nickname_is_kept_as_typed_and_the_same_in_any_case_or_look_alike():
    assert nickname("  Ana   Lía ") == "Ana Lía"
    assert nickname_refusal("x" * 20) is None and nickname_refusal("Zoë") is None
    assert nickname_key("ANA") == nickname_key("ana") == nickname_key("\u0410na")  # Cyrillic A
    assert nickname_key("Ana") != nickname_key("Anna")


def test_team_names_are_few_distinct_and_clean():
    assert teams_refusal(["Red", "Blue"]) is None
    assert "twice" in teams_refusal(["Red", "RED"])
    assert "at most" in teams_refusal([f"t{i}" for i in range(13)])
    assert "1 to 30" in teams_refusal(["x" * 31])
    # Which rule, and the name it is about: the console's form says it in the page's words.
    assert refused_team(["Red", "Blue"]) is None
    assert refused_team(["Red", "Blue", "RED"]) == ("twice", "RED", "")
    assert refused_team([f"t{i}" for i in range(13)]) == ("too_many", "", "")
    assert refused_team(["Red", "x" * 31]) == ("length", "x" * 31, "")
    kind, team, words = refused_team(["Red", "Bl\u202eue"])
    assert (kind, team) == ("refused", "Bl\u202eue") and words
