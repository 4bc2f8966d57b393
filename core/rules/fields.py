"""The building blocks of every shape: ids, texts, whole numbers, ratings.

Shared by the API's models (core/schemas/) and the queued vote (core/rules/votes.py).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field, StringConstraints

from core.rules.text_answers import MAX_TEXT_LENGTH

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
BlockedAnswer = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT_LENGTH)
]
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
