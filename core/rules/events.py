"""What an event is: one join code for a talk, its questions in order, where the room is.

An event is a plain dict as stored in the events table (core/aws/events.py):
    id, code, title, created, last_upd, version, position,
    questions [{topic_id, state, results}]
- A question is a topic: votes on it go through the Voting service and its
  queue like any other. The event only orders the topics and says which
  one the room is on.
- `position` is the index of the current question, or LOBBY (-1) before the
  first one: the audience is told to wait for the next question.
- `state`: waiting (never shown yet), open or closed. Opening and closing set
  the topic's is_active in the event's own write (one transaction), so the
  topic's is_active (which intake and the worker's transaction check) is what
  decides whether a vote counts, and it always agrees with the question's state.
- `results`: shown or hidden, on phones and the projector alike.
- `qna` and `teams` (optional, absent when off or none: `stored_settings`): whether
  it takes audience questions (core/rules/formats/qna.py), a quiz's teams.
- `moved_at` (optional, absent until the presenter first moves): when `position`
  last changed, so how long the current question has been on screen.
- `expires_at` (optional): when its organiser wants it to end; without it, the
  event ends its settings' idle days after its last change (`last_upd`). An
  ended event is archived: its code joins nothing, its organisers still have it.

Moving on: going to a question that is still waiting opens it, and leaving
a question that is open closes it, so the room votes on one question at a
time and the presenter needs one key press per slide.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from core.rules.errors import BadPosition
from core.rules.formats.quiz import checked_teams

QuestionState = Literal["waiting", "open", "closed"]
ResultsShown = Literal["shown", "hidden"]
LOBBY = -1
MAX_QUESTIONS = 100


def expires_at(event: dict, idle_days: int) -> str:
    """When the event ends (ISO time): its own `expires_at`, else `idle_days` after its
    last change."""
    if event.get("expires_at"):
        return event["expires_at"]
    ends = datetime.fromisoformat(event["last_upd"]) + timedelta(days=idle_days)
    return ends.isoformat(timespec="microseconds")


def has_ended(event: dict, now: str, idle_days: int) -> bool:
    return expires_at(event, idle_days) <= now


def stored_settings(settings: dict) -> dict:
    """What an event stores of its settings (`qna`, `teams`): those unlike the default
    (absent: no audience questions, no teams, as for an event stored before either)."""
    stored = {"qna": settings["qna"]} if settings.get("qna", "off") != "off" else {}
    if settings.get("teams"):
        stored["teams"] = checked_teams(settings["teams"])
    return stored


def current(event: dict) -> dict | None:
    """The current question ({index, topic_id, state, results}), or None in the lobby."""
    if event["position"] == LOBBY:
        return None
    return {"index": event["position"], **event["questions"][event["position"]]}


def new_question(topic_id: str, results: ResultsShown) -> dict:
    return {"topic_id": topic_id, "state": "waiting", "results": results}


def check_index(questions: list, index: int) -> None:
    if not 0 <= index < len(questions):
        raise BadPosition(f"no question {index}: the event has {len(questions)}")
