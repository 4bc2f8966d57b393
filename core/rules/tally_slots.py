"""Where a count lives: the tallies' keys of a topic's generation and of a counter's shard.

A topic's results are tally items under one partition key per generation
(`tally_key`), one item per counter and shard (`slot`): the same format for
the worker's writes, the results' reads, the game's standings and recount.
Pure string formats: the store (core/aws) keeps items under them.
"""

from __future__ import annotations

from core.rules.question_types import (
    SPELLING_COUNTER,
    SPELLING_SEPARATOR,
    TEXT_COUNTER,
    spelling_parts,
)


def tally_key(topic_id: str, generation: int = 0) -> str:
    """The tallies PK of one generation of a topic's results: the topic id, and after
    the n-th reset "<topic_id>#<n>" (ids never contain "#"). A reset starts counting
    under a new key, so the old tallies can be deleted at leisure while new votes
    count, and no write of the old generation can touch the new counts."""
    return f"{topic_id}#{generation}" if generation else topic_id


def parse_tally_key(key: str) -> tuple[str, int]:
    """A tallies PK as (topic id, generation): `tally_key` read back."""
    topic_id, _, generation = key.partition("#")
    return topic_id, int(generation) if generation else 0


# Text answers' slots sort after every other counter's ("~" is above the letters,
# digits, ":" and "-" of the others), so the results Query stops before them
# (`slot < ANSWER_SLOTS`) and reads the same few items at any vocabulary; the
# answers are read from a sparse count-sorted index instead (core/aws/tables.py).
ANSWER_SLOTS = "~"


def slot(counter: str, shard: int) -> str:
    """The tallies sort key of one shard of a counter: "<counter>#<shard>".

    A text answer has one item, "~text:<answer>#0", whatever the vote's shard: the
    count-sorted index then orders answers by their totals. Answers are items of
    their own already, so they do not share one hot item the way a choice would.
    """
    if counter.startswith((TEXT_COUNTER, SPELLING_COUNTER)):
        return f"{ANSWER_SLOTS}{counter}#0"
    return f"{counter}#{shard}"


# The one attribute of a tally item holding its counter's count; a spelling's is its own.
COUNT = "count"


def cell(slot_key: str) -> tuple[str, str]:
    """Where a slot's count is stored: (the item's sort key, the attribute).

    A spelling's slot ("~spelt:<key>\x1f<spelling>#0") names no item of its own: its
    count is the attribute "spelt:<spelling>" of its group's item ("~text:<key>#0"), so
    one answer's spellings are read with it and its results read stays one item per
    answer. Every other slot is an item, its count in `count`."""
    parts = spelling_parts(parse_slot(slot_key)[0])
    if parts is None:
        return slot_key, COUNT
    group, spelling = parts
    return slot(group, 0), SPELLING_COUNTER + spelling


def spelling_slot(item_slot: str, attribute: str) -> str:
    """The slot of a spelling stored as `attribute` of the answer item `item_slot`."""
    key = parse_slot(item_slot)[0].removeprefix(TEXT_COUNTER)
    spelling = attribute.removeprefix(SPELLING_COUNTER)
    return slot(f"{SPELLING_COUNTER}{key}{SPELLING_SEPARATOR}{spelling}", 0)


def is_answer_slot(key: str) -> bool:
    """Is this tallies sort key a text answer's (kept in the count-sorted index)?"""
    return key.startswith(ANSWER_SLOTS)


def parse_slot(key: str) -> tuple[str, int]:
    """ "<counter>#<shard>" -> (counter, shard). Choice ids never contain "#"."""
    counter, _, shard = key.removeprefix(ANSWER_SLOTS).rpartition("#")
    return counter, int(shard)


def choice_totals(slot_counts: dict[str, int]) -> dict[str, int]:
    """{"<choice_id>#<shard>": count} -> {choice_id: count}: a choice's votes over its shards."""
    totals: dict[str, int] = {}
    for key, count in slot_counts.items():
        choice_id = parse_slot(key)[0]
        totals[choice_id] = totals.get(choice_id, 0) + count
    return totals
