"""Question types without a server: answers checked against the topic, the counters a
vote adds, the rules a topic's settings must keep, text normalization and block lists,
the results per type, and how a big batch is cut into transactions of whole votes."""

from __future__ import annotations

import pytest

from core.aws.batch import MAX_TRANSACTION_ITEMS, BatchWriter
from core.aws.codec import from_item, to_item, topic_from_item, topic_item
from core.rules.errors import AnswerInvalid, ChoiceNotInTopic, RulesInvalid
from core.rules.question_types import (
    check_answer,
    check_rules,
    counters,
    rules_of,
    takes_choices,
    votes_counted,
)
from core.rules.results import MOST_GIVEN, results_for
from core.rules.text_answers import (
    blocker,
    is_blocked,
    moderation_key,
    shipped_blocklist,
    typed_answer,
)
from core.rules.topics import with_defaults
from core.rules.votes import VoteMessage, VoteWrite, stored_counts


def topic(kind: str, choices: str = "abc", **settings) -> dict:
    return with_defaults({
        "id": "t", "title": "T", "type": kind,
        "choices": [{"id": c, "description": c.upper()} for c in choices], **settings,
    })  # fmt: skip


def refused(topic_: dict, payload: dict) -> AnswerInvalid:
    with pytest.raises(AnswerInvalid) as caught:
        check_answer(topic_, payload)
    return caught.value


# -- answers -----------------------------------------------------------------------------------


def test_each_type_takes_only_its_own_field_and_names_the_one_it_refuses():
    assert refused(topic("multiple"), {"choice_id": "a"}).field == "choice_id"
    missing = refused(topic("ranking"), {})
    assert missing.field == "ranking" and missing.kind == "missing"
    assert refused(topic("text", ""), {"text": "x", "rating": 3}).field == "rating"
    assert check_answer(topic("single"), {"choice_id": "b"}) == {"choice_id": "b"}
    with pytest.raises(ChoiceNotInTopic):  # as the original answered: 409
        check_answer(topic("single"), {"choice_id": "z"})


def test_multiple_between_min_and_max_each_known_choice_once():
    rules = topic("multiple", "abcd", min_choices=2, max_choices=3)
    assert check_answer(rules, {"choice_ids": ["a", "c"]}) == {"choice_ids": ["a", "c"]}
    assert "between 2 and 3" in refused(rules, {"choice_ids": ["a"]}).message
    assert "between 2 and 3" in refused(rules, {"choice_ids": list("abcd")}).message
    assert "once" in refused(rules, {"choice_ids": ["a", "a"]}).message
    assert "z is not a choice" in refused(rules, {"choice_ids": ["a", "z"]}).message
    # max_choices null: up to every choice.
    assert check_answer(topic("multiple", "abcd"), {"choice_ids": list("dcba")})


def test_ranking_orders_every_choice_or_exactly_the_top_n():
    assert check_answer(topic("ranking"), {"ranking": ["c", "a", "b"]})
    assert "exactly 3" in refused(topic("ranking"), {"ranking": ["c", "a"]}).message
    top2 = topic("ranking", rank_top=2)
    assert check_answer(top2, {"ranking": ["c", "a"]}) == {"ranking": ["c", "a"]}
    assert "exactly 2" in refused(top2, {"ranking": ["c", "a", "b"]}).message


def test_rating_stays_on_the_scale_for_the_question_or_each_choice():
    question = topic("rating", "", scale_min=0, scale_max=10)
    assert check_answer(question, {"rating": 0}) == {"rating": 0}
    assert "from 0 to 10" in refused(question, {"rating": 11}).message
    assert "not one per choice" in refused(question, {"rating": {"a": 3}}).message
    each = topic("rating", rate_each=True)
    assert check_answer(each, {"rating": {"b": 5}}) == {"rating": {"b": 5}}
    assert "from 1 to 5" in refused(each, {"rating": {"a": 0}}).message
    assert "at least one choice" in refused(each, {"rating": {}}).message
    assert "at least one choice" in refused(each, {"rating": 3}).message
    assert "z is not a choice" in refused(each, {"rating": {"z": 3}}).message


