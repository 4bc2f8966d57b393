"""What a page URL names: a valid id, and the topic (as the templates show it) or the
event, else the friendly 404 page."""

from __future__ import annotations

from pydantic import TypeAdapter, ValidationError

from core.rules.clock import utc_now
from core.rules.errors import EventNotFound, TopicNotFound
from core.rules.fields import Id
from core.rules.topics import is_open
from webapp import services

_valid_id = TypeAdapter(Id)


def valid_id(value: str | None) -> str | None:
    """The id if it is one we could have made, else None."""
    try:
        return _valid_id.validate_python(value)
    except ValidationError:
        return None


def shown(topic: dict) -> dict:
    """The topic as the templates show it: with `is_open`, whether it takes votes now (a
    topic past its `closes_at` is closed even while its `is_active` flag is still set)."""
    return {**topic, "is_open": is_open(topic, utc_now())}


def get_topic(topic_id: str, fresh: bool = False) -> dict:
    """The topic as shown, or TopicNotFound (the friendly 404 page), ids that could never
    exist included."""
    if valid_id(topic_id) is None:
        raise TopicNotFound(topic_id)
    return shown(services.topics().get(topic_id, fresh=fresh))


def get_event(event_id: str) -> dict:
    """The event, read fresh, or EventNotFound (the friendly 404 page), ids that could
    never exist included."""
    if valid_id(event_id) is None:
        raise EventNotFound(event_id)
    return services.events().event(event_id, fresh=True)
