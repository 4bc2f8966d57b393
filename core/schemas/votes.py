"""The API's vote shapes: a vote in (POST /votes) and a vote out (202, GET /votes)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.rules.fields import Id, Rating, VoterId
from core.rules.question_types import ANSWER_FIELDS, MAX_RANKED_CHOICES, payload_of
from core.rules.text_answers import MAX_TEXT_LENGTH
from core.rules.topics import MAX_CHOICES
from core.schemas.base import Request


class VoteIn(Request):
    """Body of POST /votes: the topic, and the one answer field its type takes.

    single and game: `choice_id`; multiple: `choice_ids`; ranking: `ranking`
    (best first); rating: `rating` (a number, or {choice_id: number} when the
    topic rates each choice); text: `text`. Which values fit (how many choices,
    the scale, blocked words) depends on the topic: a 422 naming the field.
    """

    # Exactly one answer field, not null (which one a topic takes is checked against
    # the topic), and one example body per question type (shown in /docs).
    model_config = ConfigDict(
        json_schema_extra={
            "oneOf": [
                {"required": [field], "properties": {field: {"not": {"type": "null"}}}}
                for field in ANSWER_FIELDS
            ],
            "examples": [
                {"topic_id": "TOPIC", "choice_id": "CHOICE"},
                {"topic_id": "TOPIC", "choice_ids": ["CHOICE_A", "CHOICE_C"]},
                {"topic_id": "TOPIC", "ranking": ["CHOICE_B", "CHOICE_A", "CHOICE_C"]},
                {"topic_id": "TOPIC", "rating": 4},
                {"topic_id": "TOPIC", "rating": {"CHOICE_A": 5, "CHOICE_B": 3}},
                {"topic_id": "TOPIC", "text": "inspiring"},
                {"topic_id": "TOPIC", "choice_id": "CHOICE", "voter_id": "voter-1"},
            ]
        }
    )

    topic_id: Id
    choice_id: Id | None = Field(default=None, description="single and game questions.")
    choice_ids: list[Id] | None = Field(
        default=None, min_length=1, max_length=MAX_CHOICES,
        description="multiple: the picked choices, each once.",
    )  # fmt: skip
    ranking: list[Id] | None = Field(
        default=None, min_length=1, max_length=MAX_RANKED_CHOICES,
        description="ranking: choice ids, best first, each once.",
    )  # fmt: skip
    rating: Rating | dict[Id, Rating] | None = Field(
        default=None,
        description="rating: a number on the topic's scale, or {choice_id: number} to rate"
        " each choice (rate_each).",
    )
    text: str | None = Field(
        default=None, max_length=4 * MAX_TEXT_LENGTH,
        description=f"text: an answer of up to {MAX_TEXT_LENGTH} characters (NFC code points,"
        " runs of spaces one space), kept as typed; control characters and text direction"
        " overrides are refused.",
    )  # fmt: skip
    voter_id: VoterId | None = None

    @field_validator("rating", mode="before")
    @classmethod
    def _a_rating_shape(cls, value):
        # One clear error instead of one per branch of the union (number | object).
        if value is None or isinstance(value, dict):
            return value
        if isinstance(value, bool | str) or not isinstance(value, int | float):
            raise ValueError("a whole number, or {choice_id: whole number} to rate each choice")
        return value

    @model_validator(mode="wrap")
    @classmethod
    def _an_answer(cls, data, handler):
        # A body with no answer at all is refused exactly as the original refused it
        # (choice_id missing, or null), beside the other fields' errors. Which answer
        # field a topic wants is checked against the topic (Voting.cast).
        if not isinstance(data, dict) or any(data.get(f) is not None for f in ANSWER_FIELDS):
            return handler(data)
        kind = "string_type" if "choice_id" in data else "missing"
        answer = {"type": kind, "loc": ("choice_id",), "input": None if kind != "missing" else data}
        try:
            handler(data)
            errors = []
        except ValidationError as exc:
            errors = exc.errors()
        # In field order: api_key and topic_id come before choice_id.
        before = [e for e in errors if e["loc"][:1] in (("api_key",), ("topic_id",))]
        after = [e for e in errors if e not in before]
        line_errors = [
            {key: e[key] for key in ("type", "loc", "input", "ctx") if key in e}
            for e in [*before, answer, *after]
        ]
        raise ValidationError.from_exception_data(cls.__name__, line_errors)


class _Answer(BaseModel):
    """A vote's ids, then the answer fields it had (a single vote's is choice_id): the order
    of the original's answers, which name the vote, then its choice."""

    id: str
    topic_id: str
    choice_id: str | None = None
    choice_ids: list[str] | None = None
    ranking: list[str] | None = None
    rating: int | dict[str, int] | None = None
    text: str | None = Field(default=None, description="As typed (NFC, spaces collapsed).")


class VoteAccepted(_Answer):
    """Answer of POST /votes (202): the vote is durably queued (not yet counted)."""

    queued_at: str

    @classmethod
    def render(cls, message) -> dict:
        """A queued vote (votes.VoteMessage) as its 202 shows it: the original's four fields
        for a single vote, in its order; another type's answer field instead of choice_id."""
        fields = {"id": message.id, "topic_id": message.topic_id}
        fields |= payload_of(message)
        fields["queued_at"] = message.queued_at
        return cls.model_validate(fields).model_dump(exclude_unset=True)


class VoteRecord(_Answer):
    """Answer of GET /votes/{id} once the worker recorded the vote."""

    choice_id: str | None = Field(
        default=None,
        description="null while the topic hides its results from this viewer "
        "(results_visibility); the vote's own voter (voter_id) and admins always see it."
        " The other answer fields (choice_ids, ranking, rating, text) likewise.",
    )
    created: str
    status: Literal["counted", "rejected", "replaced"]
    reason: str | None = Field(
        default=None,
        description="Why not counted: topic_closed, choice_removed, duplicate_voter, "
        "voter_required, changed_by_voter, reset.",
    )

    @classmethod
    def render(cls, record: dict, hide_choice: bool = False) -> dict:
        """A stored vote record as GET /votes/{id} shows it (`reason` only when there is one);
        `hide_choice` answers its answer fields null, for a viewer the topic hides results from."""
        fields = {k: record[k] for k in ("id", "topic_id")}
        answer = payload_of_record(record)
        fields |= dict.fromkeys(answer) if hide_choice else answer
        fields |= {k: record[k] for k in ("created", "status")}
        if record.get("reason"):
            fields["reason"] = record["reason"]
        return cls.model_validate(fields).model_dump(exclude_unset=True)


def payload_of_record(record: dict) -> dict:
    """The answer fields a stored vote record holds (a single vote's choice_id)."""
    return {f: record[f] for f in ANSWER_FIELDS if record.get(f) is not None}


class VotePage(BaseModel):
    """Answer of GET /votes?topic_id=...: newest first, `next` is an opaque cursor."""

    items: list[VoteRecord]
    next: str | None = None


class VoterQuery(BaseModel):
    """Query of GET /votes/{id}."""

    voter_id: VoterId | None = Field(
        default=None, description="The vote's voter sees its choice while results are hidden."
    )


class VoteListQuery(BaseModel):
    """Query of GET /votes."""

    topic_id: Id
    voter_id: VoterId | None = Field(
        default=None, description="For topics that show results (and votes) only after voting."
    )
    limit: int = Field(default=25, ge=1, le=100)
    next: str | None = Field(
        default=None, max_length=2048, description="Cursor from the last page."
    )