def test_text_is_normalized_bounded_and_blocked_by_word_or_phrase():
    question = topic("text", "", blocked_answers=["spoiler", "boring talk"])
    # Queued as typed (one Unicode form, spaces collapsed), not case folded.
    assert check_answer(question, {"text": "  Great\tTALK\n"}) == {"text": "Great TALK"}
    assert refused(question, {"text": "   "}).field == "text"
    assert "1 to 60" in refused(question, {"text": "x" * 61}).message
    assert check_answer(question, {"text": "  " + "x" * 60 + "  "})  # 60 once normalized
    for bad in ("Merde!", "what a SHIT show", "no spoiler please", "Boring   Talk"):
        assert "not accepted" in refused(question, {"text": bad}).message, bad
    assert check_answer(question, {"text": "boring"})  # a phrase blocks only as a whole


def test_shipped_block_lists_cover_every_language_and_are_normalized():
    words = shipped_blocklist()
    for word in ("fuck", "Scheiße", "mierda", "merde", "شرموطة"):
        assert moderation_key(word) in words
    assert all(word == moderation_key(word) and not word.startswith("#") for word in words)
    assert not is_blocked("dickens")  # whole words only
    assert typed_answer("E\u0301TÉ") == "\u00c9T\u00c9"  # one Unicode form, case kept
    assert moderation_key("E\u0301TÉ") == "ete"  # judged without case or accents


def test_a_topic_s_block_test_is_kept_per_list_and_follows_an_edited_list():
    """blocker() keeps one test per list (a results read tests the same answers each
    time); a list edited by the admin is another list, tested afresh."""
    before, after = ["spoiler"], ["spoiler", "boring talk"]
    assert blocker(before) is blocker(tuple(before))  # the same list: the kept test
    assert not blocker(before)("a boring talk") and blocker(before)("big spoiler")
    assert blocker(after)("a boring talk") and blocker(after)("big spoiler")
    assert not blocker(())("big spoiler") and blocker(())("merde!")


# -- rules ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind,choices,settings,field",
    [
        ("single", "a", {}, "choices"),
        ("game", "a", {}, "choices"),
        ("game", "ab", {"vote_limit": "changeable"}, "vote_limit"),
        ("ranking", "abcdefghijklmnopqrstu", {}, "choices"),
        ("ranking", "abc", {"rank_top": 4}, "rank_top"),
        ("multiple", "abc", {"min_choices": 3, "max_choices": 2}, "max_choices"),
        ("multiple", "abc", {"max_choices": 4}, "max_choices"),
        ("rating", "", {"scale_min": 1, "scale_max": 1}, "scale_max"),
        ("rating", "ab", {}, "choices"),
        ("rating", "", {"rate_each": True}, "choices"),
        ("text", "ab", {}, "choices"),
        ("text", "ab", {"rate_each": True}, "choices"),  # left from a rating: not text's
    ],
)
def test_settings_that_do_not_fit_the_type_are_refused_by_name(kind, choices, settings, field):
    with pytest.raises(RulesInvalid) as caught:
        check_rules(topic(kind, choices, **settings))
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("kind", "rate_each", "takes"),
    [("single", None, True), (None, None, True), ("multiple", False, True),
     ("ranking", None, True), ("game", None, True), ("rating", None, False),
     ("rating", False, False), ("rating", True, True), ("text", None, False),
     ("text", True, False)],
)  # fmt: skip
def test_only_open_text_and_a_rating_of_the_question_take_no_choices(kind, rate_each, takes):
    assert takes_choices(kind, rate_each) is takes


def test_rules_name_what_counting_depends_on():
    assert rules_of(topic("single")) == {"type": "single"}
    assert rules_of(topic("ranking", "abcd", rank_top=2)) == {
        "type": "ranking", "choices": 4, "rank_top": 2
    }
    assert rules_of(topic("rating", rate_each=True))["rate_each"] is True


