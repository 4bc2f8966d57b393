"""One error path: JSON `{"detail": ...}` for API clients, an HTML page for browsers.

No request ends in a stack trace: anything unexpected is logged here and
answered with a plain 500 message.
"""

from __future__ import annotations

import logging

from flask import Flask, jsonify, make_response, render_template, request
from flask_babel import get_locale, gettext
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException

from core.rules.errors import (
    AlreadyVoted,
    BadCursor,
    ChoiceNotInTopic,
    Conflict,
    FieldInvalid,
    NotFound,
    QueueUnavailable,
    RulesConflict,
    RulesLocked,
    StoreUnavailable,
    TopicClosed,
    TopicNotFound,
    VoterRequired,
)
from webapp.i18n import N_

log = logging.getLogger(__name__)

# Blueprints whose every answer is JSON, whatever the client accepts.
JSON_BLUEPRINTS = {"api", "events_api", "accounts_api", "health", "docs"}


def wants_json() -> bool:
    if request.blueprint in JSON_BLUEPRINTS:
        return True
    if request.blueprint is not None:
        return False
    # No view matched (404/405): browsers ask for text/html explicitly, while
    # API clients such as curl send */*, which gets JSON.
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best != "text/html" or request.mimetype == "application/json"


def error_response(status: int, detail, headers: dict | None = None):
    """The answer for an error, JSON or HTML by what the client wants."""
    if wants_json():
        response = jsonify(detail=detail)
    else:
        detail = detail if isinstance(detail, str) else N_("The form has errors.")
        page = render_template("error.html", status=status, detail=detail, message=_said(detail))
        response = make_response(page)
    response.status_code = status
    response.headers.update(headers or {})
    return response


def _said(detail: str) -> str | None:
    """The detail in the page's language. One nobody translated (a library's own words,
    werkzeug's or Flask-WTF's) is left out of a page in another language than English:
    the page's translated heading says what went wrong."""
    if not detail:
        return None  # gettext("") is the catalogue's header
    said = gettext(detail)
    if said == detail and str(get_locale() or "en") != "en":
        return None
    return said


def validation_detail(exc: ValidationError) -> list[dict]:
    """Pydantic's errors in the shape FastAPI used: loc, msg, type."""
    return [
        {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
        for e in exc.errors(include_url=False, include_context=False, include_input=False)
    ]


# Domain refusals and what the client is told: one fixed status and message each.
REFUSALS = {
    TopicNotFound: (404, N_("Topic not found")),
    NotFound: (404, N_("Not found")),
    # 409, not 422: the body is well formed (the schema takes it); the topic's state
    # refuses it. 422 is kept for bodies /openapi.json itself refuses.
    ChoiceNotInTopic: (409, N_("choice_id is not a choice of this topic")),
    TopicClosed: (409, N_("This topic is closed: it does not take votes")),
    VoterRequired: (409, N_("voter_id is required: this topic counts one vote per voter")),
    AlreadyVoted: (409, N_("You have already voted on this topic")),
    Conflict: (409, N_("It changed while you were working on it; reload and try again")),
    RulesLocked: (
        409,
        N_("This question has votes: its type and rules cannot change (reset its results first)"),
    ),
}


def field_detail(exc: FieldInvalid) -> list[dict]:
    """A refusal naming one field (a vote's answer, a question's settings), in the shape
    of pydantic's errors (validation_detail), so clients read every 422 alike."""
    return [{"loc": [exc.field], "msg": exc.message, "type": exc.kind}]


def _answer(status: int, detail: str):
    return lambda exc: error_response(status, detail)


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        headers = {}
        if exc.code == 405 and exc.valid_methods:
            headers["Allow"] = ", ".join(exc.valid_methods)
        return error_response(exc.code or 500, exc.description, headers)

    @app.errorhandler(ValidationError)
    def invalid(exc: ValidationError):
        return error_response(422, validation_detail(exc))

    for error, (status, detail) in REFUSALS.items():
        app.register_error_handler(error, _answer(status, detail))

    @app.errorhandler(RulesConflict)
    def rules_conflict(exc: RulesConflict):
        return error_response(409, exc.message)

    @app.errorhandler(FieldInvalid)
    def field_invalid(exc: FieldInvalid):
        return error_response(422, field_detail(exc))

    @app.errorhandler(BadCursor)
    def bad_cursor(exc):
        return error_response(422, str(exc))

    @app.errorhandler(QueueUnavailable)
    def queue_down(exc):
        log.error("queue unavailable: %s", exc)
        detail = N_("The vote queue is unavailable; the vote was not taken")
        return error_response(503, detail, {"Retry-After": "5"})

    @app.errorhandler(StoreUnavailable)
    def store_down(exc):
        log.error("store unavailable: %s", exc)
        detail = N_("The database is unavailable; try again shortly")
        return error_response(503, detail, {"Retry-After": "5"})

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, N_("Internal error"))
