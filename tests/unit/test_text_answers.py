"""Open text answers against look-alikes (core/rules/text_answers.py): one moderation key for
the block lists, the presenter's hiding and grouping; what intake refuses; how a group is
shown. Pure rules, no server."""

from __future__ import annotations

import pytest

from core.rules.errors import AnswerInvalid
from core.rules.question_types import check_answer
from core.rules.results import shown_answer, text_results
from core.rules.text_answers import (
    MAX_TEXT_LENGTH,
    answer_refusal,
    is_blocked,
    moderation_key,
    typed_answer,
)
from core.rules.topics import with_defaults

ZWSP, SOFT_HYPHEN, ZWJ, RLO = "\u200b", "\u00ad", "\u200d", "\u202e"
CYRILLIC_A, CYRILLIC_O, CYRILLIC_VE = "\u0430", "\u043e", "\u0412"


def spellings_of(word: str) -> list[str]:
    """The look-alikes an audience typed to get `word` past a list or a hide."""
    half = len(word) // 2
    return [
        word,
        word.upper(),
        word.capitalize() + "!",
        f"{word[:half]}{ZWSP}{word[half:]}",  # zero-width space
        f"{word[:half]}{SOFT_HYPHEN}{word[half:]}",  # soft hyphen
        f"{word[:half]}{ZWJ}{word[half:]}",  # zero-width joiner
        word + ZWSP,
        "".join(chr(ord(c) + 0xFEE0) for c in word),  # fullwidth
        ".".join(word),  # b.a.d.w.o.r.d
        "-".join(word),
        " ".join(word),  # spelled out
        word.replace("a", CYRILLIC_A).replace("o", CYRILLIC_O),  # Cyrillic а, о
        "".join(c + "\u0301" for c in word),  # an accent on every letter
        f'"{word}"',
        f"«{word}»",
    ]


@pytest.mark.parametrize("typed", spellings_of("badword"))
def test_every_look_alike_of_a_blocked_word_is_blocked(typed):
    assert typed_answer(typed) != "badword" or typed == "badword"
    assert moderation_key(typed) == "badword", typed
    assert is_blocked(typed, ["badword"]), typed
    assert is_blocked(f"so {typed} today", ["badword"]), typed  # as a word of an answer
    topic = with_defaults({"type": "text", "choices": [], "blocked_answers": ["badword"]})
    with pytest.raises(AnswerInvalid) as refused:
        check_answer(topic, {"text": typed})
    assert refused.value.field == "text" and "not accepted" in refused.value.message


def test_capitals_of_other_scripts_drawn_as_latin_ones_are_those_capitals():
    assert moderation_key(f"{CYRILLIC_VE}ADWORD") == "badword"  # Cyrillic В
    assert moderation_key("\u0392ADWORD") == "badword"  # Greek Β
    assert is_blocked(f"{CYRILLIC_VE}ADWORD", ["badword"])


@pytest.mark.parametrize("typed", spellings_of("boring"))
def test_every_look_alike_of_a_hidden_answer_stays_hidden(typed):
    topic = with_defaults({"type": "text", "choices": [], "hidden_answers": ["boring"]})
    assert not shown_answer(topic)(f"text:{moderation_key(typed)}"), typed
    counts = {f"text:{moderation_key(typed)}": 3, "text:great": 1, ":voters": 4}
    assert [a["text"] for a in text_results(topic, counts)["answers"]] == ["great"]


def test_the_shipped_lists_catch_look_alikes_in_every_language():
    for typed in ("ｆｕｃｋ", f"sh{ZWSP}it", "m.e.r.d.e", "Schei\u00dfe", "SCHEISSE", "mi-er-da"):
        assert is_blocked(typed), typed
    assert not is_blocked("dickens") and not is_blocked("assistant")  # whole words only


