"""A topic's choices in the API: as a request names them, and as an answer shows them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from core.rules.fields import Description, Id


class ChoiceIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: Id | None = None
    description: Description
    correct: StrictBool | None = Field(
        default=None, description="quiz: true on the correct choices (at least one)."
    )


class ChoiceOut(BaseModel):
    id: str
    description: str
    votes: int | None = Field(
        default=None, description="Rounded percentage of the topic's votes (null unless asked)."
    )
    vote_count: int | None = Field(default=None, description="Absolute count (with include_votes).")
    correct: bool | None = Field(
        default=None,
        description="quiz only: whether the choice is correct, once the question was asked and"
        " is over (closed, or its time is up); absent before, on every public read.",
    )
