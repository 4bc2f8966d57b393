"""Voter policies: which of one voter's votes count, and what happens to their ballot.

Pure functions shared by the worker's batch planning (planning.py); nothing
here does I/O. The policies themselves are described in topics.py. For
`changeable`, "latest" is the queue time stamped at intake (ties broken by
vote id), never the order the worker happens to see the votes in, so a
standard queue's reordering cannot change the outcome.
"""

from __future__ import annotations

from core.rules.votes import (
    ANY_BALLOT,
    COUNTED,
    REJECTED,
    REPLACED,
    VoteMessage,
    VoteWrite,
    ballot_of,
)


def order_key(vote) -> tuple[str, str]:
    """The order in which a voter's votes happened: queue time, then id."""
    return (vote.queued_at, vote.id)


def plan_voter(
    votes: list[VoteMessage], limit: str, stored: dict | None, shard: int = 0
) -> list[VoteWrite]:
    """The writes for one voter's votes on one topic in a batch, given the stored ballot.

    `stored` is the ballot as stored (vote_id, choice_id, queued_at, shard) or
    None. A vote equal to the stored ballot's is a redelivery: planned as it
    was (counted, no ballot work) so its conditional Put reports the duplicate.
    """
    ordered = sorted(votes, key=order_key)

    def write(vote, status, **ballot_work) -> VoteWrite:
        return VoteWrite(vote, status, shard=shard, policy=limit, **ballot_work)

    if limit == "one_per_voter":
        holder = stored["vote_id"] if stored else None
        writes = []
        for vote in ordered:
            if vote.id == holder:
                writes.append(write(vote, COUNTED))
            elif holder is None:
                holder = vote.id
                writes.append(write(vote, COUNTED, ballot=ballot_of(vote), expect_vote_id=None))
            else:
                writes.append(write(vote, REJECTED, reason="duplicate_voter"))
        return writes
    if limit == "changeable":
        standing = stored["vote_id"] if stored else None
        fresh = [v for v in ordered if v.id != standing]
        winner = fresh[-1] if fresh else None
        if winner is not None and stored and order_key(winner) < (stored["queued_at"], standing):
            winner = None  # everything in this batch is older than the standing vote
        writes = []
        for vote in ordered:
            if vote.id == standing:
                writes.append(write(vote, COUNTED))  # a redelivery of the standing vote
            elif vote is winner:
                writes.append(
                    write(vote, COUNTED, ballot=ballot_of(vote), expect_vote_id=standing,
                          replaces=stored)
                )  # fmt: skip
            else:
                writes.append(write(vote, REPLACED, reason="changed_by_voter"))
        return writes
    # unlimited: every vote counts; the ballot only remembers that the voter voted.
    latest = ordered[-1]
    return [
        write(v, COUNTED, ballot=ballot_of(v) if v is latest else None, expect_vote_id=ANY_BALLOT)
        for v in ordered
    ]
