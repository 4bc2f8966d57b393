"""DynamoDB's typed attributes <-> plain values, tally slot keys, and listing cursors.

Pure functions, no client: the adapters and the snapshot/export tools share them.
"""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from ..question_types import TEXT_COUNTER
from ..topics import Topic, with_defaults
from .errors import BadCursor

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(data: dict) -> dict:
    """Plain values -> typed attributes; None values are left out (DynamoDB has no "unset")."""
    return {k: _serializer.serialize(v) for k, v in data.items() if v is not None}


def from_item(item: dict) -> dict:
    return {k: _plain(_deserializer.deserialize(v)) for k, v in item.items()}


def _plain(value):
    """Numbers come back as Decimal, inside maps and lists too (a vote's counts, a
    rating per choice); every number we store is whole."""
    if isinstance(value, Decimal):
        return int(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def topic_item(topic: dict) -> dict:
    """A topic as its topics item (PK id): plus `choice_ids`, a string set that write
    conditions test membership in."""
    # A set may not be empty in DynamoDB: a topic without choices (text) has none.
    return to_item({**topic, "choice_ids": {c["id"] for c in topic["choices"]} or None})


def topic_from_item(item: dict) -> Topic:
    """A topics item as the topic the app works with: no `choice_ids`, every default filled."""
    topic = from_item(item)
    topic.pop("choice_ids", None)
    return with_defaults(topic)


def tally_key(topic_id: str, generation: int = 0) -> str:
    """The tallies PK of one generation of a topic's results: the topic id, and after
    the n-th reset "<topic_id>#<n>" (ids never contain "#"). A reset starts counting
    under a new key, so the old tallies can be deleted at leisure while new votes
    count, and no write of the old generation can touch the new counts."""
    return f"{topic_id}#{generation}" if generation else topic_id


# Text answers' slots sort after every other counter's ("~" is above the letters,
# digits, ":" and "-" of the others), so the results Query stops before them
# (`slot < ANSWER_SLOTS`) and reads the same few items at any vocabulary; the
# answers are read from the sparse count-sorted index instead (ANSWERS_BY_COUNT).
ANSWER_SLOTS = "~"
# The tallies GSI over text answers only (ddl/tallies.json): PK `answers_of` (the tally
# key, set on answer items alone), SK `count`, so the most given come first.
ANSWERS_BY_COUNT = "answers-by-count"


def slot(counter: str, shard: int) -> str:
    """The tallies sort key of one shard of a counter: "<counter>#<shard>".

    A text answer has one item, "~text:<answer>#0", whatever the vote's shard: the
    count-sorted index then orders answers by their totals. Answers are items of
    their own already, so they do not share one hot item the way a choice would.
    """
    if counter.startswith(TEXT_COUNTER):
        return f"{ANSWER_SLOTS}{counter}#0"
    return f"{counter}#{shard}"


def is_answer_slot(key: str) -> bool:
    """Is this tallies sort key a text answer's (kept in the count-sorted index)?"""
    return key.startswith(ANSWER_SLOTS)


def parse_slot(key: str) -> tuple[str, int]:
    """ "<counter>#<shard>" -> (counter, shard). Choice ids never contain "#"."""
    counter, _, shard = key.removeprefix(ANSWER_SLOTS).rpartition("#")
    return counter, int(shard)


def tally_update(table: str, tallies: str, slot_key: str, count: int, add: bool = True) -> dict:
    """An Update of tallies PK `tallies` SK `slot_key`: ADD `count` (or, `add=False`,
    SET the count to it), plus what every tally item carries: `choice_id`, its counter,
    and for a text answer `answers_of`, its tally key (the count-sorted index's key)."""
    values = {":n": {"N": str(count)}, ":c": {"S": parse_slot(slot_key)[0]}}
    keep = "choice_id = :c"
    if is_answer_slot(slot_key):
        keep += ", answers_of = :a"
        values[":a"] = {"S": tallies}
    return {
        "TableName": table,
        "Key": {"topic_id": {"S": tallies}, "slot": {"S": slot_key}},
        "UpdateExpression": f"ADD #count :n SET {keep}" if add else f"SET #count = :n, {keep}",
        "ExpressionAttributeNames": {"#count": "count"},
        "ExpressionAttributeValues": values,
    }


def choice_totals(slot_counts: dict[str, int]) -> dict[str, int]:
    """{"<choice_id>#<shard>": count} -> {choice_id: count}: a choice's votes over its shards."""
    totals: dict[str, int] = {}
    for key, count in slot_counts.items():
        choice_id = parse_slot(key)[0]
        totals[choice_id] = totals.get(choice_id, 0) + count
    return totals


def encode_cursor(key: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode()


def decode_cursor(cursor: str) -> dict:
    """The key a cursor stands for; BadCursor unless it is one this store could have made."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeError) as exc:
        raise BadCursor("cursor is not valid") from exc
    if not isinstance(key, dict) or not all(
        isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in key.values()
    ):
        raise BadCursor("cursor is not valid")
    return key
