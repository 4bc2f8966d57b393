"""The API's response shapes (core/schemas/topics.py): exactly the original's bytes, plus our
fields only where they say something. The JSON answers keep this key order
(webapp sets `app.json.sort_keys = False`), so the tests compare serialised text.
"""

from __future__ import annotations

import json
import re
import sys

import pytest
from pydantic import TypeAdapter, ValidationError

from core.rules.fields import NOT_BLANK, Title
from core.rules.topics import voted_choices_removed
from core.schemas.accounts import EMAIL_PATTERN, HostIn
from core.schemas.topics import TopicOut
from core.schemas.votes import VoteRecord

TOPIC = {
    "id": "t1",
    "created": "2030-01-01T00:00:00.000000",
    "last_upd": "2030-01-02T00:00:00.000000",
    "is_active": True,
    "title": "Tabs?",
    "choices": [{"id": "a", "description": "Tabs"}, {"id": "b", "description": "Spaces"}],
    "vote_limit": "unlimited",
    "closes_at": None,
    "results_visibility": "always",
    "tally_shards": None,
}
HEAD = (
    '{"id": "t1", "created": "2030-01-01T00:00:00.000000", '
    '"last_upd": "2030-01-02T00:00:00.000000", "is_active": true, "title": "Tabs?", '
)
SETTINGS = '"vote_limit": "unlimited", "closes_at": null, "results_visibility": "always"'


def text(body: dict) -> str:
    return json.dumps(body)


def test_without_counts_votes_are_null_and_no_result_field_appears():
    assert text(TopicOut.render(TOPIC)) == (
        HEAD + '"choices": [{"id": "a", "description": "Tabs", "votes": null}, '
        '{"id": "b", "description": "Spaces", "votes": null}], ' + SETTINGS + "}"
    )


def test_with_counts_each_choice_has_its_share_and_count_and_the_topic_its_total():
    assert text(TopicOut.render(TOPIC, {"a": 1, "b": 2})) == (
        HEAD + '"choices": [{"id": "a", "description": "Tabs", "votes": 33, "vote_count": 1}, '
        '{"id": "b", "description": "Spaces", "votes": 67, "vote_count": 2}], '
        + SETTINGS + ', "total_votes": 3}'
    )  # fmt: skip


def test_choices_nobody_voted_for_count_zero():
    body = TopicOut.render(TOPIC, {})
    assert [(c["votes"], c["vote_count"]) for c in body["choices"]] == [(0, 0), (0, 0)]
    assert body["total_votes"] == 0
    # A count for a choice the topic no longer has is not shown, nor totalled.
    assert TopicOut.render(TOPIC, {"gone": 5, "a": 1})["total_votes"] == 1


def test_tally_shards_only_when_the_topic_sets_it():
    body = TopicOut.render({**TOPIC, "tally_shards": 8}, {"a": 1})
    assert list(body) == [
        "id", "created", "last_upd", "is_active", "title", "choices",
        "vote_limit", "closes_at", "results_visibility", "tally_shards", "total_votes",
    ]  # fmt: skip
    assert body["tally_shards"] == 8
    assert "tally_shards" not in TopicOut.render(TOPIC, {"a": 1})


def test_hidden_results_say_so_and_show_no_numbers():
    hidden = TopicOut.render(TOPIC, {"a": 1, "b": 2}, hidden=True)
    assert text(hidden) == (
        HEAD + '"choices": [{"id": "a", "description": "Tabs", "votes": null}, '
        '{"id": "b", "description": "Spaces", "votes": null}], '
        + SETTINGS + ', "results_hidden": true}'
    )  # fmt: skip


def test_a_topic_stored_before_the_settings_existed_shows_their_defaults():
    old = {k: v for k, v in TOPIC.items() if k in ("id", "created", "last_upd", "is_active",
                                                   "title", "choices")}  # fmt: skip
    assert text(TopicOut.render(old)) == text(TopicOut.render(TOPIC))


def test_set_settings_are_shown_as_stored():
    body = TopicOut.render(
        {**TOPIC, "vote_limit": "changeable", "closes_at": "2031-01-01T00:00:00.000000",
         "results_visibility": "after_close"}
    )  # fmt: skip
    assert (body["vote_limit"], body["closes_at"], body["results_visibility"]) == (
        "changeable",
        "2031-01-01T00:00:00.000000",
        "after_close",
    )


RECORD = {
    "id": "v1",
    "topic_id": "t1",
    "choice_id": "a",
    "queued_at": "2030-01-01T00:00:01.000000",
    "created": "2030-01-01T00:00:02.000000",
    "status": "counted",
    "voter_id": "ann",
    "shard": 3,
}


