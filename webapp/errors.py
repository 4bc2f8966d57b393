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

from webapp.i18n import N_
from webapp.refusals import OUTAGES, REFUSALS, refusal_for

log = logging.getLogger(__name__)

# Blueprints whose every answer is JSON, whatever the client accepts.
JSON_BLUEPRINTS = {"api", "events_api", "accounts_api", "qna_api", "quiz_api", "health",
                   "docs"}  # fmt: skip


def wants_json() -> bool:
    if request.blueprint in JSON_BLUEPRINTS:
        return True
    if request.blueprint is not None:
        return False
    # No view matched (404/405): browsers ask for text/html explicitly, while
    # API clients such as curl send */*, which gets JSON.
    best = request.accept_mimetypes.best_match(["application/json", "text/html"])
    return best != "text/html" or request.mimetype == "application/json"


# What the error page's heading says for each status (a status not here: the fallback).
STATUS_HEADINGS = {
    400: N_("That request did not work"),
    401: N_("Sign-in needed"),
    403: N_("Not allowed"),
    404: N_("We could not find that"),
    405: N_("Not allowed here"),
    409: N_("That clashed with a change"),
    413: N_("That was too big"),
    415: N_("Unsupported format"),
    422: N_("Please check what you sent"),
    429: N_("Slow down a little"),
    503: N_("Back in a moment"),
}
FALLBACK_HEADING = N_("Something went wrong")


def status_heading(status: int) -> str:
    """The error page's heading for `status`, in the page's language."""
    return gettext(STATUS_HEADINGS.get(status, FALLBACK_HEADING))


def said_in_place(exc: Exception) -> tuple[str, int]:
    """A refusal of refusals.SAID_IN_PLACE as a fragment says it: its words in the page's
    language (where the table has none, the error page's heading for its status), and
    its status."""
    refusal = refusal_for(exc)
    return refusal.message_of(exc) or status_heading(refusal.status), refusal.status


def error_response(status: int, detail, headers: dict | None = None, message: str | None = None):
    """The answer for an error, JSON or HTML by what the client wants.

    `message`: what the page says, already in its language (else the detail, translated).
    """
    if wants_json():
        response = jsonify(detail=detail)
    else:
        detail = detail if isinstance(detail, str) else N_("The form has errors.")
        message = message or _said(detail)
        page = render_template("error.html", status=status, detail=detail, message=message,
                               heading=status_heading(status))  # fmt: skip
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


def refused(exc: Exception):
    """A refusal of the table (webapp/refusals.py): its status, and its detail or message."""
    refusal = refusal_for(exc)
    if isinstance(exc, OUTAGES):
        log.error("%s: %s", type(exc).__name__, exc)
    return error_response(
        refusal.status, refusal.detail_of(exc), refusal.headers(exc), refusal.message_of(exc)
    )


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

    for error in REFUSALS:
        app.register_error_handler(error, refused)

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        return error_response(500, N_("Internal error"))