# -- counters ---------------------------------------------------------------------------------


def test_counters_per_type():
    assert counters(None, {"choice_id": "a"}) == {"a": 1}
    assert counters({"type": "multiple"}, {"choice_ids": ["a", "c"]}) == {
        "a": 1, "c": 1, ":voters": 1
    }
    # Borda: the number of choices minus the position; first preference on the choice.
    assert counters({"type": "ranking", "choices": 4}, {"ranking": ["c", "a"]}) == {
        "c": 1, "points:c": 4, "points:a": 3, ":voters": 1
    }
    assert counters({"type": "rating"}, {"rating": 4}) == {"rating:4": 1, ":voters": 1}
    assert counters({"type": "rating"}, {"rating": {"a": 2, "b": 5}}) == {
        "a": 1, "rating:a:2": 1, "b": 1, "rating:b:5": 1, ":voters": 1
    }
    assert counters({"type": "text"}, {"text": "Great talk"}) == {
        "text:great talk": 1, "spelt:great talk\x1fGreat talk": 1, ":voters": 1
    }
    assert counters({"type": "game"}, {"choice_id": "a"}) == {"a": 1, "cast:a": 1}


def test_votes_counted_reads_the_right_counter_per_type():
    assert votes_counted(topic("single"), {"a": 2, "b": 1}) == 3
    assert votes_counted(topic("multiple"), {"a": 2, "b": 2, ":voters": 3}) == 3
    assert votes_counted(topic("game"), {"a": 1, "cast:a": 2, "b": 0, "cast:b": 1}) == 3


def test_a_stored_vote_gives_back_the_counts_it_added():
    assert stored_counts({"choice_id": "a"}) == {"a": 1}  # single, or stored before types
    assert stored_counts({"counts": {"a": 1, ":voters": 1}}) == {"a": 1, ":voters": 1}
    # A text answer's are made again from its text: its group under the key of now.
    assert stored_counts({"text": "X", "counts": {"text:X": 1, ":voters": 1}}) == {
        "text:x": 1, "spelt:x\x1fX": 1, ":voters": 1
    }


# -- results ----------------------------------------------------------------------------------


def test_results_per_type():
    assert results_for(topic("single"), {"a": 1}) is None
    multiple = results_for(topic("multiple", "ab"), {"a": 2, "b": 1, ":voters": 2})
    assert multiple["choices"] == [{"id": "a", "count": 2, "share": 100},
                                   {"id": "b", "count": 1, "share": 50}]  # fmt: skip
    ranking = results_for(topic("ranking", "ab"), {"points:a": 3, "points:b": 3, "a": 1})
    assert ranking["leaders"] == ["a", "b"] and ranking["runoff"] is None
    rating = results_for(topic("rating", ""), {"rating:1": 1, "rating:2": 2, ":voters": 3})
    assert rating["distribution"] == {"1": 1, "2": 2, "3": 0, "4": 0, "5": 0}
    assert rating["mean"] == 1.67
    assert results_for(topic("rating", ""), {})["mean"] is None
    game = results_for(topic("game", "ab"), {"a": 1, "cast:a": 2, "taken:a": 1, "cast:b": 1})
    assert game["cast"] == 3 and game["taken"] == 1
    assert game["choices"][0] == {"id": "a", "standing": 1, "cast": 2, "taken": 1}


def test_text_results_most_first_ties_alphabetical_hidden_and_blocked_left_out():
    question = topic("text", "", hidden_answers=["rude"], blocked_answers=["later"])
    counts = {"text:b": 2, "text:a": 2, "text:c d e f": 3, "text:rude": 9, "text:later": 4,
              "text:gone": 0, ":voters": 20}  # fmt: skip
    shown = results_for(question, counts)
    assert [(a["text"], a["count"], a["cloud"]) for a in shown["answers"]] == [
        ("c d e f", 3, False), ("a", 2, True), ("b", 2, True)
    ]
    admin = results_for(question, counts, admin=True)["answers"]
    assert {"text": "rude", "count": 9, "cloud": True, "hidden": True} in admin


