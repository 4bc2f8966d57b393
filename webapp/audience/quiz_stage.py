"""A quiz on the phone: joining an event with a nickname, and what the stage shows a player.

A phone opening a quiz event (one with a quiz question, or with teams) is asked for a
nickname first (and a team when the event has teams); the player is this browser's
voter id, and the session keeps the nickname, so later pages need no read. On a quiz
question the stage shows the seconds left on the server's clock (static/quiz.js counts
them down; without it the page shows the deadline), "time is up" once they ran out,
and once the presenter reveals, this player's outcome and rank (and their team's rank
among the teams, when they play in one).

What changes the stage without the presenter moving (time running out, the player's
answer being scored, the rank) goes into the stage's ETag through `fingerprint`. A
pushed stage (the same for every phone) holds no player's part: `room` is what of
it every phone follows (time up, revealed, then the answers counted and the board's
scores), in the version of the stage's question region, and after each push a phone
asks for its own part (templates/events/_quiz_me.html, static/streams.js).
"""

from __future__ import annotations

import math
from datetime import datetime

from flask import session
from flask_babel import format_time

from core.rules.clock import utc_now
from core.rules.formats.quiz import deadline, is_quiz
from webapp import services, voter

# The events this browser plays, {event_id: nickname}: the most recent few.
_NAMES_KEY = "quiz_names"
REMEMBERED_EVENTS = 10
# The outcomes of this browser's scored answers, {vote_id: [correct, points]}: a
# revealed question reads its answer's record once, then the session.
_OUTCOMES_KEY = "quiz_outcomes"
REMEMBERED_OUTCOMES = 20
# The board a pushed stage follows (a player's rank moves with the scores).
BOARD_SIZE = 10


def is_quiz_event(event: dict) -> bool:
    """Does the event play a quiz: teams, or a quiz question (topics read from the cache)?"""
    if event.get("teams"):
        return True
    return any(is_quiz(q["topic"]) for q in services.events().questions(event))


def _names() -> dict:
    names = session.get(_NAMES_KEY)
    return names if isinstance(names, dict) else {}


def nickname_of(event: dict) -> str | None:
    """This browser's nickname in the event: the session's, else the store's (a player
    whose session was cleared), kept in the session again."""
    name = _names().get(event["id"])
    if name:
        return name
    player = services.players().player(event["id"], voter.current())
    if player is None:
        return None
    keep_nickname(event, player["name"])
    return player["name"]


def keep_nickname(event: dict, name: str) -> None:
    names = {k: v for k, v in _names().items() if k != event["id"]}
    names[event["id"]] = name
    session[_NAMES_KEY] = dict(list(names.items())[-REMEMBERED_EVENTS:])


def join(event: dict, form) -> dict:
    """This browser joins the event with the form's nickname (and team); the player, or
    the players service's refusal (FieldInvalid, NameTaken, AlreadyJoined)."""
    team = form.get("team") or None
    player, _ = services.players().join(event, form.get("name", ""), voter.current(), team)
    keep_nickname(event, player["name"])
    return player


def seconds_left(topic: dict, now: str) -> int:
    """Whole seconds until the question's deadline on the server's clock (0 once past)."""
    until = datetime.fromisoformat(deadline(topic)) - datetime.fromisoformat(now)
    return max(0, math.ceil(until.total_seconds()))


def clock_view(topic: dict) -> dict:
    """The countdown of an asked quiz question: {remaining, deadline (ISO), deadline_text
    (the time in the page's language, UTC), time_up}."""
    now = utc_now()
    ends = deadline(topic)
    if ends is None:  # not asked yet: no clock
        return {"remaining": None, "deadline": None, "deadline_text": "", "time_up": False}
    time_up = not topic["is_open"] or now > ends
    return {
        "remaining": 0 if time_up else seconds_left(topic, now),
        "deadline": ends,
        "deadline_text": format_time(datetime.fromisoformat(ends), "medium") + " UTC",
        "time_up": time_up,
    }


def player_view(event: dict, topic: dict, question: dict, vote_id: str | None,
                in_session: bool, pushed: bool = False) -> dict:  # fmt: skip
    """The quiz part of a phone's stage: the clock, and once revealed this player's
    `outcome` ({correct, points}, or None while their answer is still queued; "none"
    without an answer), `me` (their board row, with rank) and `team` (their team's row
    on the team board, with `of`: how many teams; None without one). `fingerprint`:
    what of it the stage's ETag covers; `nickname`, the session's; `room`: what every
    phone's stage follows. `pushed`: for every phone at once, so no player's part."""
    view = clock_view(topic)
    view.update(
        revealed=question["results"] == "shown",
        outcome=None,
        me=None,
        team=None,
        nickname=_names().get(event["id"]) if in_session and not pushed else None,
    )
    view["room"] = room_facts(event, topic, view)
    if view["revealed"] and not pushed:
        view["outcome"] = _outcome(vote_id, in_session) if vote_id else "none"
        # Only a browser that joined here has a rank: no player read for anyone else.
        player = view["nickname"] and services.players().player(event["id"], voter.current())
        if player:
            standings = services.players().standings(event["id"])
            view["me"] = standings.row_of(player)
            view["team"] = standings.team_row(view["me"].get("team"))
    view["fingerprint"] = [view["time_up"], view["outcome"], view["me"], view["team"]]
    return view


def room_facts(event: dict, topic: dict, clock: dict) -> list:
    """What of a quiz question every phone's stage follows (the version of its question
    region): time running out, the reveal, and once revealed the answers counted and
    the board's scores, which move a player's outcome (their answer scored) and rank."""
    revealed = bool(clock.get("revealed"))
    facts: list = [clock["time_up"], revealed]
    if revealed:
        facts.append(sorted(services.topics().counts(topic["id"]).items()))
        board = services.players().top(event["id"], BOARD_SIZE)
        facts.append([(row["name"], row["score"]) for row in board])
    return facts


def _outcome(vote_id: str, in_session: bool) -> dict | str | None:
    """The scored answer's {correct, points} (a rejected one: none), or None while queued."""
    outcomes = session.get(_OUTCOMES_KEY) if in_session else None
    outcomes = outcomes if isinstance(outcomes, dict) else {}
    if vote_id in outcomes:
        correct, points = outcomes[vote_id]
        return {"correct": correct, "points": points}
    record = services.voting().vote(vote_id)
    if record is None:
        return None
    score = record.get("score") or {}
    outcome = {"correct": bool(score.get("correct")), "points": int(score.get("points", 0))}
    if in_session:
        kept = {**outcomes, vote_id: [outcome["correct"], outcome["points"]]}
        session[_OUTCOMES_KEY] = dict(list(kept.items())[-REMEMBERED_OUTCOMES:])
    return outcome
