"""Schemathesis hooks for tests/system/test_schemathesis.py (loaded via SCHEMATHESIS_HOOKS).

Some rules of a topic body cannot be stated in JSON Schema, so Schemathesis
would count their 422 as a schema-valid request refused; such cases are left
out here, and only those: every check still runs on every other case.
- A new topic's `closes_at` must be ahead: it depends on the clock (a past one
  is a 422, tested in tests/integration/test_hostile_input.py).
- Choices must differ by more than case and surrounding spaces (tested in
  tests/integration/test_api.py): `uniqueItems` compares exactly.
- A question's settings against its number of choices: `rank_top`,
  `min_choices` and `max_choices` at most the choices given, min <= max, and a
  new rating topic's choices against `rate_each` left out (false). What JSON
  Schema can say (choices per type, a game's vote_limit) it says; these are
  tested in tests/unit/test_question_types.py and test_question_types_api.py.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import schemathesis

from core.rules.errors import RulesInvalid
from core.rules.question_types import check_rules


def _repeats_a_choice(topic) -> bool:
    """Does this topic body list one choice twice, as the API compares them?"""
    choices = topic.get("choices") if isinstance(topic, dict) else None
    if not isinstance(choices, list):
        return False
    texts = [c.get("description") for c in choices if isinstance(c, dict)]
    # core/rules/topics.py same_choice_key's rule (this hook runs in Schemathesis' process).
    strings = [t for t in texts if isinstance(t, str)]
    folded = [unicodedata.normalize("NFC", t.strip()).casefold() for t in strings]
    return len(folded) != len(set(folded))


_QUESTION_DEFAULTS = {"min_choices": 1, "scale_min": 1, "scale_max": 5}


def _breaks_question_rules(topic) -> bool:
    """Does this topic body break a question rule JSON Schema cannot state (core's check)?"""
    if not isinstance(topic, dict) or not isinstance(topic.get("choices"), list):
        return False
    settings = {k: v for k, v in topic.items() if v is not None}
    try:
        check_rules({**_QUESTION_DEFAULTS, **settings})
    except RulesInvalid:
        return True
    except (TypeError, KeyError, AttributeError):
        return False  # not the shape a topic has: the case tests something else
    return False


@schemathesis.hook
def filter_case(context, case) -> bool:
    if not isinstance(case.body, dict):
        return True
    if _repeats_a_choice(case.body) or _repeats_a_choice(case.body.get("topic")):
        return False
    if _breaks_question_rules(case.body) or _breaks_question_rules(case.body.get("topic")):
        return False
    if (case.method.upper(), case.path) != ("POST", "/topics"):
        return True
    deadline = case.body.get("closes_at")
    try:
        when = datetime.fromisoformat(deadline)
    except (TypeError, ValueError, OverflowError):
        return True  # not a date: the case tests something else
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when > datetime.now(UTC)