@pytest.mark.parametrize(
    "typed, why",
    [
        ("bad\x00word", "control characters"),  # NUL
        ("ding\x07", "control characters"),  # BEL
        ("a\x1bb", "control characters"),  # ESC
        (f"{RLO}drowdab", "direction"),  # drawn backwards: "badword"
        ("\u202aabc\u202c", "direction"),  # an embedding
        ("\u2067abc\u2069", "direction"),  # an isolate
        ("a" + "\u0301" * 59, "marks on one letter"),  # spills over the rows around it
        ("a" + "\u0333" * 5, "marks on one letter"),  # five that compose with nothing
        (ZWSP, "a letter, a digit or a sign"),  # nothing that shows
        (f"{SOFT_HYPHEN}{ZWJ}\u3164", "a letter, a digit or a sign"),
        ("x" * (MAX_TEXT_LENGTH + 1), f"1 to {MAX_TEXT_LENGTH}"),
    ],
)
def test_hostile_answers_are_refused_naming_the_reason(typed, why):
    assert why in answer_refusal(typed_answer(typed))
    with pytest.raises(AnswerInvalid) as refused:
        check_answer(with_defaults({"type": "text", "choices": []}), {"text": typed})
    assert refused.value.field == "text" and why in refused.value.message


def test_whitespace_is_collapsed_not_refused_and_marks_scripts_need_are_kept():
    topic = with_defaults({"type": "text", "choices": []})
    assert check_answer(topic, {"text": " tab\there\nnew line "}) == {"text": "tab here new line"}
    kept = ("Tiếng Việt", "ที่นี่", "שָׁלוֹם", "مُحَمَّد", "👩\u200d👩\u200d👧", "C#", "C++", "?")
    for typed in kept:
        assert answer_refusal(typed_answer(typed)) is None, typed


def test_the_length_limit_counts_what_the_voter_typed():
    # 31 "ß" are 31 characters typed, 62 once case folded: the form's counter allows them.
    topic = with_defaults({"type": "text", "choices": []})
    assert check_answer(topic, {"text": "ß" * 31}) == {"text": "ß" * 31}
    assert check_answer(topic, {"text": "ß" * MAX_TEXT_LENGTH})
    # NFC: an accent typed apart from its letter is one character.
    assert check_answer(topic, {"text": "e\u0301" * MAX_TEXT_LENGTH}) == {
        "text": "\u00e9" * MAX_TEXT_LENGTH
    }


def test_answers_are_kept_and_shown_as_typed():
    topic = with_defaults({"type": "text", "choices": []})
    assert check_answer(topic, {"text": "Straße"}) == {"text": "Straße"}
    assert moderation_key("Straße") == moderation_key("STRASSE") == "strasse"


def test_a_group_is_shown_in_its_spelling_given_most_ties_to_the_first():
    topic = with_defaults({"type": "text", "choices": []})
    key = moderation_key("Straße")
    counts = {f"text:{key}": 6, f"spelt:{key}\x1fstrasse": 1, f"spelt:{key}\x1fStraße": 3,
              f"spelt:{key}\x1fSTRASSE": 2, ":voters": 6}  # fmt: skip
    assert text_results(topic, counts)["answers"] == [{"text": "Straße", "count": 6, "cloud": True}]
    tie = {"text:nice": 2, "spelt:nice\x1fnice": 1, "spelt:nice\x1fNice": 1, ":voters": 2}
    assert text_results(topic, tie)["answers"][0]["text"] == "Nice"  # "N" < "n": stable
    plain = {"text:nice": 2, "spelt:nice\x1fNice!": 1, "spelt:nice\x1fnice": 1}
    assert text_results(topic, plain)["answers"][0]["text"] == "nice"  # ties: the shortest
    gone = {**tie, "spelt:nice\x1fNice": 0}  # a spelling whose votes moved away
    assert text_results(topic, gone)["answers"][0]["text"] == "nice"
    # Counted before spellings were kept: shown as its counter's text.
    assert text_results(topic, {"text:old answer": 4})["answers"][0]["text"] == "old answer"


def test_the_key_is_a_fixed_point_and_keeps_different_answers_apart():
    for typed in [*spellings_of("badword"), "Straße", "moon", "ΩMEGA", "3.5", "ありがとう", "C#"]:
        key = moderation_key(typed)
        assert moderation_key(key) == key, typed
    apart = [("10", "lo"), ("3.5", "35"), ("C#", "C"), ("C++", "C"), ("cat", "cats")]
    for one, other in apart:
        assert moderation_key(one) != moderation_key(other), (one, other)
    assert moderation_key("Great talk") == moderation_key(" great   TALK ") == "great talk"
