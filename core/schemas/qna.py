"""The audience Q&A API's shapes (core/rules/qna.py holds the rules they carry)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr, model_validator

from core.rules.fields import VoterId
from core.rules.qna import MAX_NAME_LENGTH, MAX_QUESTION_LENGTH
from core.schemas.base import Request


class AskIn(Request):
    """Body of POST /events/code/{code}/qna: a question from the room."""

    # Checked after NFC and collapsing whitespace (core/rules/qna.py): a 422 names `text`.
    text: StrictStr = Field(
        max_length=4 * MAX_QUESTION_LENGTH,
        description=f"1 to {MAX_QUESTION_LENGTH} characters once whitespace runs are one space.",
    )
    name: StrictStr | None = Field(
        default=None, max_length=4 * MAX_NAME_LENGTH,
        description=f"Shown with the question (up to {MAX_NAME_LENGTH}); absent: anonymous.",
    )
    voter_id: VoterId | None = Field(
        default=None, description="The asker (never shown): their own questions, rate limits."
    )


class UpvoteIn(Request):
    """Body of POST or DELETE /events/code/{code}/qna/{qid}/upvote (may be empty)."""

    voter_id: VoterId | None = Field(
        default=None, description="Required from API clients: one upvote per voter."
    )


class ModerationIn(Request):
    """Body of POST /events/{id}/qna/{qid}: the presenter's decision (at least one field,
    neither null: the schema says so with anyOf, so a client learns it from /openapi.json)."""

    model_config = ConfigDict(
        json_schema_extra={"anyOf": [{"required": ["state"]}, {"required": ["pinned"]}]}
    )

    state: Literal["approved", "answered", "dismissed"] = Field(
        default=None, json_schema_extra=lambda schema: schema.pop("default", None)
    )
    pinned: StrictBool = Field(
        default=None, json_schema_extra=lambda schema: schema.pop("default", None)
    )

    @model_validator(mode="after")
    def _something(self):
        if self.state is None and self.pinned is None:
            raise ValueError("give state, pinned or both")
        return self


class QnaQuery(BaseModel):
    """Query of GET /events/code/{code}/qna."""

    sort: Literal["top", "recent"] = Field(
        default="top", description="top: by upvotes, then the older first; recent: newest first."
    )


class AudienceQuestion(BaseModel):
    """A question as the public list shows it (never its asker)."""

    id: str
    text: str
    name: str | None
    upvotes: int
    state: Literal["pending", "open", "answered", "dismissed"]
    pinned: bool
    created: str


class UpvoteAccepted(BaseModel):
    """An upvote or withdrawal queued: the worker records it exactly once."""

    id: str = Field(description="The message's id.")
    question_id: str
    kind: Literal["upvote", "withdraw"]
    status: Literal["queued"] = "queued"


class ModerationView(BaseModel):
    """GET /events/{id}/qna: the presenter's view of the questions."""

    pending: list[AudienceQuestion] = Field(description="The moderation queue, oldest first.")
    top: list[AudienceQuestion] = Field(description="The public list, by upvotes.")
