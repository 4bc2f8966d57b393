"""The JSON API of events: the presenter's writes (admin key), the audience's one read.

Writes take the admin key exactly as the topic endpoints do. The public read,
GET /events/code/<code>, is what audience clients poll: it answers from the
per-process caches (at most one event read per event per second per
process) and carries an ETag, so an unchanged state is a bodiless 304.
"""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, current_app, request

from core.rules.clock import iso
from core.rules.errors import EventNotFound
from core.rules.events import expires_at
from core.schemas.accounts import HostIn, People
from core.schemas.events import (
    EventIn,
    EventOut,
    EventState,
    EventStateQuery,
    EventUpdate,
    GoIn,
    MoveIn,
    QuestionIn,
    ResultsIn,
    VotingIn,
)
from core.schemas.topics import TopicCleared
from webapp import services
from webapp.access import current_actor, owner_only, request_actor
from webapp.api.openapi import doc
from webapp.body import parse
from webapp.htmx import polled
from webapp.limits import event_by_code
from webapp.lookup import valid_id

bp = Blueprint("events_api", __name__)


@bp.url_value_preprocessor
def _check_event_id(endpoint, values):
    """Ids in paths that could never exist are plain 404s, not store errors."""
    if values and "event_id" in values and valid_id(values["event_id"]) is None:
        raise EventNotFound(values["event_id"])


def _out(event: dict) -> dict:
    events = services.events()
    return EventOut.render(event, events.questions(event), expires_at(event, events.idle_days))


# -- the presenter's API (admin key) ---------------------------------------------------


@bp.post("/events")
@doc("Create an event (admin)", body=EventIn, responses={201: EventOut}, status=201,
     errors=(404,))  # fmt: skip
def create_event():
    """A new event with a fresh join code; `questions` are existing topic ids."""
    data = parse(EventIn)
    events = services.events()
    event = events.create(data.title, data.questions, data.results, qna=data.qna, teams=data.teams)
    return _out(event), 201


@bp.get("/events")
@doc("List events, newest first (admin)", responses={200: list[EventOut]})
def list_events():
    """The events the caller owns or co-hosts (every event, for an admin)."""
    return [_out(e) for e in services.access().events_for(current_actor())]


@bp.get("/events/<event_id>")
@doc("Get an event (admin)", responses={200: EventOut})
def get_event(event_id):
    return _out(services.events().event(event_id, fresh=True))


@bp.put("/events/<event_id>")
@doc("Rename an event, or change its teams (admin)", body=EventUpdate, responses={200: EventOut},
     errors=(409,))  # fmt: skip
def update_event(event_id):
    data = parse(EventUpdate)
    expiry = {}
    if "expires_at" in data.model_fields_set:
        expiry["expires_at"] = iso(data.expires_at) if data.expires_at else None
    return _out(
        services.events().rename(event_id, data.title, qna=data.qna, teams=data.teams, **expiry)
    )


@bp.delete("/events/<event_id>")
@doc("Delete an event; its topics and votes stay (its owner or an admin)",
     responses={200: EventOut}, errors=(403, 409))  # fmt: skip
@owner_only
def delete_event(event_id):
    events = services.events()
    event = events.event(event_id, fresh=True)
    answer = _out(event)
    events.delete(event_id)
    return answer


@bp.post("/events/<event_id>/duplicate")
@doc("Duplicate an event: new code, new topics, no votes (admin)", responses={201: EventOut},
     status=201, errors=(409,))  # fmt: skip
def duplicate_event(event_id):
    return _out(services.events().duplicate(event_id)), 201


@bp.post("/events/<event_id>/questions")
@doc("Add a question: an existing topic or a new one (admin)", body=QuestionIn,
     responses={201: EventOut}, status=201, errors=(404, 409))  # fmt: skip
def add_question(event_id):
    data = parse(QuestionIn)
    event = services.event_questions().add_question(
        event_id, topic_id=data.topic_id, topic=data.topic, results=data.results
    )
    return _out(event), 201


@bp.post("/events/<event_id>/questions/<int:index>/move")
@doc("Move a question to another place (admin)", body=MoveIn, responses={200: EventOut},
     errors=(409,))  # fmt: skip
