"""The events API's shapes as pydantic models: requests validated, responses rendered.

Kept apart from schemas.py (the original service's contract) so that the
topic and vote shapes stay exactly what the original clients know.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator

from core.rules.events import LOBBY, MAX_QUESTIONS, QuestionState, ResultsShown
from core.rules.fields import Id, Title, VoterId, whole_number
from core.rules.formats.qna import QnaMode
from core.rules.formats.quiz import MAX_TEAMS
from core.schemas.quiz import TeamName
from core.schemas.topics import TopicIn, TopicOut

QNA_DOC = (
    'Audience questions: "off", "open" (shown as they arrive) or "moderated" '
    "(shown once the presenter approves)."
)


class _EventRequest(BaseModel):
    # As every request of the API: unknown fields ignored, the admin key may
    # come in the body (and is never kept).
    model_config = ConfigDict(extra="ignore", strict=False)
    api_key: str | None = Field(default=None, exclude=True, repr=False)


class EventIn(_EventRequest):
    """Body of POST /events: a title, and existing topics as its first questions."""

    title: Title
    questions: list[Id] = Field(
        default_factory=list, max_length=MAX_QUESTIONS,
        description="Topic ids, in order; each waits closed and unlisted until reached.",
    )
    results: ResultsShown = Field(
        default="hidden", description="Whether those questions' results start shown."
    )
    qna: QnaMode = Field(default="off", description=QNA_DOC)
    teams: list[TeamName] = Field(
        default_factory=list, max_length=MAX_TEAMS,
        description="A quiz's teams: each player picks one (none: no teams).",
    )  # fmt: skip


class EventUpdate(_EventRequest):
    """Body of PUT /events/{id}."""

    title: Title
    expires_at: datetime | None = Field(
        default=None,
        description="When the event ends (ISO-8601 with offset; a past time archives it now);"
        " null: EVENT_IDLE_DAYS after its last change. Left out: unchanged.",
    )
    qna: QnaMode | None = Field(default=None, description=QNA_DOC + " Absent: unchanged.")
    teams: list[TeamName] | None = Field(
        default=None, max_length=MAX_TEAMS,
        description="A quiz's teams ([]: none); left out, they stay as they are.",
    )  # fmt: skip

    @field_validator("expires_at", mode="before")
    @classmethod
    def _a_date_not_a_number(cls, value):
        if isinstance(value, bool | int | float):
            raise ValueError("expires_at must be an ISO-8601 date and time, not a number")
        return value

    @field_validator("expires_at")
    @classmethod
    def _naive_means_utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        try:
            value.astimezone(UTC)
        except OverflowError:
            raise ValueError("expires_at is out of range") from None
        return value


class QuestionIn(_EventRequest):
    """Body of POST /events/{id}/questions: an existing topic, or a new one; either waits
    closed and unlisted until the presenter reaches it."""

    # Exactly one of the two, said in the schema too (oneOf), so a client
    # generated from /openapi.json cannot send neither or both.
    model_config = ConfigDict(
        json_schema_extra={"oneOf": [{"required": ["topic_id"]}, {"required": ["topic"]}]}
    )

    topic_id: Id = Field(default=None, description="An existing topic (or give `topic`).")
    topic: TopicIn = Field(default=None, description="A new topic (or give `topic_id`).")
    results: ResultsShown = "hidden"

    @model_validator(mode="before")
    @classmethod
    def _one_source(cls, data):
        # An explicit null counts as not given: the schema has no null for either field.
        if isinstance(data, dict):
            given = [name for name in ("topic_id", "topic") if data.get(name) is not None]
            if len(given) != 1:
                raise ValueError("give either topic_id (an existing topic) or topic (a new one)")
        return data


class MoveIn(_EventRequest):
    """Body of POST /events/{id}/questions/{index}/move."""

    to: whole_number(ge=0, lt=MAX_QUESTIONS) = Field(description="The question's new index.")


class GoIn(_EventRequest):
    """Body of POST /events/{id}/position: where the room goes."""

    # The range is in the schema (a client generated from it cannot send 500), and
    # a whole_number: `true` is not position 1.
    to: Literal["next", "previous"] | whole_number(ge=LOBBY, lt=MAX_QUESTIONS) = (
        Field(
            description='"next", "previous", or a position: a question index, or -1 for the lobby.'
        )
    )


class ResultsIn(_EventRequest):
    """Body of POST /events/{id}/results: reveal or hide the current question's results."""

    shown: StrictBool


class VotingIn(_EventRequest):
    """Body of POST /events/{id}/voting: open or close voting on the current question."""

    open: StrictBool


class EventStateQuery(BaseModel):
    """Query of GET /events/code/{code}."""

    voter_id: VoterId | None = Field(
        default=None, description="For questions whose topic shows results only after voting."
    )


class QuestionOut(BaseModel):
    index: int
    topic_id: str
    title: str | None = Field(description="The topic's title; null if the topic is gone.")
    state: QuestionState
    results: ResultsShown


class EventOut(BaseModel):
    """An event as its presenter sees it."""

    id: str
    code: str = Field(description="The join code: 6 characters, no 0/O/1/I/L.")
    title: str
    created: str
    last_upd: str
    position: int = Field(description="The current question's index; -1 before the first.")
    expires_at: str = Field(
        description="When the event ends: then its code joins nothing (410); its organisers"
        " keep it. Its own, else EVENT_IDLE_DAYS after its last change."
    )
    questions: list[QuestionOut]
    qna: QnaMode = Field(description=QNA_DOC)
    teams: list[str] | None = Field(default=None, description="A quiz's teams, when it has.")

    @classmethod
    def render(cls, event: dict, questions: list[dict], expires_at: str) -> dict:
        """`questions` as Events.questions lists them (each with its topic, or None);
        `expires_at` as rules.events.expires_at gives it."""
        body = {k: event[k] for k in ("id", "code", "title", "created", "last_upd", "position")}
        body["expires_at"] = expires_at
        body["qna"] = event.get("qna") or "off"
        if event.get("teams"):
            body["teams"] = event["teams"]
        body["questions"] = [
            {
                "index": q["index"],
                "topic_id": q["topic_id"],
                "title": q["topic"]["title"] if q["topic"] else None,
                "state": q["state"],
                "results": q["results"],
            }
            for q in questions
        ]
        return cls.model_validate(body).model_dump(exclude_unset=True)


class CurrentQuestion(BaseModel):
    index: int
    state: QuestionState
    results: ResultsShown
    topic: TopicOut = Field(description="With vote counts only while the results are shown.")


class EventState(BaseModel):
    """What an audience client follows (GET /events/code/{code}); poll it with If-None-Match."""

    code: str
    title: str
    position: int
    question_count: int
    current: CurrentQuestion | None = Field(description="null before the first question.")
    qna: QnaMode = Field(default="off", description=QNA_DOC)
    teams: list[str] | None = Field(default=None, description="A quiz's teams, when it has.")

    @classmethod
    def render(cls, event: dict, current: dict | None, topic=None, counts=None) -> dict:
        """`current` as Events.current gives it; `counts` when its results may be seen."""
        body = {
            "code": event["code"],
            "title": event["title"],
            "position": event["position"],
            "question_count": len(event["questions"]),
            "current": None,
            "qna": event.get("qna") or "off",
        }
        if event.get("teams"):
            body["teams"] = event["teams"]
        if current is not None and topic is not None:
            hidden = counts is None
            body["current"] = {
                "index": current["index"],
                "state": current["state"],
                "results": current["results"],
                "topic": TopicOut.render(topic, counts, hidden=hidden),
            }
        return cls.model_validate(body).model_dump(exclude_unset=True)
