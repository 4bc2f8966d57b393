"""Join code -> event id, cached per process, misses included (briefly).

A code names one event for the event's whole life (a deleted event's code then
names nothing: its event read says so), so code -> id is kept long. A code that
names no event is kept as such MISS_SECONDS: a burst of guesses of one code
costs one read (the web layer limits how many codes an address may miss). An
event made in this process is found at once (`remember` forgets its miss).
"""

from __future__ import annotations

from core.aws.events import EventStore
from core.services.cache import TTLCache

HIT_SECONDS = 60.0
MISS_SECONDS = 5.0


class EventCodes:
    """The events table's join codes, read through two per-process caches."""

    def __init__(self, store: EventStore):
        self.store = store
        self._ids = TTLCache(HIT_SECONDS)
        self._misses = TTLCache(MISS_SECONDS)

    def event_id(self, code: str) -> str | None:
        """The id of the event holding `code` (normalized), or None."""
        if self._misses.get_or_load(code, lambda: False):
            return None
        event_id = self._ids.find(code, lambda: self.store.event_id_for(code))
        if event_id is None:
            self._misses.put(code, True)
        return event_id

    def remember(self, code: str, event_id: str) -> None:
        self._ids.put(code, event_id)
        self._misses.forget(code)

    def forget(self, code: str) -> None:
        self._ids.forget(code)
