"""The players service: a quiz's players joining an event, and its leaderboard.

A player is a voter (their voter id) with a nickname in one event, and maybe a team;
their score, correct answers and answers are tallies the worker's batch transaction
adds to with each scored answer (exactly once: core/aws/batch.py). Views and Voting
call this, never the store.

Reads, and what they cost:
- the board's top N: one Query of the score index, Limit N (cached per process for
  RESULTS_CACHE_SECONDS, like results), the same with 30 players or 3,000;
- a player's own rank and the team board: from the event's standings, every player's
  score read from the same index (one paged Query, about 70 bytes a player), at most once
  a second per process however many phones ask, served up to 2 s old while a newer copy
  loads (no rank waits on that read but the first); a rank is then a binary search.
- is this voter a player (every quiz answer asks at intake): a GetItem the first time,
  then this process's memory (a player never leaves an event).
"""

from __future__ import annotations

from core.aws.backend import Backend
from core.rules.clock import new_id, utc_now
from core.rules.errors import AlreadyJoined, FieldInvalid
from core.rules.formats.quiz import (
    nickname,
    nickname_key,
    nickname_refusal,
    rank_of,
    ranked,
    team_board,
)
from core.services.cache import TTLCache
from core.services.csv_export import score_chunks
from core.settings import Settings

# Players are known for long: a player never leaves the event (one entry per player).
KNOWN_SECONDS = 3600.0
KNOWN_ENTRIES = 200_000
MAX_BOARD = 100
DEFAULT_BOARD = 10


class Players:
    """Joining an event and reading its board, over the players store and caches."""

    def __init__(self, backend: Backend, settings: Settings):
        self.store = backend.players
        self.votes = backend.store
        self._known = TTLCache(KNOWN_SECONDS, max_entries=KNOWN_ENTRIES)
        self._tops = TTLCache(settings.results_cache_seconds, serve_stale=False)
        # Served while a newer copy loads (up to 2 x RESULTS_CACHE_SECONDS old): a rank
        # read never waits for the standings' read of every player, but the first.
        self._standings = TTLCache(settings.results_cache_seconds)

    def join(
        self, event: dict, name: str, voter_id: str | None = None, team: str | None = None
    ) -> tuple[dict, bool]:
        """(the player, True if new): `voter_id` (a new one when None) joins `event` as
        `name`. Refused: a nickname the rules refuse or a team the event lacks (422,
        naming the field), a nickname another player holds in any case (NameTaken), a
        voter who joined as another nickname (AlreadyJoined). The same voter joining
        again with the same nickname is the player they are."""
        typed = nickname(name)
        refused = nickname_refusal(typed)
        if refused:
            raise FieldInvalid("name", refused)
        team = _team_of(event, team)
        voter_id = voter_id or new_id()
        player = {"event_id": event["id"], "voter_id": voter_id, "name": typed,
                  "team": team, "joined": utc_now()}  # fmt: skip
        try:
            self.store.join({k: v for k, v in player.items() if v is not None}, nickname_key(typed))
        except AlreadyJoined:
            existing = self.store.get_player(event["id"], voter_id)
            if existing is None or nickname_key(existing["name"]) != nickname_key(typed):
                raise
            self._known.put((event["id"], voter_id), existing)
            return existing, False
        joined = {**player, "score": 0, "correct": 0, "answered": 0}
        self._known.put((event["id"], voter_id), joined)
        return joined, True

    def player(self, event_id: str, voter_id: str | None) -> dict | None:
        """The voter's player in the event (as it joined; its tallies may be older), or
        None. A found player is kept in memory; a missing one is read again next time."""
        if not voter_id:
            return None
        return self._known.find(
            (event_id, voter_id), lambda: self.store.get_player(event_id, voter_id)
        )

    def top(self, event_id: str, limit: int = DEFAULT_BOARD) -> list[dict]:
        """The `limit` highest scores, ranked (equal scores share a rank): one Query of
        `limit` items, cached RESULTS_CACHE_SECONDS per process."""

        def load():
            return ranked(self.store.top(event_id, limit))

        return self._tops.get_or_load((event_id, limit), load)

    def standings(self, event_id: str) -> Standings:
        """Every player of the event, read from the score index at most once per
        RESULTS_CACHE_SECONDS per process: what ranks and the team board read."""
        return self._standings.get_or_load(
            event_id, lambda: Standings(self.store.standings(event_id))
        )

    def leaderboard(
        self, event: dict, limit: int = DEFAULT_BOARD, voter_id: str | None = None
    ) -> dict:
        """{"players": the top `limit`, ranked; "me": the asking voter's own row when they
        play; "teams": the team board when the event has teams}."""
        board: dict = {"players": [_row(p) for p in self.top(event["id"], limit)]}
        me = self.player(event["id"], voter_id) if voter_id else None
        if me is not None or event.get("teams"):
            standings = self.standings(event["id"])
            if me is not None:
                board["me"] = standings.row_of(me)
            if event.get("teams"):
                board["teams"] = standings.teams
        return board

    def scores_csv(self, event: dict, topics: list[dict]):
        """The event's scores as CSV text chunks (csv_export.py): player x quiz question."""
        return score_chunks(self.votes, self.store, event, topics)

class Standings:
    """An event's players as one read of the score index found them, made ready once per
    read: each player by voter id, every score highest first (a rank is a binary search),
    and the team board."""

    def __init__(self, players: list[dict]):
        self.players = {p["voter_id"]: p for p in players}
        self.scores = sorted((p["score"] for p in players), reverse=True)
        self.teams = team_board(players)

    def row_of(self, player: dict) -> dict:
        """The player's board row, ranked among everyone (one who joined since the read:
        as they joined)."""
        mine = self.players.get(player["voter_id"], player)
        return {**_row(mine), "rank": rank_of(mine["score"], self.scores)}

    def team_row(self, team: str | None) -> dict | None:
        """`team`'s row on the team board with `of`, how many teams it ranks among; None
        for no team, or one none of this read's players is in."""
        row = next((r for r in self.teams if team and r["team"] == team), None)
        return None if row is None else {**row, "of": len(self.teams)}


def _row(player: dict) -> dict:
    """A board row: what the leaderboard shows of a player."""
    row = {key: player[key] for key in ("name", "score", "correct")}
    if "rank" in player:
        row["rank"] = player["rank"]
    if player.get("team"):
        row["team"] = player["team"]
    return row


def _team_of(event: dict, team: str | None) -> str | None:
    """The team a joining player picked, checked against the event's teams (required
    when it has some, refused when it has none)."""
    teams = event.get("teams") or []
    if team is not None:
        team = nickname(team)
    if teams and team not in teams:
        raise FieldInvalid("team", f"pick one of this event's teams: {', '.join(teams)}")
    if not teams and team:
        raise FieldInvalid("team", "this event has no teams")
    return team
