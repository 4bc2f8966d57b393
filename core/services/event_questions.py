"""What a presenter does to an event's list of questions besides showing them: add,
move, remove or duplicate a question, reset its results (rehearsals, mistakes), or
delete it with its votes.

The rules of the results themselves are the topics service's (reset, delete);
this module finds the question's topic and keeps the event's list of
questions in step, each change one write of the event (Events.change).
"""

from __future__ import annotations

from core.rules.errors import BadPosition, NoCurrentQuestion, TopicNotFound
from core.rules.events import (
    LOBBY,
    MAX_QUESTIONS,
    ResultsShown,
    check_index,
    current,
    new_question,
)
from core.schemas.topics import TopicIn
from core.services.events import WAITING, Events


class EventQuestions:
    """Add, move, remove, duplicate, reset and delete questions, over the events and
    topics services."""

    def __init__(self, events: Events):
        self.events = events
        self.topics = events.topics

    def add_question(
        self,
        event_id: str,
        topic_id: str | None = None,
        topic: TopicIn | None = None,
        results: ResultsShown = "hidden",
    ) -> dict:
        """Append an existing topic, or a new one made from `topic`: either waits, closed
        and unlisted."""
        held = results == "hidden"
        if topic is not None:
            topic_id = self.topics.create(topic.model_copy(update=WAITING), held=held)["id"]
        else:
            self.topics.hold_for_event(topic_id, held=held)

        def append(event):
            if len(event["questions"]) >= MAX_QUESTIONS:
                raise BadPosition(f"an event holds at most {MAX_QUESTIONS} questions")
            event["questions"].append(new_question(topic_id, results))

        return self.events.change(event_id, append)

    def move_question(self, event_id: str, index: int, to: int) -> dict:
        """Move question `index` to `to`; the room stays on the question it was on."""

        def move(event):
            questions = event["questions"]
            check_index(questions, index)
            check_index(questions, to)
            on = questions[event["position"]] if event["position"] != LOBBY else None
            questions.insert(to, questions.pop(index))
            if on is not None:
                event["position"] = questions.index(on)

        return self.events.change(event_id, move)

    def remove_question(self, event_id: str, index: int) -> dict:
        """Take question `index` out of the event (its topic and votes stay; its results
        are no longer held back, in the same transaction); the lobby if it was current."""
        event = self.events.event(event_id, fresh=True)
        check_index(event["questions"], index)
        topics = self.events.topics_held_back(event["questions"][index]["topic_id"], False)

        def remove(event):
            check_index(event["questions"], index)
            event["questions"].pop(index)
            if event["position"] == index:
                event["position"] = LOBBY
            elif event["position"] > index:
                event["position"] -= 1

        return self.events.change(event_id, remove, seen=event, topics=topics)

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
        event = self.remove_question(event_id, index)
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
