"""Join codes: an alphabet without look-alikes, and what a person types read case-insensitively."""

from __future__ import annotations

import random

import pytest

from core.rules.join_codes import ALPHABET, CODE_LENGTH, new_code, normalized


def test_alphabet_has_no_look_alikes():
    for confusable in "0O1IL":
        assert confusable not in ALPHABET
        assert confusable.lower() not in ALPHABET


def test_alphabet_is_digits_and_upper_case_letters_each_once():
    assert len(set(ALPHABET)) == len(ALPHABET) == 31
    assert all(c.isdigit() or c.isupper() for c in ALPHABET)


def test_new_codes_use_only_the_alphabet():
    for _ in range(500):
        code = new_code()
        assert len(code) == CODE_LENGTH
        assert set(code) <= set(ALPHABET)


def test_new_codes_draw_every_character():
    rng = random.Random(7)
    drawn = set("".join(new_code(rng.choice) for _ in range(200)))
    assert drawn == set(ALPHABET)


@pytest.mark.parametrize(
    "typed", ["AB3DEF", "ab3def", "Ab3dEf", " ab3 def ", "ab3-def", "AB3_DEF", "ab.3d.ef"]
)
def test_typed_codes_are_read_case_insensitively_without_separators(typed):
    assert normalized(typed) == "AB3DEF"


@pytest.mark.parametrize(
    "typed",
    [None, "", "AB3DE", "AB3DEFG", "AB0DEF", "ABODEF", "AB1DEF", "ABIDEF", "ABLDEF",
     "AB3DE!", "ÄB3DEF", "a" * 100],
)  # fmt: skip
def test_what_cannot_be_a_code_is_none(typed):
    assert normalized(typed) is None
