"""The topic's bodies in the API as pydantic models: requests validated, responses rendered.

The views validate requests with these models and render responses through
them (`TopicOut.render`), and the OpenAPI document is generated from them, so
each body is described once. Votes' bodies are in votes.py, events' in events.py.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, ClassVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from core.rules.fields import BlockedAnswer, Title, VoterId, whole_number
from core.rules.formats.quiz import (
    DEFAULT_TIME_LIMIT,
    MAX_TIME_LIMIT,
    MIN_TIME_LIMIT,
    QUIZ,
    public_quiz,
)
from core.rules.question_types import (
    MAX_RANKED_CHOICES,
    VOTERS,
    QuestionType,
    body_rule_broken,
    takes_choices,
)
from core.rules.results import current_runoff, results_for
from core.rules.shares import percentages
from core.rules.text_answers import MAX_TEXT_LENGTH
from core.rules.topics import (
    MAX_CHOICES,
    MAX_TALLY_SHARDS,
    MIN_CHOICES,
    SETTING_DEFAULTS,
    ResultsVisibility,
    VoteLimit,
    repeated_choice,
)
from core.schemas.base import Request
from core.schemas.choices import ChoiceIn, ChoiceOut
from core.schemas.topic_docs import documented

_NUMBER = re.compile(r"[+-]?\d+(\.\d*)?([eE][+-]?\d+)?")


class TopicIn(Request):
    """Body of POST /topics and PUT /topics/{id}.

    The fields the original did not have (vote_limit, closes_at,
    results_visibility) keep their stored value on PUT when left out, so the
    original's clients cannot reset them by accident. Send `closes_at: null`
    explicitly to remove a deadline.

    `choices` is required, as in the original, unless the body's `type` takes
    none (text, or rating without `rate_each: true`): left out, it is none.
    """

    # One example body per question type (shown in /docs), and the rules a body
    # alone decides in JSON Schema (PUT: the stored settings fill what it leaves out).
    model_config = ConfigDict(json_schema_extra=documented(new=False))
    # What a `rate_each` left out means here: the stored setting (on POST: false).
    rate_each_unset: ClassVar[bool | None] = None

    # Strict: a JSON true/false only. pydantic would read 0, 1 or "yes" as a bool,
    # and a client sending those has a bug worth a 422 (Schemathesis found it).
    is_active: StrictBool = True
    title: Title
    # Before `choices`: how many choices a topic needs depends on its type.
    type: QuestionType | None = Field(
        default=None,
        description="single (default), multiple, ranking, rating, text or game. Left out on"
        " PUT, it stays as it was; it cannot change once the topic has votes (409).",
    )
    choices: list[ChoiceIn] = Field(
        max_length=MAX_CHOICES,
        description="At least 2 for single, multiple, ranking and game (ranking: at most"
        f" {MAX_RANKED_CHOICES}); 1-20 for rating with rate_each; none for text and rating"
        " (which may leave it out).",
    )
    vote_limit: VoteLimit | None = Field(
        default=None, description="unlimited (default), one_per_voter or changeable."
    )
    closes_at: datetime | None = Field(
        default=None,
        description="UTC deadline (ISO-8601 with offset). Votes queued before it count.",
    )
    results_visibility: ResultsVisibility | None = Field(
        default=None, description="always (default), after_vote or after_close."
    )
    tally_shards: whole_number(ge=1, le=MAX_TALLY_SHARDS) | None = Field(
        default=None,
        description="Tally items per choice for a hot topic (default: the server's TALLY_SHARDS).",
    )
    listed: StrictBool | None = Field(
        default=None,
        description="false: reachable by its link (or an event's code) only, not listed on the"
        " home page. Default true; left out on PUT, it stays as it was.",
    )

    min_choices: whole_number(ge=1, le=MAX_CHOICES) | None = Field(
        default=None, description="multiple: the fewest choices a vote picks (default 1)."
    )
    max_choices: whole_number(ge=1, le=MAX_CHOICES) | None = Field(
        default=None, description="multiple: the most choices a vote picks (null: all)."
    )
    rank_top: whole_number(ge=1, le=MAX_RANKED_CHOICES) | None = Field(
        default=None, description="ranking: rank exactly the top N (null: every choice)."
    )
    scale_min: whole_number(ge=0, le=1) | None = Field(
        default=None, description="rating: the scale's lowest value, 0 or 1 (default 1)."
    )
    scale_max: whole_number(ge=2, le=10) | None = Field(
        default=None, description="rating: the scale's highest value, 2 to 10 (default 5)."
    )
    rate_each: StrictBool | None = Field(
        default=None, description="rating: true to rate each choice, false (default) one rating."
    )
    blocked_answers: list[BlockedAnswer] | None = Field(
        default=None,
        max_length=200,
        description="text: words or phrases refused besides the shipped block lists.",
    )
    time_limit: whole_number(ge=MIN_TIME_LIMIT, le=MAX_TIME_LIMIT) | None = Field(
        default=None, description=f"quiz: seconds to answer (default {DEFAULT_TIME_LIMIT})."
    )

    @model_validator(mode="before")
    @classmethod
    def _choices_left_out(cls, body):
        # A body whose type takes no choices may leave them out: none. Every other
        # body keeps the original's 422 (`choices: Field required`), with its other errors.
        if (
            isinstance(body, dict)
            and "choices" not in body
            and body.get("type") in ("text", "rating")
            and not takes_choices(body["type"], body.get("rate_each") is True)
        ):
            return {**body, "choices": []}
        return body

    @field_validator("choices")
    @classmethod
    def _enough_choices(cls, choices: list[ChoiceIn], info) -> list[ChoiceIn]:
        # The original's rule and error for single choice; other types' choices are
        # checked with the topic's settings (question_types.check_rules).
        if (info.data.get("type") or "single") == "single" and len(choices) < MIN_CHOICES:
            raise PydanticCustomError(
                "too_short",
                "List should have at least {min_length} items after validation,"
                " not {actual_length}",
                {"field_type": "List", "min_length": MIN_CHOICES, "actual_length": len(choices)},
            )
        return choices

    @model_validator(mode="after")
    def _choices_fit_the_type(self):
        # What the body alone decides (also stated in the schema, body_rules_schema).
        rate_each = self.rate_each_unset if self.rate_each is None else self.rate_each
        broken = body_rule_broken(self.type, len(self.choices), rate_each, self.vote_limit)
        if broken:
            field, message = broken
            problem = PydanticCustomError("rules_invalid", message)
            raise ValidationError.from_exception_data(
                type(self).__name__,
                [{"type": problem, "loc": (field,), "input": getattr(self, field)}],
            )
        return self

    @field_validator("choices")
    @classmethod
    def _no_choice_twice(cls, choices: list[ChoiceIn]) -> list[ChoiceIn]:
        index = repeated_choice([choice.description for choice in choices])
        if index is not None:
            # Its own error type: the admin form says it in the page's language
            # and marks the repeated row (`index`).
            raise PydanticCustomError(
                "duplicate_choice",
                "Choice “{choice}” is listed twice: choices must differ by more than"
                " case or surrounding spaces",
                {"choice": choices[index].description, "index": index},
            )
        return choices

    @field_validator("closes_at", mode="before")
    @classmethod
    def _a_date_not_a_number(cls, value):
        # pydantic reads a number as seconds since 1970: `closes_at: 0` is a
        # mistake, not a deadline in 1970.
        if isinstance(value, bool | int | float) or (
            isinstance(value, str) and _NUMBER.fullmatch(value.strip())
        ):
            raise ValueError("closes_at must be an ISO-8601 date and time, not a number")
        return value

    @field_validator("closes_at")
    @classmethod
    def _naive_means_utc(cls, value: datetime | None) -> datetime | None:
        # The original's timestamps carry no offset and mean UTC: read those so too.
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        try:
            value.astimezone(UTC)  # 0001-01-01T00:00+01:00 has no UTC time
        except OverflowError:
            raise ValueError("closes_at is out of range") from None
        return value


class NewTopicIn(TopicIn):
    """Body of POST /topics: as TopicIn, and a deadline, if given, still ahead
    (a new topic past its deadline would be closed before anyone saw it)."""

    model_config = ConfigDict(json_schema_extra=documented(new=True))
    rate_each_unset: ClassVar[bool | None] = False

    @field_validator("closes_at")
    @classmethod
    def _still_ahead(cls, value: datetime | None) -> datetime | None:
        if value is not None and value <= datetime.now(UTC):
            raise ValueError("closes_at is in the past: a new topic needs a deadline ahead")
        return value


# The settings a type's topic shows (besides `type`); text's lists only to admins.
_SHOWN = {
    "multiple": ("min_choices", "max_choices"),
    "ranking": ("rank_top", "runoff"),
    "rating": ("scale_min", "scale_max", "rate_each"),
    "text": (),
    "game": (),
    "quiz": ("time_limit",),
}
_ADMIN_SHOWN = ("blocked_answers", "hidden_answers")


class TopicOut(BaseModel):
    id: str
    created: str
    last_upd: str
    is_active: bool
    title: str
    choices: list[ChoiceOut]
    vote_limit: VoteLimit = SETTING_DEFAULTS["vote_limit"]
    closes_at: str | None = None
    results_visibility: ResultsVisibility = SETTING_DEFAULTS["results_visibility"]
    tally_shards: int | None = Field(
        default=None, description="Present when the topic overrides TALLY_SHARDS."
    )
    results_hidden: bool | None = Field(
        default=None, description="true when include_votes was asked but the topic hides results."
    )
    total_votes: int | None = Field(default=None, description="Present with include_votes.")
    listed: bool | None = Field(
        default=None, description="false when the topic is unlisted; absent when it is listed."
    )
    type: QuestionType | None = Field(
        default=None, description="The question type; absent for single choice."
    )
    min_choices: int | None = Field(default=None, description="multiple only.")
    max_choices: int | None = Field(default=None, description="multiple only (null: all).")
    rank_top: int | None = Field(default=None, description="ranking only (null: all).")
    scale_min: int | None = Field(default=None, description="rating only.")
    scale_max: int | None = Field(default=None, description="rating only.")
    rate_each: bool | None = Field(default=None, description="rating only.")
    blocked_answers: list[str] | None = Field(
        default=None, description="text only, shown to admins: the topic's own blocked words."
    )
    hidden_answers: list[str] | None = Field(
        default=None, description="text only, shown to admins: answers hidden from the screen."
    )
    runoff: dict | None = Field(
        default=None,
        description="ranking only: the instant runoff once computed (closed topic); null"
        " again once stale (the topic reset or reopened since, or other votes counted).",
    )
    time_limit: int | None = Field(default=None, description="quiz only: seconds to answer.")
    deadline: str | None = Field(
        default=None, description="quiz only: when the question's time runs out (UTC, as"
        " created); null until it is asked.",
    )  # fmt: skip
    results: dict | None = Field(
        default=None,
        description="With include_votes, for types other than single: the type's results"
        " (see the API section of README: multiple, ranking, rating, text, game).",
    )

    @classmethod
    def render(
        cls,
        topic: dict,
        counts: dict[str, int] | None = None,
        hidden: bool = False,
        admin: bool = False,
    ) -> dict:
        """A topic as the API shows it; with `counts`, the results too.

        `votes` is the rounded percentage (the original's meaning), `vote_count`
        the absolute number and `total_votes` their sum. The original's fields
        are always present (`votes` null without counts); ours appear only when
        they say something: `tally_shards` when set, `results_hidden` when true,
        `listed` when false (so a listed topic's bytes are the original's).
        """
        choices = [{"id": c["id"], "description": c["description"], "votes": None}
                   for c in topic["choices"]]  # fmt: skip
        body = {key: topic[key] for key in ("id", "created", "last_upd", "is_active", "title")}
        body["choices"] = choices
        for key in ("vote_limit", "closes_at", "results_visibility"):
            body[key] = topic.get(key, SETTING_DEFAULTS[key])
        if topic.get("tally_shards"):
            body["tally_shards"] = topic["tally_shards"]
        if hidden:
            body["results_hidden"] = True
        elif counts is not None:
            numbers = [counts.get(c["id"], 0) for c in choices]
            for choice, count, share in zip(choices, numbers, percentages(numbers), strict=True):
                choice["votes"] = share
                choice["vote_count"] = count
            body["total_votes"] = sum(numbers)
        if topic.get("listed") is False:
            body["listed"] = False
        kind = topic.get("type", "single")
        if kind != "single":
            body["type"] = kind
            body |= {key: topic.get(key, SETTING_DEFAULTS[key]) for key in _SHOWN[kind]}
            if kind == "ranking":
                voters = counts.get(VOTERS, 0) if counts is not None and not hidden else None
                # A runoff is results: hidden with them.
                body["runoff"] = None if hidden else current_runoff(topic, voters)
            if kind == "text" and admin:
                body |= {key: list(topic.get(key) or []) for key in _ADMIN_SHOWN}
            if kind == QUIZ:  # `correct` only as quiz.answer_shown allows (admins: always)
                body |= public_quiz(topic, choices, admin)
            if counts is not None and not hidden:
                body["results"] = results_for(topic, counts, admin)
        # Through the model, so the answer is exactly what OpenAPI describes.
        return cls.model_validate(body).model_dump(exclude_unset=True)


class TopicQuery(BaseModel):
    """Query of GET /topics and GET /topics/{id}."""

    include_votes: bool = Field(
        default=False, description="true/false, 1/0, yes/no, on/off: add vote counts."
    )
    voter_id: VoterId | None = Field(
        default=None, description="For topics that show results only after voting."
    )


class HiddenAnswerIn(Request):
    """Body of POST /topics/{id}/answers/hidden, query of its DELETE: one text answer."""

    text: Annotated[str, StringConstraints(min_length=1, max_length=4 * MAX_TEXT_LENGTH)] = Field(
        description="The answer as shown (matched by its moderation key: look-alike spellings"
        " of it are hidden or shown with it)."
    )


class TopicUpdateQuery(BaseModel):
    """Query of PUT /topics/{id}."""

    drop_votes: bool = Field(
        default=False,
        description="true to remove choices that have votes (their votes leave the results); "
        "without it such a PUT answers 409 and changes nothing.",
    )


class TopicCleared(BaseModel):
    """Answer of POST /topics/{id}/reset and DELETE /topics/{id}: what went with it.

    `votes` is how many vote records were deleted (counted or not), `counted`
    how many of them the results held; `ballots` and `tallies` the items
    deleted with them.
    """

    id: str
    counted: int
    votes: int
    ballots: int
    tallies: int
