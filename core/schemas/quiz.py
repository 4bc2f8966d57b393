"""A quiz's API shapes: a player joining (POST /events/code/{code}/players) and the
leaderboard (GET /events/code/{code}/leaderboard)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints

from core.rules.fields import VoterId
from core.rules.formats.quiz import MAX_NAME_LENGTH, MAX_TEAM_LENGTH
from core.schemas.base import Request

# As typed; the length the rules count (quiz.nickname: NFC, spaces collapsed) is checked
# by the service, so 4 x the limit here only bounds what is read.
TeamName = Annotated[str, StringConstraints(min_length=1, max_length=4 * MAX_TEAM_LENGTH)]


class PlayerIn(Request):
    """Body of POST /events/code/{code}/players: a nickname, unique in the event in any
    case (and look-alike letters), checked against the block lists."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=4 * MAX_NAME_LENGTH)] = Field(
        description=f"1 to {MAX_NAME_LENGTH} characters (NFC code points, runs of spaces one)."
    )
    voter_id: VoterId | None = Field(
        default=None, description="The voter who plays (a new one is made when left out)."
    )
    team: TeamName | None = Field(
        default=None, description="One of the event's teams: required when it has teams."
    )


class PlayerOut(BaseModel):
    """A player: answer of POST /events/code/{code}/players (201 new, 200 the same voter
    joining again with the same nickname)."""

    name: str
    voter_id: str = Field(description="Send it with every answer (POST /votes).")
    team: str | None = None
    score: int
    correct: int
    answered: int

    @classmethod
    def render(cls, player: dict) -> dict:
        body = {k: player[k] for k in ("name", "voter_id", "score", "correct", "answered")}
        if player.get("team"):
            body["team"] = player["team"]
        return cls.model_validate(body).model_dump(exclude_unset=True)


class BoardRow(BaseModel):
    name: str
    score: int
    correct: int = Field(description="Correct answers.")
    rank: int = Field(description="1 + the players with a higher score: equal scores share it.")
    team: str | None = None


class TeamRow(BaseModel):
    team: str
    members: int
    score: float = Field(description="The members' mean score, to one decimal.")
    rank: int


class LeaderboardQuery(BaseModel):
    """Query of GET /events/code/{code}/leaderboard."""

    voter_id: VoterId | None = Field(default=None, description="Adds this player's own row.")
    limit: int = Field(default=10, ge=1, le=100, description="How many of the top to list.")


class Leaderboard(BaseModel):
    """The event's players by score, highest first; `me` and `teams` when they apply."""

    players: list[BoardRow]
    me: BoardRow | None = Field(default=None, description="The asking player (voter_id).")
    teams: list[TeamRow] | None = Field(
        default=None, description="Teams by their members' mean score, when the event has teams."
    )

    @classmethod
    def render(cls, board: dict) -> dict:
        return cls.model_validate(board).model_dump(exclude_unset=True, exclude_none=True)
