"""DynamoDB's typed items <-> plain values, slot keys and cursors (core/aws/codec.py), and the
one botocore error translator (core/aws/errors.py). Pure: no client, no server."""

from __future__ import annotations

import base64
import json
import uuid
from decimal import Decimal

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from core.aws.codec import (
    decode_cursor,
    encode_cursor,
    from_item,
    to_item,
    topic_from_item,
    topic_item,
)
from core.aws.errors import error_code, translated
from core.rules.errors import AlreadyExists, BadCursor, QueueUnavailable, StoreUnavailable
from core.rules.tally_slots import ANSWER_SLOTS, choice_totals, is_answer_slot, parse_slot, slot
from core.rules.topics import SETTING_DEFAULTS

TOPIC = {
    "id": "t1",
    "created": "2030-01-01T00:00:00.000000",
    "last_upd": "2030-01-01T00:00:00.000000",
    "is_active": True,
    "title": "Tabs or spaces?",
    "choices": [{"id": "a", "description": "Tabs"}, {"id": "b", "description": "Spaces"}],
}


# -- items -------------------------------------------------------------------------------------


def test_to_item_types_each_value_and_leaves_none_out():
    item = to_item({"id": "v1", "count": 3, "flag": False, "tags": {"x", "y"}, "reason": None})
    tags = item.pop("tags")
    assert set(tags) == {"SS"} and sorted(tags["SS"]) == ["x", "y"]
    assert item == {"id": {"S": "v1"}, "count": {"N": "3"}, "flag": {"BOOL": False}}


def test_from_item_gives_back_plain_values_and_whole_numbers_as_int():
    data = {"id": "v1", "count": 3, "flag": True, "tags": {"x", "y"}, "choices": [{"id": "a"}]}
    back = from_item(to_item(data))
    assert back == data
    assert type(back["count"]) is int  # not the Decimal boto3 reads numbers as
    assert not isinstance(from_item({"n": {"N": "7"}})["n"], Decimal)


def test_topic_item_carries_choice_ids_for_write_conditions():
    item = topic_item(TOPIC)
    assert sorted(item["choice_ids"]["SS"]) == ["a", "b"]
    assert from_item(item)["choices"] == TOPIC["choices"]


def test_topic_from_item_drops_choice_ids_and_fills_every_default():
    topic = topic_from_item(topic_item(TOPIC))
    assert "choice_ids" not in topic
    assert topic == {**TOPIC, **SETTING_DEFAULTS}
    # Stored settings win over the defaults.
    stored = topic_from_item(topic_item({**TOPIC, "vote_limit": "changeable", "tally_shards": 8}))
    assert (stored["vote_limit"], stored["tally_shards"]) == ("changeable", 8)
    assert stored["results_visibility"] == SETTING_DEFAULTS["results_visibility"]


# -- tally slots -------------------------------------------------------------------------------


def test_slot_keys_round_trip():
    assert slot("a-b_c", 3) == "a-b_c#3"
    assert parse_slot("a-b_c#3") == ("a-b_c", 3)
    assert parse_slot(slot("c", 0)) == ("c", 0)


def test_text_answers_have_one_slot_each_sorted_after_every_other_counter():
    # Whatever the vote's shard, an answer is one item (the count-sorted index orders
    # answers by total), and "#" in an answer survives the round trip.
    assert slot("text:c# rocks", 5) == "~text:c# rocks#0" and is_answer_slot("~text:x#0")
    assert parse_slot(slot("text:c# rocks", 5)) == ("text:c# rocks", 0)
    # The results Query takes slots below ANSWER_SLOTS: every other kind of counter.
    others = [str(uuid.uuid4()), ":voters", f"points:{uuid.uuid4()}", "rating:10",
              f"rating:{uuid.uuid4()}:0", f"cast:{uuid.uuid4()}", f"taken:{uuid.uuid4()}"]
    for counter in others:
        assert slot(counter, 9) < ANSWER_SLOTS and not is_answer_slot(slot(counter, 9))
    assert all(slot(f"text:{a}", 0) > ANSWER_SLOTS for a in ("a", "~", "été", "0"))


def test_choice_totals_sum_a_choices_shards():
    assert choice_totals({"a#0": 2, "a#3": 5, "b#1": 1, "c#0": 0}) == {"a": 7, "b": 1, "c": 0}
    assert choice_totals({}) == {}


# -- cursors -----------------------------------------------------------------------------------


def test_cursor_round_trip():
    key = {"id": {"S": "v1"}, "topic_id": {"S": "t1"}, "created": {"S": "2030-01-01"}}
    cursor = encode_cursor(key)
    assert cursor.isascii() and "/" not in cursor and "+" not in cursor
    assert decode_cursor(cursor) == key


def _b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage!",
        "====",
        _b64("not json"),
        _b64(json.dumps(["a", "list"])),
        _b64(json.dumps({"id": "plain"})),
        _b64(json.dumps({"id": {"N": "1"}})),
        _b64(json.dumps({"id": {"S": "x", "N": "1"}})),
        _b64(json.dumps({"id": {"S": 5}})),
        base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    ],
)
def test_a_cursor_this_store_did_not_make_is_refused(cursor):
    with pytest.raises(BadCursor):
        decode_cursor(cursor)


# -- the error translator ----------------------------------------------------------------------


def client_error(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": "no"}}, "PutItem")


def test_a_mapped_code_becomes_its_domain_error():
    with pytest.raises(AlreadyExists) as caught:
        with translated(on_code={"ConditionalCheckFailedException": lambda e: AlreadyExists("t")}):
            raise client_error("ConditionalCheckFailedException")
    assert isinstance(caught.value.__cause__, ClientError)


def test_any_other_code_is_unavailable_or_the_class_given():
    with pytest.raises(StoreUnavailable, match="ResourceNotFoundException"):
        with translated(on_code={"ConditionalCheckFailedException": AlreadyExists}):
            raise client_error("ResourceNotFoundException")
    with pytest.raises(QueueUnavailable, match="AccessDenied"):
        with translated(QueueUnavailable):
            raise client_error("AccessDenied")


@pytest.mark.parametrize(
    "error", [EndpointConnectionError(endpoint_url="http://127.0.0.1:9"), NoCredentialsError()]
)
def test_botocore_failures_are_unavailable(error):
    with pytest.raises(StoreUnavailable):
        with translated():
            raise error
    with pytest.raises(QueueUnavailable):
        with translated(QueueUnavailable):
            raise error


def test_other_exceptions_pass_through_and_only_client_errors_have_a_code():
    with pytest.raises(KeyError):
        with translated():
            raise KeyError("not botocore's")
    assert error_code(client_error("Throttled")) == "Throttled"
    assert error_code(ValueError("x")) == ""
