"""Schemathesis hooks for tests/system/test_schemathesis.py (loaded via SCHEMATHESIS_HOOKS).

One rule of this API depends on the clock, which no JSON schema can state: a new
topic's `closes_at` must be ahead (a past one is a 422, issue 15 #6, tested in
tests/integration/test_hostile_input.py). Schemathesis would count that 422 as a
schema-valid request refused, so such cases are left out here, and only those:
every check still runs on every other case.
"""

from __future__ import annotations

from datetime import UTC, datetime

import schemathesis


@schemathesis.hook
def filter_case(context, case) -> bool:
    if (case.method.upper(), case.path) != ("POST", "/topics") or not isinstance(case.body, dict):
        return True
    deadline = case.body.get("closes_at")
    try:
        when = datetime.fromisoformat(deadline)
    except (TypeError, ValueError, OverflowError):
        return True  # not a date: the case tests something else
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when > datetime.now(UTC)
