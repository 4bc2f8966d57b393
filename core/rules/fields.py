"""The building blocks of every shape: ids, texts, whole numbers, ratings.

Shared by the API's models (core/schemas/) and the queued vote (core/rules/votes.py).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field, StringConstraints

from core.rules.text_answers import MAX_TEXT_LENGTH

# A text that is not blank: one character at least that Python's str.strip() keeps. Said as
# a pattern both JSON Schema (ECMA) and Python read alike, so /openapi.json states exactly
# what the API refuses: their own notions of whitespace differ ("\x85", "\x1c"...).
# WHITESPACE is that class's inside, for other patterns that must agree the same way.
WHITESPACE = r"\t-\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK = rf"[^{WHITESPACE}]"


def _text(most: int):
    """A text trimmed of surrounding whitespace, 1 to `most` characters, not blank."""
    return Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=most, pattern=NOT_BLANK),
    ]


Title = _text(300)
Description = _text(200)
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
BlockedAnswer = _text(MAX_TEXT_LENGTH)
VoterId = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@-]+$")
]


def _a_json_number(value):
    # JSON Schema's "integer" takes 6 and 6.0 alike, and so does pydantic; but
    # pydantic would also read `true` as 1 and "6" as 6: a client's bug (a 422).
    if isinstance(value, bool | str):
        raise ValueError("a whole number, not true/false or text")
    return value


def whole_number(**bounds):
    """A whole number as JSON Schema means it: 6 or 6.0, never true/false or "6".

    The bounds come before the validator, so the schema states them as minimum/maximum.
    """
    return Annotated[int, Field(**bounds), BeforeValidator(_a_json_number)]


Rating = whole_number(ge=0, le=10)
