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
from core.rules.tally_slots import is_answer_slot, parse_slot
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
