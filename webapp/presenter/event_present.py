"""The presenter view (signed in): what the projector shows, and its control bar.

The current question full screen with its results or, until they are
revealed, its choices and how many have answered (never a count per choice),
with the countdown to its deadline; the join code and QR code always; and a
slim control bar whose buttons are plain forms (htmx swaps the stage; without
JavaScript they post and come back; a refused one is said on the stage, which
shows the event as it now is). static/presenter.js adds the keyboard
shortcuts (a clicker's too), hides the controls while the pointer rests and
blanks the screen. Kept current by the event's stream (webapp/push/: the
stage, and its results or answer count), else by polling. With
`show=qna`, the room's top questions instead (webapp/qna/moderation.py).
Every rule is in core/services/events.py; these views render.
"""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from flask_babel import get_locale

from core.rules.clock import utc_now
from core.rules.events import LOBBY
from core.rules.formats.quiz import is_quiz
from core.rules.question_types import votes_counted
from core.rules.topics import seconds_to_close
from webapp import services
from webapp.audience.quiz_stage import is_quiz_event
from webapp.errors import said_in_place
from webapp.htmx import is_htmx, polled, vary
from webapp.i18n import N_
from webapp.lookup import get_event, shown, valid_id
from webapp.presenter import console
from webapp.presenter.quiz_present import projector_view
from webapp.presenter.topic_present import qr_svg
from webapp.public_url import join_target
from webapp.push.hub import ABSENT, digest, join_ids
from webapp.qna import moderation as qna_admin
from webapp.refusals import SAID_IN_PLACE
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
            "quiz_event": is_quiz_event(event), "answers": None, "closes_in": None}  # fmt: skip
    fingerprint = [event["version"], event["position"], question]
    if topic:
        view["topic"] = shown(topic)
        fingerprint += [topic["last_upd"], view["topic"]["is_open"]]
        if is_quiz(topic):  # time running out, scores arriving
            view["quiz"] = projector_view(event, question, view["topic"])
            fingerprint.append(view["quiz"]["fingerprint"])
        elif question["results"] != "shown":
            # Only the total, in its own region (answers_version): a vote never
            # rebuilds the stage and its controls (nor moves keyboard focus).
            view["answers"] = votes_counted(topic, services.topics().counts(topic["id"]))
            view["answers_etag"] = answers_version(view)
        if view["topic"]["is_open"]:  # counted down on the page (static/quiz.js)
            view["closes_in"] = seconds_to_close(topic, utc_now())
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


def answers_version(stage: dict) -> str:
    """The version of the answer count shown while results are hidden (the language
    too: the words are the page's)."""
    return digest(["answers", stage["answers"], str(get_locale())])


def stage_versions(stage: dict) -> tuple[str, str]:
    """The versions of the projected stage's regions for its event stream: the stage, and
    its results (the revealed panel, or while they are hidden the answer count)."""
    results = stage.get("results")
    if results:
        return digest(stage["etag"]), digest(results["partial_etag"])
    if stage.get("answers") is not None:
        return digest(stage["etag"]), stage["answers_etag"]
    return digest(stage["etag"]), ABSENT


def _render_stage(event: dict, view: dict, streamed: bool = False, message: str | None = None):
    return render_template("events/_present_stage.html", event=event, message=message,
                           stage=with_results(view, streamed), streamed=streamed)  # fmt: skip


@bp.get("/<event_id>/present")
def present(event_id):
    """Full screen for the projector: the current question, the code and QR, the controls;
    with `show=qna`, the room's top questions instead (webapp/qna/moderation.py)."""
    event = get_event(event_id)
    # The room's questions instead of the poll (the A key), while the event takes them:
    # polled on their own (the stream pushes the poll's stage, not shown then).
    board = qna_admin.board_context(event) if request.args.get("show") == "qna" else None
    if board and board["on"]:
        join_url = join_target(event).url
        return render_template("events/present.html", event=event, board=board,
                               join_url=join_url, qr=qr_svg(join_url))  # fmt: skip
    return present_page(event)


def present_page(event: dict, message: str | None = None) -> str:
    """The projected view with its stage; `message`: a refused control, said on the stage."""
    join_url = join_target(event).url
    stage = with_results(presenter_stage(event), True)
    # The stream then sends only what moved since this page was rendered.
    last = join_ids(stage_versions(stage))
    return render_template(
        "events/present.html", event=event, stage=stage, message=message,
        join_url=join_url, qr=qr_svg(join_url), streamed=True,
        stream_url=url_for("push.presenter_stream", event_id=event["id"], last=last),
    )  # fmt: skip


@bp.get("/<event_id>/present/stage")
def present_stage(event_id):
    """The projector's stage, polled every second: 304 while nothing changed."""
    event = services.events().event(event_id) if valid_id(event_id) else get_event(event_id)
    view = presenter_stage(event)
    return polled(view["etag"], lambda: _render_stage(event, view))


@bp.get("/<event_id>/present/answers")
def present_answers(event_id):
    """How many have answered the question on screen while its results are hidden, polled
    every second (its stream refused): 304 while that number stays; nothing (204) once
    the results show or the room moved to a question without it."""
    event = services.events().event(event_id) if valid_id(event_id) else get_event(event_id)
    view = presenter_stage(event)
    if view["answers"] is None:
        return make_response("", 204)
    return polled(view["answers_etag"], lambda: render_answers(event, view))


def render_answers(event: dict, view: dict, streamed: bool = False) -> str:
    return render_template("events/_present_answers.html", event=event, stage=view,
                           streamed=streamed)  # fmt: skip


@bp.post("/<event_id>/control")
def control(event_id):
    """One control-bar button: the new stage for htmx, else back to the presenter view;
    one of the console's: its answer (webapp/presenter/console.py).

    A refused one (a co-host moved the room first) keeps the refusal's status and
    answers with the same stage or panel, as the event now is, saying why: htmx
    swaps 409 and 422 in place, and without JavaScript it is the whole page."""
    action = ACTIONS.get(request.form.get("action", ""))
    if action is None:
        abort(422, N_("Unknown action"))
    get_event(event_id)
    message, status = None, 200
    try:
        event = action(services.events(), event_id)
    except SAID_IN_PLACE as exc:
        message, status = said_in_place(exc)
        event = services.events().event(event_id, fresh=True)
    if request.form.get(console.SENT_FROM[0]) == console.SENT_FROM[1]:
        return console.answer(event, message, status)  # back to the console that sent it
    if is_htmx():
        # For the page that asked: its stream keeps it current (or, if the stream
        # failed, static/app.js makes what it swaps in poll).
        stage = _render_stage(event, presenter_stage(event), streamed=True, message=message)
        return vary(make_response(stage, status))
    if message:
        return make_response(present_page(event, message), status)
    return redirect(url_for("event_present.present", event_id=event_id), 303)
