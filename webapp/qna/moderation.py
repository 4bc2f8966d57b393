"""The presenter's side of audience questions: the moderation queue, the event's Q&A mode,
and the projector's board.

- The queue (templates/qna/_moderation.html) is on the event's console page
  (`/admin/events/<id>`): the questions waiting for approval (approve, dismiss) and
  the room's list by upvotes (answer now, i.e. pin; stop answering; mark answered;
  dismiss). Every button is a plain form (CSRF token): htmx swaps the queue, without
  JavaScript the form posts and comes back. It polls every few seconds with its ETag.
- The mode (off, open, moderated) is a form of the same page.
- The board (templates/qna/_board.html) is what the projector shows instead of the
  poll (`/admin/events/<id>/present?show=qna`, the A key): the top BOARD_SIZE
  questions, the one being answered (pinned) first and marked in words, answered
  ones marked too; it polls with its ETag. Never a pending question: the room sees it.

Who may is webapp/access.py's gate, as for every admin page (a signed-in session of
the event's owner, a co-host or an admin). The rules are core/services/qna.py's.
"""

from __future__ import annotations

import hashlib
import json

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext

from core.rules.errors import Conflict, NotShown, QuestionNotFound
from core.rules.qna import QNA_OFF
from core.services.qna import mode_of
from webapp import services
from webapp.htmx import is_htmx, polled, vary
from webapp.i18n import N_
from webapp.lookup import valid_id
from webapp.refusals import refusal_for

bp = Blueprint("qna_admin", __name__, url_prefix="/admin/events")

POLL_SECONDS = 2
# The projector's board: what the back of the room can read at once.
BOARD_SIZE = 4
MODES = ("off", "open", "moderated")
# A button of the queue -> (state, pinned) for the service. Answered is also no longer
# being answered: it leaves the pin.
DECISIONS = {
    "approved": ("approved", None),
    "dismissed": ("dismissed", None),
    "answered": ("answered", False),
    "pin": (None, True),
    "unpin": (None, False),
}


def _event(event_id: str) -> dict:
    if valid_id(event_id) is None:
        abort(404, N_("Event not found"))
    return services.events().event(event_id, fresh=True)


def _etag(fingerprint) -> str:
    return hashlib.sha256(json.dumps(fingerprint).encode()).hexdigest()[:24]


def _shown(questions: list[dict]) -> list:
    return [(q["id"], q["upvotes"], q["state"], q["pinned"]) for q in questions]


# -- the queue ----------------------------------------------------------------------------


def moderation_context(event: dict, message: str | None = None) -> dict:
    """What templates/qna/_moderation.html needs: the mode, and while it is on, the
    waiting questions (oldest first) and the room's list (by upvotes)."""
    mode = mode_of(event)
    view = {"event": event, "mode": mode, "modes": MODES, "message": message,
            "pending": [], "listed": [], "poll_seconds": POLL_SECONDS}  # fmt: skip
    if mode != QNA_OFF:
        qna = services.qna()
        view["pending"] = qna.pending(event)
        view["listed"] = qna.listed(event, "top")
    view["etag"] = _etag([mode, [q["id"] for q in view["pending"]], _shown(view["listed"])])
    return view


def _back(event_id: str):
    return redirect(url_for("events_admin.edit", event_id=event_id, _anchor="qna"), 303)


@bp.get("/<event_id>/qna")
def queue(event_id):
    """The queue, polled: 304 while nothing in it changed."""
    event = _event(event_id)
    if not is_htmx():
        return _back(event_id)
    view = moderation_context(event)
    return polled(view["etag"], lambda: render_template("qna/_moderation.html", mod=view))


@bp.post("/<event_id>/qna/<question_id>")
def decide(event_id, question_id):
    """One button of the queue: approve, dismiss, answer now (pin), stop, mark answered."""
    decision = DECISIONS.get(request.form.get("decision", ""))
    if decision is None:
        abort(422, N_("Unknown action"))
    event = _event(event_id)
    message, status = None, 200
    try:
        if valid_id(question_id) is None:
            raise QuestionNotFound(question_id)
        services.qna().moderate(event, question_id, *decision)
    except (QuestionNotFound, NotShown, Conflict) as exc:
        refusal = refusal_for(exc)
        message, status = refusal.message_of(exc), refusal.status
    if not is_htmx():
        if message:
            flash(message)
        return _back(event_id)
    body = render_template("qna/_moderation.html", mod=moderation_context(event, message))
    return vary(make_response(body, status))


@bp.post("/<event_id>/qna-mode")
def set_mode(event_id):
    """The event's Q&A mode: off, open (shown as asked) or moderated (shown once approved)."""
    mode = request.form.get("qna", "")
    if mode not in MODES:
        abort(422, N_("Unknown action"))
    event = _event(event_id)
    services.events().rename(event_id, event["title"], mode)
    flash({"off": gettext("Audience questions are off."),
           "open": gettext("Audience questions are open: shown as they are asked."),
           "moderated": gettext("Audience questions are moderated: shown once you approve them."),
           }[mode])  # fmt: skip
    return _back(event_id)


# -- the projector's board ----------------------------------------------------------------


def board_context(event: dict) -> dict:
    """What templates/qna/_board.html needs: the top BOARD_SIZE of the room's list."""
    on = mode_of(event) != QNA_OFF
    top = services.qna().listed(event, "top")[:BOARD_SIZE] if on else []
    return {"event": event, "on": on, "questions": top, "poll_seconds": POLL_SECONDS,
            "etag": _etag([on, _shown(top)])}  # fmt: skip


@bp.get("/<event_id>/present/qna")
def board(event_id):
    """The projector's board, polled: 304 while its questions stay put."""
    event = services.events().event(event_id) if valid_id(event_id) else _event(event_id)
    view = board_context(event)
    return polled(view["etag"], lambda: render_template("qna/_board.html", board=view))
