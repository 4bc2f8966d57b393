"""The presenter view (signed in): what the projector shows, and its control bar.

The current question full screen with its results (or a "results hidden"
panel until revealed), the join code and QR code always, and a slim control
bar whose buttons are plain forms (htmx swaps the stage; without JavaScript
they post and come back); static/presenter.js adds the keyboard shortcuts.
Kept current by the event's stream (webapp/push/), else by polling. With
`show=qna`, the room's top questions instead (webapp/qna/moderation.py).
Every rule is in core/services/events.py; these views render.
"""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for

from core.rules.events import LOBBY
from core.rules.formats.quiz import is_quiz
from webapp import services
from webapp.audience.quiz_stage import is_quiz_event
from webapp.htmx import is_htmx, polled, vary
from webapp.i18n import N_
from webapp.lookup import get_event, shown, valid_id
from webapp.presenter import console
from webapp.presenter.quiz_present import projector_view
from webapp.presenter.topic_present import qr_svg
from webapp.public_url import join_target
from webapp.push.hub import ABSENT, digest, join_ids
from webapp.qna import moderation as qna_admin
from webapp.results.panel import results_of

bp = Blueprint("event_present", __name__, url_prefix="/admin/events")

# The control bar's buttons: form value -> what it does.
ACTIONS = {
    "next": lambda events, event_id: events.step(event_id, +1),
    "previous": lambda events, event_id: events.step(event_id, -1),
    "open": lambda events, event_id: events.set_open(event_id, True),
    "close": lambda events, event_id: events.set_open(event_id, False),
    "reveal": lambda events, event_id: events.set_results(event_id, True),
    "hide": lambda events, event_id: events.set_results(event_id, False),
    "lobby": lambda events, event_id: events.go_to(event_id, LOBBY),
    # The current question's results: its votes, ballots and tallies go.
    "reset": lambda events, event_id: services.event_questions().reset(event_id)[0],
}


def presenter_stage(event: dict) -> dict:
    """What the projector shows, and its ETag (the event and topic versions: no counts,
    so hidden results cannot show through it; revealed ones poll on their own)."""
    question, topic, _ = services.events().on_screen(event, is_admin=True)
    view = {"question": question, "topic": None, "results": None, "quiz": None,
            "quiz_event": is_quiz_event(event)}  # fmt: skip
    fingerprint = [event["version"], event["position"], question]
    if topic:
        view["topic"] = shown(topic)
        fingerprint += [topic["last_upd"], view["topic"]["is_open"]]
        if is_quiz(topic):  # time running out, scores arriving
            view["quiz"] = projector_view(event, question, view["topic"])
            fingerprint.append(view["quiz"]["fingerprint"])
    view["etag"] = hashlib.sha256(json.dumps(fingerprint).encode()).hexdigest()[:24]
    return view


def with_results(view: dict, streamed: bool = False) -> dict:
    """The revealed results' view for the template (only ever read once revealed);
    `streamed`: the presenter's event stream keeps them current (webapp/push/)."""
    if view["topic"] and view["question"]["results"] == "shown":
        view["results"] = results_of(view["topic"], streamed=streamed, region=streamed)
    elif view["quiz"] and view["quiz"]["time_up"]:  # a quiz's answers show once time is up
        view["results"] = results_of(view["topic"], streamed=streamed, region=streamed)
    return view


def stage_versions(stage: dict) -> tuple[str, str]:
    """The versions of the projected stage's regions (stage, results) for its event stream."""
    results = stage.get("results")
    return digest(stage["etag"]), digest(results["partial_etag"]) if results else ABSENT


def _render_stage(event: dict, view: dict, streamed: bool = False):
    return render_template("events/_present_stage.html", event=event,
                           stage=with_results(view, streamed), streamed=streamed)  # fmt: skip


@bp.get("/<event_id>/present")
def present(event_id):
    """Full screen for the projector: the current question, the code and QR, the controls;
    with `show=qna`, the room's top questions instead (webapp/qna/moderation.py)."""
    event = get_event(event_id)
    join_url = join_target(event).url
    # The room's questions instead of the poll (the A key), while the event takes them:
    # polled on their own (the stream pushes the poll's stage, not shown then).
    board = qna_admin.board_context(event) if request.args.get("show") == "qna" else None
    if board and board["on"]:
        return render_template("events/present.html", event=event, board=board,
                               join_url=join_url, qr=qr_svg(join_url))  # fmt: skip
    stage = with_results(presenter_stage(event), True)
    # The stream then sends only what moved since this page was rendered.
    last = join_ids(stage_versions(stage))
    return render_template(
        "events/present.html", event=event, stage=stage,
        join_url=join_url, qr=qr_svg(join_url), streamed=True,
        stream_url=url_for("push.presenter_stream", event_id=event["id"], last=last),
    )  # fmt: skip


@bp.get("/<event_id>/present/stage")
def present_stage(event_id):
    """The projector's stage, polled every second: 304 while nothing changed."""
    event = services.events().event(event_id) if valid_id(event_id) else get_event(event_id)
    view = presenter_stage(event)
    return polled(view["etag"], lambda: _render_stage(event, view))


@bp.post("/<event_id>/control")
def control(event_id):
    """One control-bar button: the new stage for htmx, else back to the presenter view;
    one of the console's: its answer (webapp/presenter/console.py)."""
    action = ACTIONS.get(request.form.get("action", ""))
    if action is None:
        abort(422, N_("Unknown action"))
    get_event(event_id)
    event = action(services.events(), event_id)
    if request.form.get(console.SENT_FROM[0]) == console.SENT_FROM[1]:
        return console.answer(event)  # back to the console that sent it
    if is_htmx():
        # For the page that asked: its stream keeps it current (or, if the stream
        # failed, static/app.js makes what it swaps in poll).
        return vary(make_response(_render_stage(event, presenter_stage(event), streamed=True)))
    return redirect(url_for("event_present.present", event_id=event_id), 303)
