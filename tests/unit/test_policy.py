"""The pure voting rules: topics open and refusing (core/rules/topics.py), one voter's votes
(core/rules/policy.py)."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

from core.rules.policy import plan_voter
from core.rules.topics import is_open, refusal_reason


def vote(vid: str, choice: str, at: str, voter: str = "v1", topic: str = "t", generation=0):
    return SimpleNamespace(
        id=vid, choice_id=choice, queued_at=at, voter_id=voter, topic_id=topic,
        generation=generation,
    )  # fmt: skip


TOPIC = {
    "is_active": True,
    "choices": [{"id": "a"}, {"id": "b"}],
    "closes_at": "2030-01-01T00:00:00.000000",
}


def test_open_by_flag_and_deadline():
    assert is_open(TOPIC, "2029-12-31T23:59:59.999999")
    assert not is_open(TOPIC, "2030-01-01T00:00:00.000000")
    assert not is_open({**TOPIC, "is_active": False}, "2020-01-01T00:00:00.000000")
    assert is_open({"is_active": True}, "2999-01-01T00:00:00.000000")


def test_refusal_reasons():
    assert refusal_reason(TOPIC, "a", "2029-01-01T00:00:00.000000") is None
    assert refusal_reason(TOPIC, "z", "2029-01-01T00:00:00.000000") == "choice_removed"
    assert refusal_reason(TOPIC, "a", "2031-01-01T00:00:00.000000") == "topic_closed"


def test_one_per_voter_first_counts():
    plans = plan_voter([vote("2", "b", "t2"), vote("1", "a", "t1")], "one_per_voter", None)
    by_id = {p.vote.id: p for p in plans}
    assert by_id["1"].status == "counted" and by_id["1"].ballot["vote_id"] == "1"
    assert by_id["1"].expect_vote_id is None
    assert (by_id["2"].status, by_id["2"].reason) == ("rejected", "duplicate_voter")


def test_one_per_voter_with_stored_ballot():
    stored = {"vote_id": "0", "choice_id": "a", "queued_at": "t0"}
    plans = plan_voter([vote("0", "a", "t0"), vote("5", "b", "t5")], "one_per_voter", stored)
    by_id = {p.vote.id: p for p in plans}
    # The stored vote redelivered is planned as counted without ballot work,
    # so its conditional Put reports a duplicate.
    assert by_id["0"].status == "counted" and by_id["0"].ballot is None
    assert by_id["5"].reason == "duplicate_voter"


def test_changeable_latest_wins_whatever_the_order():
    votes = [vote(str(i), "ab"[i % 2], f"t{i}") for i in range(4)]
    for order in itertools.permutations(votes):
        plans = plan_voter(list(order), "changeable", None)
        counted = [p for p in plans if p.status == "counted"]
        assert [p.vote.id for p in counted] == ["3"]
        assert all(p.status == "replaced" for p in plans if p.vote.id != "3")


def test_changeable_against_stored_ballot():
    stored = {"vote_id": "s", "choice_id": "a", "queued_at": "t5", "shard": 2}
    older = plan_voter([vote("o", "b", "t1")], "changeable", stored)
    assert [(p.status, p.replaces) for p in older] == [("replaced", None)]
    newer = plan_voter([vote("n", "b", "t9")], "changeable", stored)
    assert newer[0].status == "counted" and newer[0].replaces == stored
    assert newer[0].expect_vote_id == "s"


def test_unlimited_counts_all_and_remembers_the_voter_once():
    plans = plan_voter([vote("1", "a", "t1"), vote("2", "b", "t2")], "unlimited", None)
    assert [p.status for p in plans] == ["counted", "counted"]
    assert [p.ballot is not None for p in plans] == [False, True]


def test_a_vote_of_another_generation_is_refused_as_reset_before_anything_else():
    reset = {**TOPIC, "generation": 2}
    assert refusal_reason(reset, "a", "2029-01-01T00:00:00.000000", generation=2) is None
    assert refusal_reason(reset, "a", "2029-01-01T00:00:00.000000", generation=1) == "reset"
    assert refusal_reason(reset, "z", "2031-01-01T00:00:00.000000", generation=0) == "reset"
    assert refusal_reason(TOPIC, "a", "2029-01-01T00:00:00.000000", generation=0) is None