def test_text_results_list_the_most_given_and_say_when_there_are_more():
    question = topic("text", "")
    counts = {f"text:w{i:03}": 1000 - i for i in range(MOST_GIVEN + 1)} | {":voters": 5}
    listed = results_for(question, counts)
    assert [a["text"] for a in listed["answers"]] == [f"w{i:03}" for i in range(MOST_GIVEN)]
    assert listed["more"] is True
    every = results_for(question, counts, most_given=None)  # the CSV export's
    assert len(every["answers"]) == MOST_GIVEN + 1 and every["more"] is False
    del counts[f"text:w{MOST_GIVEN:03}"]
    assert results_for(question, counts)["more"] is False


# -- storage ----------------------------------------------------------------------------------


def test_a_topic_without_choices_stores_no_empty_set():
    item = topic_item(topic("text", ""))
    assert "choice_ids" not in item
    assert topic_from_item(item)["choices"] == []


def test_counts_and_ratings_inside_maps_come_back_as_whole_numbers():
    data = {"counts": {"rating:a:3": 1}, "rating": {"a": 3}, "ranking": ["a"]}
    back = from_item(to_item(data))
    assert back == data and type(back["counts"]["rating:a:3"]) is int


def ranking_write(vote_id: str, topic_id: str, size: int = 10) -> VoteWrite:
    ids = [f"c{i}" for i in range(size)]
    vote = VoteMessage(id=vote_id, topic_id=topic_id, ranking=ids, queued_at="2030",
                       rules={"type": "ranking", "choices": size})  # fmt: skip
    return VoteWrite(vote, "counted", created="2030")


def test_a_big_batch_is_cut_into_transactions_of_whole_votes_in_plan_order():
    writer = BatchWriter(None)
    writes = [ranking_write(f"v{i}", f"t{i}") for i in range(10)]
    parts = writer.parts(writes)
    assert [w for part in parts for w in part] == writes  # every vote once, in order
    assert len(parts) > 1 and parts == writer.parts(writes)  # deterministic
    for part in parts:
        items, owners = writer.transaction(part)
        assert len(items) <= MAX_TRANSACTION_ITEMS
        # Each vote's Put travels with its topic's check and its tally updates.
        topics = {w.vote.topic_id for w in part}
        assert {o[1] for o in owners if isinstance(o, tuple)} <= topics
    assert writer.parts(writes[:1]) == [writes[:1]]


@pytest.mark.parametrize(
    "fields",
    [
        {"choice_id": "a", "rules": {"type": "ranking", "choices": 3}},
        {"ranking": ["a", "b"], "rules": {"type": "ranking"}},
        {"ranking": ["a", "b"], "rules": {"type": "ranking", "choices": 1}},
        {"text": "x", "rules": {"type": "poll"}},
        {"ranking": ["a"]},
        {"choice_id": "a", "text": "x"},
    ],
)
def test_a_message_the_worker_could_not_count_is_refused_as_unparseable(fields):
    # Refused alone at parsing (it goes to the DLQ), never failing its whole batch.
    with pytest.raises(ValueError):
        VoteMessage(id="v", topic_id="t", queued_at="2030", **fields)


def test_a_game_write_keeps_its_counts_and_rival_take_on_the_record():
    vote = VoteMessage(id="v", topic_id="t", choice_id="a", queued_at="2030",
                       rules={"type": "game"})  # fmt: skip
    write = VoteWrite(vote, "counted", created="2030", shard=2)
    assert write.counts == {"a": 1, "cast:a": 1}
    # What the game's planner does when it takes from a rival:
    write.counts |= {"b": -1, "taken:b": 1}
    write.took = {"choice_id": "b", "shard": 2}
    record = write.record
    assert record["counts"] == {"a": 1, "cast:a": 1, "b": -1, "taken:b": 1}
    assert record["took"] == {"choice_id": "b", "shard": 2}
    assert stored_counts(record) == record["counts"]  # recount and delete take these
