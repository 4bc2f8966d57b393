"""Schemathesis hooks for tests/system/test_schemathesis.py (loaded via SCHEMATHESIS_HOOKS).

Two rules of a topic body cannot be stated in JSON Schema, so Schemathesis
would count their 422 as a schema-valid request refused; such cases are left
out here, and only those: every check still runs on every other case.
- A new topic's `closes_at` must be ahead: it depends on the clock (a past one
  is a 422, issue 15 #6, tested in tests/integration/test_hostile_input.py).
- Choices must differ by more than case and surrounding spaces (issue 14 #10,
  tested in tests/integration/test_api.py): `uniqueItems` compares exactly.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

import schemathesis


def _repeats_a_choice(topic) -> bool:
    """Does this topic body list one choice twice, as the API compares them?"""
    choices = topic.get("choices") if isinstance(topic, dict) else None
    if not isinstance(choices, list):
        return False
    texts = [c.get("description") for c in choices if isinstance(c, dict)]
    # core/topics.py same_choice_key's rule (this hook runs in Schemathesis' process).
    strings = [t for t in texts if isinstance(t, str)]
    folded = [unicodedata.normalize("NFC", t.strip()).casefold() for t in strings]
    return len(folded) != len(set(folded))


@schemathesis.hook
def filter_case(context, case) -> bool:
    if not isinstance(case.body, dict):
        return True
    if _repeats_a_choice(case.body) or _repeats_a_choice(case.body.get("topic")):
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
