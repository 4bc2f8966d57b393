"""Pydantic models for topics, choices and votes: validation and result maths.

These models are the single description of the API's shapes: the views
validate requests with them and the OpenAPI document is generated from them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

MIN_CHOICES = 2
MAX_CHOICES = 50
# A hot topic's tallies: shards x choices items, read by one Query (1 MB a page).
MAX_TALLY_SHARDS = 100

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Description = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]
Id = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
VoterId = Annotated[
    str, StringConstraints(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:@-]+$")
]


def new_id() -> str:
    return str(uuid.uuid4())


def utc_now() -> str:
    """UTC ISO-8601 with microseconds and no offset: the original's format."""
    return iso(datetime.now(UTC))


def iso(moment: datetime) -> str:
    """`moment` in UTC, in the original's format (comparable as text)."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")


VoteLimit = Literal["unlimited", "one_per_voter", "changeable"]
ResultsVisibility = Literal["always", "after_vote", "after_close"]


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

    is_active: bool = True
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
    tally_shards: int | None = Field(
        default=None,
        ge=1,
        le=MAX_TALLY_SHARDS,
        description="Tally items per choice for a hot topic (default: the server's TALLY_SHARDS).",
    )

    @field_validator("closes_at")
    @classmethod
    def _naive_means_utc(cls, value: datetime | None) -> datetime | None:
        # The original's timestamps carry no offset and mean UTC: read those so too.
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
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
    vote_limit: VoteLimit = "unlimited"
    closes_at: str | None = None
    results_visibility: ResultsVisibility = "always"
    tally_shards: int | None = Field(
        default=None, description="Present when the topic overrides TALLY_SHARDS."
    )
    results_hidden: bool | None = Field(
        default=None, description="true when include_votes was asked but the topic hides results."
    )
    total_votes: int | None = Field(default=None, description="Present with include_votes.")


class VoteQueued(BaseModel):
    """Answer of POST /votes (202): the vote is durably queued."""

    id: str
    topic_id: str
    choice_id: str
    queued_at: str


class VoteRecord(BaseModel):
    """Answer of GET /votes/{id} once the worker recorded the vote."""

    id: str
    topic_id: str
    choice_id: str
    created: str
    status: Literal["counted", "rejected", "replaced"]
    reason: str | None = Field(
        default=None,
        description="Why not counted: topic_closed, choice_removed, duplicate_voter, "
        "voter_required, changed_by_voter.",
    )


class VotePage(BaseModel):
    """Answer of GET /votes?topic_id=...: newest first, `next` is an opaque cursor."""

    items: list[VoteRecord]
    next: str | None = None


class Problem(BaseModel):
    """Every error answer: `detail` is a message or, for validation, a list of errors."""

    detail: str | list[dict]


class QueuedVote(BaseModel):
    """The message body carried from intake to the worker through SQS."""

    model_config = ConfigDict(extra="ignore")
    id: str
    topic_id: str
    choice_id: str
    queued_at: str
    voter_id: str | None = None
    request_id: str | None = None
    # The topic's vote_limit when the vote was accepted; the worker's
    # transaction checks it still holds.
    vote_limit: str = "unlimited"
    # The topic's own tally_shards when it has one (else the worker's TALLY_SHARDS):
    # carried here so the worker never reads the topic to pick a shard.
    tally_shards: int | None = None


def percentages(counts: list[int]) -> list[int]:
    """Each count as a whole percentage of the total, rounded half up; 0s when no votes.

    1 and 2 votes give 33 and 67, as the original reported.
    """
    total = sum(counts)
    if total <= 0:
        return [0 for _ in counts]
    # Integer arithmetic: round(100 * c / total) with halves going up, exactly.
    return [(200 * c + total) // (2 * total) for c in counts]


def merge_choices(old: list[dict], new: list[ChoiceIn]) -> list[dict]:
    """The choices after an update: known ids are kept, new rows get ids.

    Raises UnknownChoice when a row carries an id the topic does not have, and
    DuplicateChoice when the same id appears twice.
    """
    known = {choice["id"] for choice in old}
    merged, seen = [], set()
    for row in new:
        if row.id is not None and row.id not in known:
            raise UnknownChoice(row.id)
        choice_id = row.id or new_id()
        if choice_id in seen:
            raise DuplicateChoice(choice_id)
        seen.add(choice_id)
        merged.append({"id": choice_id, "description": row.description})
    return merged


class UnknownChoice(ValueError):
    """A choice id that the topic does not have."""


class DuplicateChoice(ValueError):
    """The same choice id listed twice in one update."""


class TopicQuery(BaseModel):
    """Query of GET /topics and GET /topics/{id}."""

    include_votes: bool = Field(
        default=False, description="true/false, 1/0, yes/no, on/off: add vote counts."
    )
    voter_id: VoterId | None = Field(
        default=None, description="For topics that show results only after voting."
    )


class VoteListQuery(BaseModel):
    """Query of GET /votes."""

    topic_id: Id
    limit: int = Field(default=25, ge=1, le=100)
    next: str | None = Field(
        default=None, max_length=2048, description="Cursor from the last page."
    )


def topic_json(topic: dict, counts: dict[str, int] | None = None) -> dict:
    """A topic as the API shows it; with `counts`, the results too.

    `votes` is the rounded percentage (the original's meaning), `vote_count`
    the absolute number and `total_votes` their sum.
    """
    choices = [
        {"id": c["id"], "description": c["description"], "votes": None} for c in topic["choices"]
    ]
    body = {
        "id": topic["id"],
        "created": topic["created"],
        "last_upd": topic["last_upd"],
        "is_active": topic["is_active"],
        "title": topic["title"],
        "choices": choices,
        "vote_limit": topic.get("vote_limit", "unlimited"),
        "closes_at": topic.get("closes_at"),
        "results_visibility": topic.get("results_visibility", "always"),
    }
    if topic.get("tally_shards"):
        body["tally_shards"] = topic["tally_shards"]  # only when set: the original shape otherwise
    if counts is not None:
        numbers = [counts.get(c["id"], 0) for c in choices]
        for choice, count, share in zip(choices, numbers, percentages(numbers), strict=True):
            choice["votes"] = share
            choice["vote_count"] = count
        body["total_votes"] = sum(numbers)
    return body


def vote_json(record: dict) -> dict:
    """A recorded vote as GET /votes/{id} shows it."""
    body = {k: record[k] for k in ("id", "topic_id", "choice_id", "created", "status")}
    if record.get("reason"):
        body["reason"] = record["reason"]
    return body
