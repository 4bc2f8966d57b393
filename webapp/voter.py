"""The browser voter's id: a random value in a signed, HttpOnly cookie.

Set on the first visit to a voter page and sent with every vote cast from
the pages (`Voting.cast(..., voter_id=...)`), so per-voter rules can tell
browsers apart. It is a cookie of its own, not a key in Flask's session,
so an admin signing out (which clears the session) keeps their voter id.

Signed with the app's SECRET_KEY (itsdangerous, its own salt): a tampered or
foreign cookie is ignored and replaced. The id proves nothing about a person;
it only stops casual double voting from one browser.

What a voter page keeps in Flask's session (the votes cast on an event's
questions, webapp/audience/stage.py; the form's CSRF token) outlives a browser
restart as the voter id does: a voter's session is made permanent when it is
written (Flask's PERMANENT_SESSION_LIFETIME, 31 days since the last write). A
signed-in admin's session is left a browser session.
"""

from __future__ import annotations

import secrets

from flask import current_app, g, request, session
from itsdangerous import BadSignature, URLSafeSerializer

from webapp.auth import SESSION_KEY
from webapp.security import cookie_secure

COOKIE = "voter"
SALT = "voter-id"
# Chrome caps cookie lifetimes at 400 days; asking for more is pointless.
MAX_AGE = 400 * 24 * 3600


def serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def new_id() -> str:
    # Fits models.VoterId (letters, digits, "._:@-"), so it travels through
    # the queue like a voter_id sent to the API.
    return f"b-{secrets.token_hex(16)}"


def current() -> str:
    """This browser's voter id: from its cookie if valid, else a new one (set on the response)."""
    if "voter_id" in g:
        return g.voter_id
    raw = request.cookies.get(COOKIE)
    voter_id = None
    if raw:
        try:
            value = serializer().loads(raw)
            voter_id = value if isinstance(value, str) else None
        except BadSignature:
            voter_id = None
    g.voter_id_is_new = voter_id is None
    g.voter_id = voter_id or new_id()
    return g.voter_id


def remember(response):
    """after_request: give a browser without a (valid) voter cookie its id, and keep what
    its session holds past a browser restart."""
    if session.modified and not session.permanent and SESSION_KEY not in session:
        session.permanent = True
    current()
    if g.get("voter_id_is_new"):
        response.set_cookie(
            COOKIE,
            serializer().dumps(g.voter_id),
            max_age=MAX_AGE,
            httponly=True,
            samesite="Lax",
            secure=cookie_secure(),
        )
    return response


def init_app(blueprint) -> None:
    """Set the cookie on the responses of `blueprint` (the voter pages)."""
    blueprint.after_request(remember)
