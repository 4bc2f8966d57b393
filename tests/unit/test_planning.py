"""Batch planning (core/rules/planning.py) and the vote record it writes (core/rules/votes.py),
no server.

The worker hands plan_batch what it knows: the votes, the topics it learned from
failed checks earlier in the batch, the stored ballots, one shard per topic.
"""

from __future__ import annotations

from core.rules.planning import pick_shards, plan_batch, policy_of, voter_keys
from core.rules.topics import SETTING_DEFAULTS
from core.rules.votes import ANY_BALLOT, VoteMessage, VoteWrite


def message(vote_id, topic="t1", choice="a", at="2030-01-01T00:00:01.000000", **extra):
    return VoteMessage(id=vote_id, topic_id=topic, choice_id=choice, queued_at=at, **extra)


def topic(topic_id="t1", choices="ab", **fields):
    """A topic as the worker learns it from a failed check (every setting present)."""
    return {
        "id": topic_id,
        "is_active": True,
        "choices": [{"id": c, "description": c} for c in choices],
        **SETTING_DEFAULTS,
        **fields,
    }


def outcome(writes: list[VoteWrite]) -> dict[str, tuple]:
    """{vote id: (status, reason, shard, policy)} of a plan."""
    return {w.vote_id: (w.status, w.reason, w.shard, w.policy) for w in writes}


# -- shards ------------------------------------------------------------------------------------


def test_one_shard_per_topic_out_of_its_own_count_else_the_default():
    asked = []

    def choose(n):
        asked.append(n)
        return n - 1

    votes = [message("1", "t1"), message("2", "t2", tally_shards=8), message("3", "t1")]
    assert pick_shards(votes, default=4, choose=choose) == {"t1": 3, "t2": 7}
    assert asked == [4, 8]  # once per topic, in the order the topics first appear


def test_a_shard_count_below_one_still_gives_shard_zero():
    asked = []
    assert pick_shards([message("1")], default=0, choose=lambda n: asked.append(n) or 0) == {
        "t1": 0
    }
    assert asked == [1]


# -- which policy, which ballots ---------------------------------------------------------------


def test_policy_is_the_learned_topics_else_the_one_stamped_at_intake():
    stamped = message("1", vote_limit="changeable")
    assert policy_of(stamped, {}) == "changeable"
    assert policy_of(stamped, {"t1": topic(vote_limit="one_per_voter")}) == "one_per_voter"
    assert policy_of(stamped, {"t2": topic("t2", vote_limit="unlimited")}) == "changeable"


def test_ballots_are_read_only_for_voters_on_topics_that_limit_them():
    votes = [
        message("1", voter_id="ann", vote_limit="one_per_voter"),
        message("2", voter_id="bob"),  # unlimited: no ballot to read
        message("3", vote_limit="changeable"),  # no voter
        message("4", "t2", voter_id="cy"),  # stamped unlimited, but t2 now limits voters
        message("5", "t3", voter_id="di", vote_limit="changeable"),  # t3 is unlimited now
    ]
    learned = {"t2": topic("t2", vote_limit="changeable"), "t3": topic("t3")}
    assert voter_keys(votes, learned) == [("t1", "ann"), ("t2", "cy")]


# -- plans -------------------------------------------------------------------------------------


def test_unlimited_votes_without_voter_all_count_on_their_topics_shard():
    votes = [message("1", choice="a"), message("2", choice="b"), message("3", "t2")]
    writes = plan_batch(votes, {}, {}, {"t1": 2, "t2": 5})
    assert outcome(writes) == {
        "1": ("counted", None, 2, "unlimited"),
        "2": ("counted", None, 2, "unlimited"),
        "3": ("counted", None, 5, "unlimited"),
    }
    assert all(w.ballot is None and w.replaces is None for w in writes)


def test_unlimited_voter_counts_every_time_and_the_latest_is_remembered():
    votes = [message("2", at="t2", voter_id="ann"), message("1", at="t1", voter_id="ann")]
    writes = {w.vote_id: w for w in plan_batch(votes, {}, {}, {"t1": 0})}
    assert [writes[i].status for i in ("1", "2")] == ["counted", "counted"]
    assert writes["1"].ballot is None and writes["2"].ballot["vote_id"] == "2"
    assert writes["1"].expect_vote_id == writes["2"].expect_vote_id == ANY_BALLOT


def test_one_per_voter_first_vote_counts_and_later_ones_are_refused():
    limit = {"vote_limit": "one_per_voter", "voter_id": "ann"}
    votes = [message("2", at="t2", **limit), message("1", at="t1", **limit)]
    writes = {w.vote_id: w for w in plan_batch(votes, {}, {}, {"t1": 1})}
    assert writes["1"].status == "counted" and writes["1"].ballot["vote_id"] == "1"
    assert writes["1"].expect_vote_id is None  # no ballot may exist yet
    assert (writes["2"].status, writes["2"].reason) == ("rejected", "duplicate_voter")


