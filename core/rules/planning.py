"""Batch planning: how a received batch of votes becomes writes for one transaction.

Pure functions: the worker loop (worker.py) feeds them what it knows (the
votes, topics learned from failed checks, the stored ballots) and hands the
plan to the batch writer (aws/batch.py). Nothing here does I/O.
"""

from __future__ import annotations

import random

from core.rules.formats.quiz import periods_of, plan_scores
from core.rules.formats.quiz import refusal as quiz_refusal
from core.rules.policy import plan_voter
from core.rules.question_types import choice_ids_of
from core.rules.topics import UNLIMITED, generation_of, refusal_reason
from core.rules.votes import COUNTED, REJECTED, VoteMessage, VoteWrite


def pick_shards(votes: list[VoteMessage], default: int, choose=random.randrange) -> dict:
    """One random shard per topic for this batch: spreads a hot topic's tally writes.

    Out of the topic's own tally_shards (stamped at intake), else `default`.
    """
    shards: dict[str, int] = {}
    for vote in votes:
        if vote.topic_id not in shards:
            shards[vote.topic_id] = choose(max(1, vote.tally_shards or default))
    return shards


def policy_of(vote: VoteMessage, topics: dict[str, dict]) -> str:
    """The topic's vote_limit: as learned this batch, else as stamped at intake."""
    topic = topics.get(vote.topic_id)
    return topic["vote_limit"] if topic else vote.vote_limit


def generations_of(votes: list[VoteMessage], topics: dict[str, dict]) -> dict[str, int]:
    """The generation each topic is assumed to be at: as learned this batch, else the
    newest stamped into its votes (generations only grow, so an older one is stale)."""
    generations: dict[str, int] = {}
    for vote in votes:
        topic = topics.get(vote.topic_id)
        seen = generation_of(topic) if topic else vote.generation
        generations[vote.topic_id] = max(generations.get(vote.topic_id, 0), seen)
    return generations


def voter_keys(votes: list[VoteMessage], topics: dict[str, dict]) -> list[tuple[str, str]]:
    """(topic_id, voter_id) of the ballots a plan must read: voters on topics that limit them."""
    return [
        (v.topic_id, v.voter_id) for v in votes if v.voter_id and policy_of(v, topics) != UNLIMITED
    ]


def plan_batch(
    votes: list[VoteMessage], topics: dict[str, dict], ballots: dict, shards: dict[str, int]
) -> list[VoteWrite]:
    """Turn a batch of votes into writes: who counts, who is refused, which ballots move.

    `topics` holds only topics whose check failed earlier in this batch (the
    happy path never reads a topic: the transaction's condition is the check).
    A vote queued before its topic's last reset is rejected (`reset`); a stored
    ballot of an older generation is a leftover of a reset and holds nothing.
    Each counted write's `counts` (its tally deltas, question_types.counters) are
    what the batch adds; a game's rival take is added to them after this plan. A quiz
    answer queued after its time limit is rejected (`too_late`); a counted one gets its
    `score` (quiz.plan_scores), in the open period the batch assumes for its topic.
    """
    # One assumed policy and generation per topic, so the transaction checks one
    # value of each per topic.
    policies: dict[str, str] = {}
    for vote in votes:
        policies.setdefault(vote.topic_id, policy_of(vote, topics))
    generations = generations_of(votes, topics)
    periods = periods_of(votes, topics)
    writes, voters = [], {}
    for vote in votes:
        policy, shard = policies[vote.topic_id], shards[vote.topic_id]
        topic = topics.get(vote.topic_id)
        if topic:
            named = choice_ids_of(vote.payload)
            reason = refusal_reason(topic, named, vote.queued_at, vote.generation)
        else:
            reason = "reset" if vote.generation != generations[vote.topic_id] else None
        reason = reason or quiz_refusal(vote, periods)
        if reason is None and policy != UNLIMITED and not vote.voter_id:
            reason = "voter_required"
        if reason:
            writes.append(VoteWrite(vote, REJECTED, reason, shard=shard, policy=policy))
        elif vote.voter_id:
            voters.setdefault((vote.topic_id, vote.voter_id), []).append(vote)
        else:
            writes.append(VoteWrite(vote, COUNTED, shard=shard, policy=policy))
    for (topic_id, voter_id), group in voters.items():
        stored = ballots.get((topic_id, voter_id))
        if stored and stored.get("generation", 0) != generations[topic_id]:
            stored = None
        writes.extend(plan_voter(group, policies[topic_id], stored, shards[topic_id]))
    plan_scores(writes, periods)
    return writes
