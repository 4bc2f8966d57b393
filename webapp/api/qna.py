"""The JSON API of audience questions: the room asks, reads and upvotes by join code; the
presenter moderates and exports by event id: who may is webapp/access.py's (the key, a
user's token, or a signed-in session with the page's CSRF token; an event's co-hosts
too), as for every admin route.

The rules are core/rules/formats/qna.py's, through core/services/qna.py. The public list
answers from the per-process cache (1 s) with an ETag, as the event's state does.
"""

from __future__ import annotations

import hashlib
import json

from flask import Blueprint, Response, current_app, g, request

from core.rules.errors import EventNotFound, QuestionNotFound
from core.rules.formats.qna import public_view
from core.schemas.qna import (
    AskIn,
    AudienceQuestion,
    ModerationIn,
    ModerationView,
    QnaQuery,
    UpvoteAccepted,
    UpvoteIn,
)
from webapp import services
from webapp.api.openapi import doc
from webapp.body import parse
from webapp.htmx import polled
from webapp.limits import event_by_code, limit_questions, limit_votes
from webapp.lookup import valid_id

bp = Blueprint("qna_api", __name__)


@bp.url_value_preprocessor
def _check_ids(endpoint, values):
    """Ids in paths that could never exist are plain 404s, not store errors."""
    if values and "event_id" in values and valid_id(values["event_id"]) is None:
        raise EventNotFound(values["event_id"])


def _question_id(question_id: str) -> str:
    if valid_id(question_id) is None:
        raise QuestionNotFound(question_id)
    return question_id


# -- the room (public, by join code) ---------------------------------------------------


@bp.post("/events/code/<code>/qna")
@doc("Ask a question (public; rate limited per voter)", body=AskIn,
     responses={201: AudienceQuestion}, status=201, errors=(404, 409, 410, 429))  # fmt: skip
@limit_questions
def ask(code):
    """Shown at once in an open event, held for the presenter in a moderated one, and
    held in any event when the block lists catch it."""
    data = parse(AskIn)
    qna = services.qna()
    event = event_by_code(code)
    question = qna.ask(event, data.text, data.name, data.voter_id)
    return public_view(question), 201


@bp.get("/events/code/<code>/qna")
@doc("The room's questions, top or recent (public; send If-None-Match)", query=QnaQuery,
     responses={200: list[AudienceQuestion]}, errors=(404, 409, 410, 429))  # fmt: skip
def listed(code):
    """Open and answered questions only, at most 20: `top` by upvotes, then the older
    first (pinned ones before), `recent` newest first."""
    query = QnaQuery.model_validate(request.args.to_dict())
    event = event_by_code(code)
    body = json.dumps(services.qna().listed(event, query.sort), separators=(",", ":"))
    etag = hashlib.sha256(body.encode()).hexdigest()[:24]
    return polled(etag, lambda: current_app.response_class(body, mimetype="application/json"))


def _upvote(code: str, question_id: str, withdraw: bool):
    # The body may be left out (a page's or a script's bare POST): no voter named.
    data = parse(UpvoteIn) if request.get_data(cache=True) else UpvoteIn()
    event = event_by_code(code)
    message = services.qna().upvote(
        event, _question_id(question_id), data.voter_id, withdraw=withdraw,
        request_id=g.get("request_id"),
    )  # fmt: skip
    return {"id": message.id, "question_id": question_id, "kind": message.kind,
            "status": "queued"}, 202  # fmt: skip


@bp.post("/events/code/<code>/qna/<question_id>/upvote")
@doc("Upvote a question: once per voter, counted exactly once (public)", body=UpvoteIn,
     responses={202: UpvoteAccepted}, status=202, errors=(404, 409, 410, 429))  # fmt: skip
@limit_votes
def upvote(code, question_id):
    return _upvote(code, question_id, withdraw=False)


@bp.delete("/events/code/<code>/qna/<question_id>/upvote")
@doc("Withdraw an upvote, counted exactly once (public)", body=UpvoteIn,
     responses={202: UpvoteAccepted}, status=202, errors=(404, 409, 410, 429))  # fmt: skip
@limit_votes
def withdraw(code, question_id):
    return _upvote(code, question_id, withdraw=True)


# -- the presenter (admin key, or session + CSRF) ----------------------------------------


@bp.post("/events/<event_id>/qna/<question_id>")
@doc("Moderate a question: approve, answer, dismiss, pin (admin)", body=ModerationIn,
     responses={200: AudienceQuestion}, errors=(404, 409))  # fmt: skip
def moderate(event_id, question_id):
    data = parse(ModerationIn)
    event = services.events().event(event_id)
    question = services.qna().moderate(event, _question_id(question_id), data.state, data.pinned)
    return public_view(question)


@bp.get("/events/<event_id>/qna")
@doc("The moderation queue and the public list (admin)", responses={200: ModerationView},
     errors=(404, 409))  # fmt: skip
def moderation_view(event_id):
    qna = services.qna()
    event = services.events().event(event_id)
    return {
        "pending": [public_view(q) for q in qna.pending(event)],
        "top": qna.listed(event, "top") if event.get("qna") else [],
    }


@bp.get("/events/<event_id>/qna.csv")
@doc("Every question of the event as CSV (admin)", responses={200: "text/csv"}, errors=(404,))
def export_csv(event_id):
    event = services.events().event(event_id, fresh=True)
    # Read before the first byte: an unknown event is a clean 404, not a cut download.
    response = Response(services.qna().csv_chunks(event), mimetype="text/csv")
    response.headers.set("Content-Disposition", "attachment",
                         filename=f"questions-{event_id[:8]}.csv")  # fmt: skip
    response.headers["Cache-Control"] = "no-store"
    return response