def test_one_per_voter_with_a_stored_ballot_refuses_a_new_vote():
    vote = message("9", voter_id="ann", vote_limit="one_per_voter")
    stored = {"vote_id": "1", "choice_id": "a", "queued_at": "t0", "shard": 0}
    writes = plan_batch([vote], {}, {("t1", "ann"): stored}, {"t1": 0})
    assert outcome(writes) == {"9": ("rejected", "duplicate_voter", 0, "one_per_voter")}


def test_changeable_vote_replaces_the_stored_ballot():
    vote = message("9", choice="b", at="t9", voter_id="ann", vote_limit="changeable")
    stored = {"vote_id": "1", "choice_id": "a", "queued_at": "t0", "shard": 3}
    (write,) = plan_batch([vote], {}, {("t1", "ann"): stored}, {"t1": 2})
    assert (write.status, write.shard) == ("counted", 2)
    assert write.replaces == stored and write.expect_vote_id == "1"
    assert write.ballot == {"topic_id": "t1", "voter_id": "ann", "vote_id": "9",
                            "choice_id": "b", "queued_at": "t9"}  # fmt: skip


def test_changeable_votes_older_than_the_stored_ballot_are_replaced_by_it():
    vote = message("0", at="t0", voter_id="ann", vote_limit="changeable")
    stored = {"vote_id": "5", "choice_id": "a", "queued_at": "t5", "shard": 0}
    (write,) = plan_batch([vote], {}, {("t1", "ann"): stored}, {"t1": 0})
    assert (write.status, write.reason, write.ballot) == ("replaced", "changed_by_voter", None)


def test_refusals_from_a_topic_learned_in_the_batch():
    learned = {
        "closed": topic("closed", is_active=False),
        "past": topic("past", closes_at="2030-01-01T00:00:00.000000"),
        "shrunk": topic("shrunk", choices="a"),
    }
    votes = [
        message("1", "closed"),
        message("2", "past", at="2030-01-01T00:00:00.000001"),
        message("3", "shrunk", choice="b"),
        message("4", "shrunk", choice="a"),
    ]
    shards = {"closed": 1, "past": 2, "shrunk": 3}
    assert outcome(plan_batch(votes, learned, {}, shards)) == {
        "1": ("rejected", "topic_closed", 1, "unlimited"),
        "2": ("rejected", "topic_closed", 2, "unlimited"),
        "3": ("rejected", "choice_removed", 3, "unlimited"),
        "4": ("counted", None, 3, "unlimited"),
    }


def test_a_limited_topic_refuses_a_vote_without_voter():
    stamped = message("1", vote_limit="one_per_voter")
    assert outcome(plan_batch([stamped], {}, {}, {"t1": 0})) == {
        "1": ("rejected", "voter_required", 0, "one_per_voter")
    }
    # Stamped unlimited at intake, but the topic has limited voters since.
    learned = {"t1": topic(vote_limit="changeable")}
    assert outcome(plan_batch([message("2")], learned, {}, {"t1": 0})) == {
        "2": ("rejected", "voter_required", 0, "changeable")
    }


def test_a_closed_topic_is_the_reason_even_without_a_voter():
    learned = {"t1": topic(is_active=False, vote_limit="one_per_voter")}
    (write,) = plan_batch([message("1")], learned, {}, {"t1": 0})
    assert (write.status, write.reason) == ("rejected", "topic_closed")


def test_one_assumed_policy_per_topic_the_first_votes():
    votes = [message("1"), message("2", voter_id="ann", vote_limit="one_per_voter")]
    writes = plan_batch(votes, {}, {}, {"t1": 0})
    assert {w.policy for w in writes} == {"unlimited"}
    assert [w.status for w in writes] == ["counted", "counted"]


# -- the vote record ---------------------------------------------------------------------------


def test_record_holds_the_shard_only_when_counted_and_drops_empty_fields():
    vote = message("1", choice="b", voter_id="ann", request_id="r-1")
    counted = VoteWrite(vote, "counted", shard=4, created="2030-01-01T00:00:02.000000")
    assert counted.record == {
        "id": "1",
        "topic_id": "t1",
        "choice_id": "b",
        "queued_at": "2030-01-01T00:00:01.000000",
        "created": "2030-01-01T00:00:02.000000",
        "status": "counted",
        "voter_id": "ann",
        "shard": 4,
    }
    rejected = VoteWrite(message("2"), "rejected", "topic_closed", shard=4, created="c")
    assert rejected.record == {
        "id": "2", "topic_id": "t1", "choice_id": "a", "queued_at": "2030-01-01T00:00:01.000000",
        "created": "c", "status": "rejected", "reason": "topic_closed",
    }  # fmt: skip


def test_shard_zero_is_kept_and_created_is_stamped_when_not_given():
    write = VoteWrite(message("1"), "counted", shard=0)
    assert write.record["shard"] == 0
    assert write.created and write.record["created"] == write.created


