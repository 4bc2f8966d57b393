"""Which votes count: closing times, voter policies and the order of changed votes.

Pure functions, shared by intake (voting.py) and the worker, so both judge a
vote by the same rules. Nothing here does I/O.

Policies (a topic's `vote_limit`):
- unlimited:      every vote counts (the original game).
- one_per_voter:  a voter's first vote counts; later ones are rejected
                  `duplicate_voter`.
- changeable:     a voter's latest vote counts. "Latest" is the queue time
                  stamped at intake (ties broken by vote id), never the order
                  the worker happens to see them in, so a standard queue's
                  reordering cannot change the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field

VOTE_LIMITS = ("unlimited", "one_per_voter", "changeable")
RESULTS_VISIBILITY = ("always", "after_vote", "after_close")


def is_open(topic: dict, at: str) -> bool:
    """Does `topic` take a vote queued at `at` (ISO time)? Closed by flag or deadline."""
    if not topic.get("is_active", False):
        return False
    closes_at = topic.get("closes_at")
    return closes_at is None or at < closes_at


def refusal_reason(topic: dict, choice_id: str, queued_at: str) -> str | None:
    """Why a vote may not count on `topic`, or None if it may (voter rules aside)."""
    if not is_open(topic, queued_at):
        return "topic_closed"
    if choice_id not in {c["id"] for c in topic.get("choices", [])}:
        return "choice_removed"
    return None


def order_key(vote) -> tuple[str, str]:
    """The order in which a voter's votes happened: queue time, then id."""
    return (vote.queued_at, vote.id)


@dataclass
class Plan:
    """What to write for one vote. `status` counted/rejected/replaced; ballot work for voters."""

    vote: object
    status: str
    reason: str | None = None
    # The ballot to store (topic_id, voter_id, vote_id, choice_id, queued_at)
    # and the vote id the stored ballot must still hold (None: no ballot yet).
    ballot: dict | None = None
    expect_vote_id: str | None = None
    # A previously counted vote this one replaces: its tally comes off.
    replaces: dict | None = None
    extra: dict = field(default_factory=dict)


def plan_voter(votes: list, limit: str, stored: dict | None) -> list[Plan]:
    """Plans for one voter's votes on one topic in a batch, given the stored ballot.

    `votes` are QueuedVote-like (id, choice_id, queued_at, voter_id, topic_id);
    `stored` is the ballot as stored (vote_id, choice_id, queued_at, shard) or None.
    A vote equal to the stored ballot's is a redelivery: planned as it was
    (counted, no ballot work) so its conditional Put reports the duplicate.
    """
    ordered = sorted(votes, key=order_key)
    plans: list[Plan] = []
    if limit == "one_per_voter":
        holder = stored["vote_id"] if stored else None
        for vote in ordered:
            if vote.id == holder:
                plans.append(Plan(vote, "counted"))
            elif holder is None:
                holder = vote.id
                plans.append(Plan(vote, "counted", ballot=_ballot(vote), expect_vote_id=None))
            else:
                plans.append(Plan(vote, "rejected", reason="duplicate_voter"))
        return plans
    if limit == "changeable":
        standing = stored["vote_id"] if stored else None
        fresh = [v for v in ordered if v.id != standing]
        winner = fresh[-1] if fresh else None
        if winner is not None and stored and order_key(winner) < (stored["queued_at"], standing):
            winner = None  # everything in this batch is older than the standing vote
        for vote in ordered:
            if vote.id == standing:
                plans.append(Plan(vote, "counted"))  # a redelivery of the standing vote
            elif vote is winner:
                ballot = _ballot(vote)
                plans.append(
                    Plan(vote, "counted", ballot=ballot, expect_vote_id=standing, replaces=stored)
                )
            else:
                plans.append(Plan(vote, "replaced", reason="changed_by_voter"))
        return plans
    # unlimited: every vote counts; the ballot only remembers that the voter voted.
    latest = ordered[-1]
    return [
        Plan(v, "counted", ballot=_ballot(v) if v is latest else None, expect_vote_id="*")
        for v in ordered
    ]


def _ballot(vote) -> dict:
    return {
        "topic_id": vote.topic_id,
        "voter_id": vote.voter_id,
        "vote_id": vote.id,
        "choice_id": vote.choice_id,
        "queued_at": vote.queued_at,
    }