def move_question(event_id, index):
    data = parse(MoveIn)
    return _out(services.event_questions().move_question(event_id, index, data.to))


@bp.delete("/events/<event_id>/questions/<int:index>")
@doc("Remove a question; its topic and votes stay (admin)", responses={200: EventOut},
     errors=(409,))  # fmt: skip
def remove_question(event_id, index):
    return _out(services.event_questions().remove_question(event_id, index))


@bp.post("/events/<event_id>/questions/<int:index>/duplicate")
@doc("Duplicate a question right after it: same content, no votes, closed (admin)",
     responses={201: EventOut}, status=201, errors=(409,))  # fmt: skip
def duplicate_question(event_id, index):
    return _out(services.event_questions().duplicate(event_id, index)), 201


@bp.post("/events/<event_id>/questions/<int:index>/reset")
@doc("Reset a question's results: its votes, ballots and tallies go (admin)",
     responses={200: TopicCleared}, errors=(409,))  # fmt: skip
def reset_question(event_id, index):
    """Votes still queued for it are recorded as rejected (`reset`), never counted."""
    _, cleared = services.event_questions().reset(event_id, index)
    return cleared


@bp.post("/events/<event_id>/position")
@doc("Advance: next, previous, or a position (admin)", body=GoIn, responses={200: EventOut},
     errors=(409,))  # fmt: skip
def go(event_id):
    """A waiting question arrived at opens; an open question left behind closes."""
    data = parse(GoIn)
    events = services.events()
    if data.to == "next":
        return _out(events.step(event_id, +1))
    if data.to == "previous":
        return _out(events.step(event_id, -1))
    return _out(events.go_to(event_id, data.to))


@bp.post("/events/<event_id>/results")
@doc("Reveal or hide the current question's results (admin)", body=ResultsIn,
     responses={200: EventOut}, errors=(409,))  # fmt: skip
def set_results(event_id):
    data = parse(ResultsIn)
    return _out(services.events().set_results(event_id, data.shown))


@bp.post("/events/<event_id>/voting")
@doc("Open or close voting on the current question (admin)", body=VotingIn,
     responses={200: EventOut}, errors=(409,))  # fmt: skip
def set_voting(event_id):
    data = parse(VotingIn)
    return _out(services.events().set_open(event_id, data.open))


# -- owner and co-hosts ---------------------------------------------------------------------


@bp.get("/events/<event_id>/hosts")
@doc("An event's owner and co-hosts", responses={200: People})
def list_hosts(event_id):
    return services.access().people(services.events().event(event_id, fresh=True))


@bp.post("/events/<event_id>/hosts")
@doc("Add a co-host by their account's email: they may present and edit the event and its "
     "questions (its owner or an admin)", body=HostIn, responses={201: People}, status=201,
     errors=(403,))  # fmt: skip
@owner_only
def add_host(event_id):
    """404 when no account has the email; adding a co-host again changes nothing."""
    data = parse(HostIn)
    return services.access().add_host(event_id, data.email), 201


@bp.delete("/events/<event_id>/hosts/<host_id>")
@doc("Remove a co-host (its owner or an admin)", responses={200: People}, errors=(403,))
@owner_only
def remove_host(event_id, host_id):
    return services.access().remove_host(event_id, host_id)


# -- the audience's read ----------------------------------------------------------------


@bp.get("/events/code/<code>")
@doc("An event's current state by join code (public; send If-None-Match)", query=EventStateQuery,
     responses={200: EventState}, errors=(410, 429))  # fmt: skip
def event_state(code):
    """Case-insensitive code; counts only while the presenter shows the results."""
    query = EventStateQuery.model_validate(request.args.to_dict())
    events = services.events()
    event = event_by_code(code)
    manager = services.access().manages_event(request_actor(), event)
    question, topic, counts = events.on_screen(event, query.voter_id, manager)
    body = json.dumps(EventState.render(event, question, topic, counts), separators=(",", ":"))
    etag = hashlib.sha256(body.encode()).hexdigest()[:24]
    return polled(etag, lambda: current_app.response_class(body, mimetype="application/json"))
