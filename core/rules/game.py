"""The game (a topic of type `game`): each vote adds one to its choice and takes one from a
rival, picked at random in proportion to the rivals' standing votes (none when no rival
has any). The original service's later rule ("cast vote using game logic"), made exact.

Pure planning: the worker reads each game topic's standings (one consistent Query of its
tallies) and `plan_takes` simulates the batch's game votes one by one, in queue order, on
those counts as they evolve, so two votes of one batch never take the same rival vote.
Each take is a counter delta of its vote ({rival: -1, "taken:<rival>": +1}) with the
rival's tally shard (`took`); the batch transaction (aws/batch.py) conditions the rival's
slot on still holding what the batch takes from it, so no slot goes below zero, and a
failed condition (the tallies moved) makes the worker read and plan again. The vote's
record keeps `took`, so recount rebuilds standing = cast - taken from the records alone.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable

from core.rules.policy import order_key
from core.rules.question_types import counters
from core.rules.tally_slots import parse_slot

GAME = "game"
TAKEN = "taken:"

# (choice_id, shard) -> votes in that tally slot
Standings = dict[tuple[str, int], int]


def is_game(write) -> bool:
    """A counted vote of a game topic (its rules, stamped at intake, say so)."""
    return write.counted and (write.vote.rules or {}).get("type") == GAME


def standing_keys(writes: Iterable) -> set[tuple[str, int]]:
    """(topic_id, generation) of every game topic with a counted vote in the plan: the
    tallies the worker reads before `plan_takes`."""
    return {(w.vote.topic_id, w.vote.generation) for w in writes if is_game(w)}


def standings_of(slot_counts: dict[str, int]) -> Standings:
    """The standing votes in a game topic's tallies ({"<counter>#<shard>": count}, as
    Store.get_slot_counts reads them): the choices' own slots. Counters with a ":"
    (cast:, taken:) are the record of the game, not its standing."""
    parsed = (parse_slot(key) + (n,) for key, n in slot_counts.items())
    return {(counter, shard): n for counter, shard, n in parsed if ":" not in counter}


def take_counts(took: dict) -> dict[str, int]:
    """The counter deltas of one take: the rival's standing vote goes, its `taken` grows."""
    return {took["choice_id"]: -1, f"{TAKEN}{took['choice_id']}": 1}


def shard_of(write, counter: str, delta: int) -> int:
    """The tally shard a counted vote's delta goes to: its batch's shard, except the take,
    which comes off the rival's slot that holds the votes (write.took)."""
    took = getattr(write, "took", None)
    if took and delta < 0 and counter == took["choice_id"]:
        return took["shard"]
    return write.shard


def pick_rival(
    standings: Standings, choice_id: str, choose: Callable[[int], int] = random.randrange
) -> dict | None:
    """A rival slot {"choice_id", "shard"} picked with probability proportional to its
    votes among the other choices' slots, or None when no rival has a vote.

    `choose(n)` returns an int in [0, n) (random.randrange; tests pass a seeded one).
    Slots are walked in sorted order, so a seeded `choose` makes the pick repeatable.
    """
    slots = sorted((key, n) for key, n in standings.items() if key[0] != choice_id and n > 0)
    total = sum(n for _, n in slots)
    if total == 0:
        return None
    point = choose(total)
    for (rival, shard), n in slots:
        if point < n:
            return {"choice_id": rival, "shard": shard}
        point -= n
    raise AssertionError("choose(n) must return a number below n")


def plan_takes(
    writes: list,
    standings: dict[tuple[str, int], Standings],
    choose: Callable[[int], int] = random.randrange,
) -> None:
    """Give each counted game vote of a planned batch its rival take, in place.

    `standings` are {(topic_id, generation): Standings} as read before this plan. Votes
    are taken in queue order (policy.order_key); each picks its rival on the counts as
    the batch's earlier votes left them, then adds its own vote to its slot. A vote
    without a take (no rival had a vote) adds only its own counters.
    """
    evolving = {key: dict(slots) for key, slots in standings.items()}
    for write in sorted((w for w in writes if is_game(w)), key=lambda w: order_key(w.vote)):
        vote = write.vote
        counts = evolving.setdefault((vote.topic_id, vote.generation), {})
        write.counts = counters(vote.rules, vote.payload)
        write.took = pick_rival(counts, vote.choice_id, choose)
        own = (vote.choice_id, write.shard)
        counts[own] = counts.get(own, 0) + 1
        if write.took:
            rival = (write.took["choice_id"], write.took["shard"])
            counts[rival] -= 1
            write.counts |= take_counts(write.took)