def test_a_vote_queued_before_a_reopen_is_refused_by_the_reopened_topic():
    # Reopened at 00:00:05, so a vote queued at 00:00:04 was
    # queued while closed (or before the close): it may not count now.
    learned = {"t1": topic(opened_at="2030-01-01T00:00:05.000000")}
    votes = [
        message("1", at="2030-01-01T00:00:04.999999"),
        message("2", at="2030-01-01T00:00:05.000000"),
    ]
    assert outcome(plan_batch(votes, learned, {}, {"t1": 0})) == {
        "1": ("rejected", "topic_closed", 0, "unlimited"),
        "2": ("counted", None, 0, "unlimited"),
    }


def test_a_vote_queued_before_the_close_counts_and_one_queued_after_does_not():
    # Closed at 00:00:05 by the presenter (closed_at): what was queued before counts, as
    # before a deadline; a vote a stale web process queued after it does not.
    learned = {"t1": topic(is_active=False, closed_at="2030-01-01T00:00:05.000000")}
    votes = [
        message("1", at="2030-01-01T00:00:04.999999"),
        message("2", at="2030-01-01T00:00:05.000000"),
    ]
    assert outcome(plan_batch(votes, learned, {}, {"t1": 0})) == {
        "1": ("counted", None, 0, "unlimited"),
        "2": ("rejected", "topic_closed", 0, "unlimited"),
    }
    # Closed, then reopened at 00:00:07 and closed again at 00:00:09: a vote queued before
    # the reopen is still refused, one queued in the new open period counts.
    reopened = {"t1": topic(is_active=False, opened_at="2030-01-01T00:00:07.000000",
                            closed_at="2030-01-01T00:00:09.000000")}  # fmt: skip
    votes = [message("3", at="2030-01-01T00:00:04.000000"),
             message("4", at="2030-01-01T00:00:08.000000")]  # fmt: skip
    assert outcome(plan_batch(votes, reopened, {}, {"t1": 0})) == {
        "3": ("rejected", "topic_closed", 0, "unlimited"),
        "4": ("counted", None, 0, "unlimited"),
    }
    # A deadline still refuses what was queued after it, closed_at or not.
    past = {"t1": topic(is_active=False, closes_at="2030-01-01T00:00:02.000000",
                        closed_at="2030-01-01T00:00:05.000000")}  # fmt: skip
    assert outcome(plan_batch([message("5", at="2030-01-01T00:00:03.000000")], past, {},
                              {"t1": 0}))["5"][:2] == ("rejected", "topic_closed")  # fmt: skip


# -- resets: generations --------------------------------------------------------------------


def test_votes_of_an_older_generation_than_the_batch_newest_are_refused_as_reset():
    """Generations only grow: a vote stamped 1 beside one stamped 2 was queued before
    the topic's second reset, whatever the topic says now (no read needed)."""
    votes = [message("1", generation=1), message("2", generation=2), message("3", "t2")]
    plan = outcome(plan_batch(votes, {}, {}, {"t1": 0, "t2": 0}))
    assert plan == {
        "1": ("rejected", "reset", 0, "unlimited"),
        "2": ("counted", None, 0, "unlimited"),
        "3": ("counted", None, 0, "unlimited"),
    }


def test_a_learned_topic_at_a_newer_generation_refuses_every_older_vote_first():
    """The topic check failed because the topic was reset: `reset` is the reason, even
    where the topic also closed or lost the choice since."""
    reset = topic(generation=3, is_active=False, choices="b")
    votes = [message("1", generation=2), message("2", choice="a", generation=3)]
    plan = outcome(plan_batch(votes, {"t1": reset}, {}, {"t1": 0}))
    assert plan["1"][:2] == ("rejected", "reset")
    assert plan["2"][:2] == ("rejected", "topic_closed")


def test_a_ballot_left_from_before_a_reset_holds_nothing():
    """one_per_voter: a stored ballot of generation 0 does not refuse the voter's first
    vote of generation 1, which takes the ballot under a condition that lets it
    replace only an older one."""
    stale = {"vote_id": "old", "choice_id": "a", "queued_at": "2029-01-01T00:00:00.000000"}
    votes = [message("1", voter_id="v", vote_limit="one_per_voter", generation=1)]
    (write,) = plan_batch(votes, {}, {("t1", "v"): stale}, {"t1": 0})
    assert (write.status, write.expect_vote_id) == ("counted", None)
    assert write.ballot["generation"] == 1 and write.record["generation"] == 1
    # The same ballot of this generation does hold the voter's vote.
    current = {**stale, "generation": 1}
    (again,) = plan_batch(votes, {}, {("t1", "v"): current}, {"t1": 0})
    assert (again.status, again.reason) == ("rejected", "duplicate_voter")


def test_generation_zero_is_left_out_of_records_and_ballots():
    (write,) = plan_batch([message("1", voter_id="v")], {}, {}, {"t1": 0})
    assert "generation" not in write.record and "generation" not in write.ballot