def test_a_vote_record_shows_its_public_fields_only():
    assert text(VoteRecord.render(RECORD)) == (
        '{"id": "v1", "topic_id": "t1", "choice_id": "a", '
        '"created": "2030-01-01T00:00:02.000000", "status": "counted"}'
    )


def test_the_reason_appears_only_when_there_is_one():
    rejected = {**RECORD, "status": "rejected", "reason": "topic_closed"}
    assert list(VoteRecord.render(rejected)) == [
        "id", "topic_id", "choice_id", "created", "status", "reason",
    ]  # fmt: skip
    assert VoteRecord.render(rejected)["reason"] == "topic_closed"
    assert "reason" not in VoteRecord.render({**RECORD, "reason": None})
    assert "reason" not in VoteRecord.render({**RECORD, "reason": ""})


def test_voted_choices_removed_names_only_removed_choices_with_votes():
    old = [{"id": "a", "description": "A"}, {"id": "b", "description": "B"},
           {"id": "c", "description": "C"}]  # fmt: skip
    counts = {"a": 3, "b": 2}
    assert voted_choices_removed(old, old[:1], counts) == [(old[1], 2)]  # c has no votes
    assert voted_choices_removed(old, old, counts) == []
    assert voted_choices_removed(old, [], {}) == []


# -- duplicate choices ------------------------------------------------------


def test_choices_differing_only_in_case_or_spaces_are_refused():
    import pytest
    from pydantic import ValidationError

    from core.schemas.topics import NewTopicIn, TopicIn

    for model in (TopicIn, NewTopicIn):
        for pair in (
            ["Rust", "rust"],
            ["Rust", "  RUST "],
            ["Straße", "STRASSE"],
            ["é", "e\u0301"],
        ):
            body = {"title": "Best?", "choices": [{"description": "Go"}] + [
                {"description": text} for text in pair
            ]}  # fmt: skip
            with pytest.raises(ValidationError) as refused:
                model.model_validate(body)
            (error,) = refused.value.errors()
            assert error["type"] == "duplicate_choice" and error["loc"] == ("choices",)
            # Names the repeat as it was typed (trimmed), and where it is.
            assert error["ctx"] == {"choice": pair[1].strip(), "index": 2}
            assert f"“{pair[1].strip()}” is listed twice" in error["msg"]


def test_choices_that_really_differ_are_kept():
    from core.schemas.topics import TopicIn

    texts = ["Rust", "Rust 2", "Rüst", "rust-lang", "🦀", "🦀🦀"]
    body = {"title": "Best?", "choices": [{"description": t} for t in texts]}
    assert [c.description for c in TopicIn.model_validate(body).choices] == texts


# -- unlisted topics --------------------------------------------------------


def test_listed_appears_only_when_false_so_listed_topics_keep_the_original_bytes():
    listed = TopicOut.render({**TOPIC, "listed": True})
    assert "listed" not in listed
    assert json.dumps(TopicOut.render(TOPIC)) == json.dumps(listed)
    unlisted = TopicOut.render({**TOPIC, "listed": False}, {"a": 1})
    assert unlisted["listed"] is False and list(unlisted)[-1] == "listed"


def test_not_blank_is_what_python_strips_so_the_schema_says_what_the_api_refuses():
    """A title made only of characters str.strip() removes ("\x85", "\x1c", ...) is refused,
    and /openapi.json's pattern refuses exactly those: JSON Schema's whitespace is not
    Python's, so minLength alone would let Schemathesis send them as valid."""
    spaces = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    assert all(re.search(NOT_BLANK, c) is None for c in spaces)
    assert all(re.search(NOT_BLANK, c) for c in ("a", "\x1b", "\u200b", "\u00ad", "0", "é"))
    for blank in ("\x85", "\x1c \u3000", "\t\n"):
        with pytest.raises(ValidationError):
            TypeAdapter(Title).validate_python(blank)
    assert TypeAdapter(Title).json_schema()["pattern"] == NOT_BLANK


def test_an_email_s_pattern_reads_whitespace_as_python_does_so_the_schema_agrees():
    """The email pattern names its whitespace (no `\\s`, which ECMA and Python read apart):
    an address with any character str.isspace() calls space is refused by the API and by
    the pattern /openapi.json states alike (a domain ending in "\\x85" was schema-valid)."""
    assert "\\s" not in EMAIL_PATTERN
    assert re.fullmatch(EMAIL_PATTERN, "ada@example.org")
    for space in (chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()):
        for address in (f"ada@example.org{space}", f"ada@ex{space}ample.org", f"a{space}da@x.org"):
            assert re.fullmatch(EMAIL_PATTERN, address) is None, repr(address)
    with pytest.raises(ValidationError):
        HostIn.model_validate({"email": "ada@example.\x85"})
