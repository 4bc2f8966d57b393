"""Ids and timestamps, in the original service's formats."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime


def new_id() -> str:
    return str(uuid.uuid4())


def utc_now() -> str:
    """UTC ISO-8601 with microseconds and no offset: the original's format."""
    return iso(datetime.now(UTC))


def iso(moment: datetime) -> str:
    """`moment` in UTC, in the original's format (comparable as text)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")
