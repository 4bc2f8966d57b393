"""What a presenter does to one question of an event besides showing it: duplicate it,
reset its results (rehearsals, mistakes), or delete it with its votes.

The rules of the results themselves are the topics service's (reset, delete);
this module finds the question's topic and keeps the event's list of
questions in step.
"""

from __future__ import annotations

from core.rules.errors import BadPosition, NoCurrentQuestion, TopicNotFound
from core.rules.events import MAX_QUESTIONS, check_index, current, new_question
from core.schemas.topics import TopicIn
from core.services.events import WAITING, Events


class EventQuestions:
    """Duplicate, reset and delete questions, over the events and topics services."""

    def __init__(self, events: Events):
        self.events = events
        self.topics = events.topics

    def duplicate(self, event_id: str, index: int) -> dict:
        """A copy of question `index` right after it: a new topic with the same content,
        waiting (closed, unlisted) and without votes, its results hidden or shown as the
        original's."""
        event = self.events.event(event_id, fresh=True)
        check_index(event["questions"], index)
        source = event["questions"][index]
        topic = self.topics.get(source["topic_id"], fresh=True)
        data = TopicIn.model_validate({**topic, **WAITING})
        copy = self.topics.create(data, held=source["results"] == "hidden")

        def insert(event):
            if len(event["questions"]) >= MAX_QUESTIONS:
                raise BadPosition(f"an event holds at most {MAX_QUESTIONS} questions")
            event["questions"].insert(index + 1, new_question(copy["id"], source["results"]))
            if event["position"] > index:
                event["position"] += 1  # the room stays on the question it was on

        return self.events.change(event_id, insert, seen=event)

    def reset(self, event_id: str, index: int | None = None) -> tuple[dict, dict]:
        """Empty the results of question `index` (the current one if None).

        The question keeps its place and state; votes still queued for it are
        rejected (`reset`), never counted. Returns the event and what went
        (schemas.TopicCleared).
        """
        event = self.events.event(event_id, fresh=True)
        topic_id = self._at(event, index)["topic_id"]
        return event, self.topics.reset(topic_id)

    def delete(self, event_id: str, index: int) -> tuple[dict, dict]:
        """Take question `index` out of the event and delete its topic with its votes.

        Out of the event first: if the deletion then fails, no question points at
        a half-deleted topic, and DELETE /topics/{id} finishes it.
        """
        event = self.events.event(event_id, fresh=True)
        topic_id = self._at(event, index)["topic_id"]
        event = self.events.remove_question(event_id, index)
        try:
            return event, self.topics.delete(topic_id)
        except TopicNotFound:  # deleted already: nothing went with it now
            return event, {"id": topic_id, "counted": 0, "votes": 0, "ballots": 0, "tallies": 0}

    def _at(self, event: dict, index: int | None) -> dict:
        """Question `index` of the event, or the current one when None."""
        if index is None:
            question = current(event)
            if question is None:
                raise NoCurrentQuestion(event["id"])
            return question
        check_index(event["questions"], index)
        return event["questions"][index]
