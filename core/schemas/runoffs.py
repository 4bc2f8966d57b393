"""The runoff's body in the API: what POST /topics/{id}/runoff answers and a ranking keeps."""

from __future__ import annotations

from pydantic import BaseModel, Field


class RunoffRound(BaseModel):
    counts: dict[str, int] = Field(description="Votes of each choice still in the race.")
    exhausted: int = Field(description="Ballots whose ranked choices are all eliminated.")
    eliminated: list[str] = Field(description="The choice that goes; empty in the last round.")


class RunoffOut(BaseModel):
    """Answer of POST /topics/{id}/runoff, stored on the topic as `runoff`."""

    winner: str | None = Field(description="null when no ballot ranks a choice.")
    rounds: list[RunoffRound]
    ballots: int = Field(description="Counted rankings the runoff was computed from.")
    computed: str
    generation: int = Field(
        default=0, description="The topic's results it counted: their number of resets."
    )
    opened_at: str | None = Field(
        default=None,
        description="The open period it counted (the topic's opened_at, null: never reopened);"
        " after a reset or a reopen the runoff is stale and the topic no longer shows it.",
    )
