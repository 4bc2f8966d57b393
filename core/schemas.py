"""The API's shapes as pydantic models: requests validated, responses rendered.

These models are the single description of every body: the views validate
requests with them, render responses through them (`TopicOut.render`,
`VoteRecord.render`), and the OpenAPI document is generated from them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    field_validator,
)
from pydantic_core import PydanticCustomError

from .results import percentages
from .topics import (
    MAX_CHOICES,
    MAX_TALLY_SHARDS,
    MIN_CHOICES,
    SETTING_DEFAULTS,
    ResultsVisibility,
    VoteLimit,
    repeated_choice,
)

_NUMBER = re.compile(r"[+-]?\d+(\.\d*)?([eE][+-]?\d+)?")

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Description = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
VoterId = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@-]+$")
]



def _a_json_number(value):
    # JSON Schema's "integer" takes 6 and 6.0 alike, and so does pydantic; but
    # pydantic would also read `true` as 1 and "6" as 6: a client's bug (a 422).
    if isinstance(value, bool | str):
        raise ValueError("a whole number, not true/false or text")
    return value


def whole_number(**bounds):
    """A whole number as JSON Schema means it: 6 or 6.0, never true/false or "6".

    The bounds come before the validator, so the schema states them as minimum/maximum.
    """
    return Annotated[int, Field(**bounds), BeforeValidator(_a_json_number)]

class _Request(BaseModel):
    # Clients of the original service send back whole objects they received
    # (ids, votes, timestamps); unknown fields are ignored, as FastAPI did.
    model_config = ConfigDict(extra="ignore", strict=False)
    # The original's clients may authenticate with a field in the body.
    api_key: str | None = Field(default=None, exclude=True, repr=False)


class ChoiceIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: Id | None = None
    description: Description


class TopicIn(_Request):
    """Body of POST /topics and PUT /topics/{id}.

    The fields the original did not have (vote_limit, closes_at,
    results_visibility) keep their stored value on PUT when left out, so the
    original's clients cannot reset them by accident. Send `closes_at: null`
    explicitly to remove a deadline.
    """

    # Strict: a JSON true/false only. pydantic would read 0, 1 or "yes" as a bool,
    # and a client sending those has a bug worth a 422 (Schemathesis found it).
    is_active: StrictBool = True
    title: Title
    choices: list[ChoiceIn] = Field(min_length=MIN_CHOICES, max_length=MAX_CHOICES)
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
    listed: bool | None = Field(
        default=None,
        description="false: reachable by its link (or an event's code) only, not listed on the"
        " home page. Default true; left out on PUT, it stays as it was.",
    )

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

    @field_validator("closes_at")
    @classmethod
    def _still_ahead(cls, value: datetime | None) -> datetime | None:
        if value is not None and value <= datetime.now(UTC):
            raise ValueError("closes_at is in the past: a new topic needs a deadline ahead")
        return value


class VoteIn(_Request):
    """Body of POST /votes."""

    topic_id: Id
    choice_id: Id
    voter_id: VoterId | None = None


class ChoiceOut(BaseModel):
    id: str
    description: str
    votes: int | None = Field(
        default=None, description="Rounded percentage of the topic's votes (null unless asked)."
    )
    vote_count: int | None = Field(default=None, description="Absolute count (with include_votes).")


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

    @classmethod
    def render(
        cls, topic: dict, counts: dict[str, int] | None = None, hidden: bool = False
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
        # Through the model, so the answer is exactly what OpenAPI describes.
        return cls.model_validate(body).model_dump(exclude_unset=True)


class VoteAccepted(BaseModel):
    """Answer of POST /votes (202): the vote is durably queued (not yet counted)."""

    id: str
    topic_id: str
    choice_id: str
    queued_at: str


class VoteRecord(BaseModel):
    """Answer of GET /votes/{id} once the worker recorded the vote."""

    id: str
    topic_id: str
    choice_id: str | None = Field(
        description="null while the topic hides its results from this viewer "
        "(results_visibility); the vote's own voter (voter_id) and admins always see it."
    )
    created: str
    status: Literal["counted", "rejected", "replaced"]
    reason: str | None = Field(
        default=None,
        description="Why not counted: topic_closed, choice_removed, duplicate_voter, "
        "voter_required, changed_by_voter.",
    )

    @classmethod
    def render(cls, record: dict, hide_choice: bool = False) -> dict:
        """A stored vote record as GET /votes/{id} shows it (`reason` only when there is one);
        `hide_choice` answers choice_id null, for a viewer the topic hides results from."""
        fields = {k: record[k] for k in ("id", "topic_id", "choice_id", "created", "status")}
        if hide_choice:
            fields["choice_id"] = None
        if record.get("reason"):
            fields["reason"] = record["reason"]
        return cls.model_validate(fields).model_dump(exclude_unset=True)


class VotePage(BaseModel):
    """Answer of GET /votes?topic_id=...: newest first, `next` is an opaque cursor."""

    items: list[VoteRecord]
    next: str | None = None


class Problem(BaseModel):
    """Every error answer: `detail` is a message or, for validation, a list of errors."""

    detail: str | list[dict]


class TopicQuery(BaseModel):
    """Query of GET /topics and GET /topics/{id}."""

    include_votes: bool = Field(
        default=False, description="true/false, 1/0, yes/no, on/off: add vote counts."
    )
    voter_id: VoterId | None = Field(
        default=None, description="For topics that show results only after voting."
    )


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
