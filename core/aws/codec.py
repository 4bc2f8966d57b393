"""DynamoDB's typed attributes <-> plain values, tally updates, and listing cursors.

Pure functions, no client: the adapters and the snapshot/export tools share them.
"""

from __future__ import annotations

import base64
import binascii
import json
from decimal import Decimal

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from core.rules.errors import BadCursor
from core.rules.question_types import SPELLING_COUNTER
from core.rules.tally_slots import COUNT, cell, is_answer_slot, parse_slot, spelling_slot
from core.rules.topics import Topic, with_defaults

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


def tally_update(
    table: str, tallies: str, slot_key: str, count: int | dict[str, int], add: bool = True
) -> dict:
    """An Update of the tally item holding slot `slot_key` (tallies PK `tallies`): ADD
    `count` (or, `add=False`, SET it), plus what every tally item carries: `choice_id`,
    its counter, and for a text answer `answers_of`, its tally key (the count-sorted
    index's key).

    `count` may be {slot: n} of several slots of one item (an answer and its
    spellings, tally_slots.cell): one Update, as a transaction writes an item once.
    The item's own count's attribute is `#count` (value `:n`), its spellings' `#p1`...
    """
    counts = count if isinstance(count, dict) else {slot_key: count}
    # The item's own count first (a caller's condition names it `#count`).
    counts = dict(sorted(counts.items(), key=lambda kv: cell(kv[0])[1] != COUNT))
    item_slot = cell(slot_key)[0]
    values = {":c": {"S": parse_slot(item_slot)[0]}}
    names, changes = {}, []
    for number, (key, n) in enumerate(counts.items()):
        name, value = ("#count", ":n") if number == 0 else (f"#p{number}", f":p{number}")
        names[name] = cell(key)[1]
        values[value] = {"N": str(n)}
        changes.append(f"{name} {value}" if add else f"{name} = {value}")
    keep = "choice_id = :c"
    if is_answer_slot(item_slot):
        keep += ", answers_of = :a"
        values[":a"] = {"S": tallies}
    changed = ", ".join(changes)
    return {
        "TableName": table,
        "Key": {"topic_id": {"S": tallies}, "slot": {"S": item_slot}},
        "UpdateExpression": f"ADD {changed} SET {keep}" if add else f"SET {changed}, {keep}",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def answer_counts(item: dict) -> dict[str, int]:
    """A typed tallies item as {slot: count}: its own, and for a text answer each of its
    spellings' (tally_slots.spelling_slot), read from its attributes."""
    item_slot = item["slot"]["S"]
    counts = {item_slot: int(item["count"]["N"]) if "count" in item else 0}
    for name, value in item.items():
        if name.startswith(SPELLING_COUNTER) and "N" in value:
            counts[spelling_slot(item_slot, name)] = int(value["N"])
    return counts


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
