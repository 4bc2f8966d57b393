"""The JSON API of a quiz: players joining an event, its leaderboard, its scores as CSV.

Joining and the leaderboard are public, by the event's join code (as the event state
is: webapp/access.py PUBLIC_ENDPOINTS); the scores' spreadsheet is its organisers' (the
API key or token, or a signed-in session following the console's link). Answers are
votes: POST /votes with the player's voter_id (webapp/api/topics.py).
"""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, Response, current_app, request

from core.rules.errors import EventNotFound
from core.schemas.quiz import Leaderboard, LeaderboardQuery, PlayerIn, PlayerOut
from webapp import services
from webapp.api.openapi import doc
from webapp.body import parse
from webapp.htmx import polled
from webapp.limits import event_by_code
from webapp.lookup import valid_id

bp = Blueprint("quiz_api", __name__)


@bp.url_value_preprocessor
def _check_event_id(endpoint, values):
    """Ids in paths that could never exist are plain 404s, not store errors."""
    if values and "event_id" in values and valid_id(values["event_id"]) is None:
        raise EventNotFound(values["event_id"])


@bp.post("/events/code/<code>/players")
@doc("Join an event's quiz with a nickname (public)", body=PlayerIn,
     responses={201: PlayerOut, 200: PlayerOut}, status=201, errors=(409, 410, 429))  # fmt: skip
def join(code):
    """A nickname unique in the event in any case (409 when taken), not on the block
    lists (422). The same voter joining again with the same nickname: 200, as it is."""
    data = parse(PlayerIn)
    event = event_by_code(code)
    player, new = services.players().join(event, data.name, data.voter_id, data.team)
    return PlayerOut.render(player), 201 if new else 200


@bp.get("/events/code/<code>/leaderboard")
@doc("An event's leaderboard by join code (public; send If-None-Match)", query=LeaderboardQuery,
     responses={200: Leaderboard}, errors=(410, 429))  # fmt: skip
def leaderboard(code):
    """The top `limit` players by score (equal scores share a rank), the asking player's
    own row with `voter_id`, and the team board when the event has teams."""
    query = LeaderboardQuery.model_validate(request.args.to_dict())
    event = event_by_code(code)
    board = services.players().leaderboard(event, query.limit, query.voter_id)
    body = json.dumps(Leaderboard.render(board), separators=(",", ":"), ensure_ascii=False)
    etag = hashlib.sha256(body.encode()).hexdigest()[:24]
    return polled(etag, lambda: current_app.response_class(body, mimetype="application/json"))


@bp.get("/events/<event_id>/scores.csv")
@doc("Download an event's quiz scores as CSV: player x question (admin)",
     responses={200: "text/csv"}, errors=(404,))  # fmt: skip
def scores_csv(event_id):
    """One row per player and quiz question (answer, correct, seconds, points), then each
    player's total; streamed."""
    events = services.events()
    event = events.event(event_id, fresh=True)  # a 404 before the first byte
    topics = [q["topic"] for q in events.questions(event) if q["topic"] is not None]
    chunks = services.players().scores_csv(event, topics)
    response = Response(chunks, mimetype="text/csv")
    name = f"scores-{event['code']}.csv"
    response.headers.set("Content-Disposition", "attachment", filename=name)
    response.headers["Cache-Control"] = "no-store"
    return response
