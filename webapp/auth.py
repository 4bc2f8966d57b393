"""Who a request acts as: the operator's key, a user's API token, or a signed-in browser.

- The operator key (API_KEY) and users' API tokens are read from `X-API-Key`,
  `Authorization: Bearer ...`, or, for the original service's clients, an
  `api_key` field in the JSON body. Never from the query string (it would end up
  in access logs). The key is compared in constant time; a token is found by the
  id it carries and its SHA-256 compared in constant time (core/services/accounts.py).
- A browser signs in on the admin pages: Flask's signed cookie then holds only a
  random session id whose record is in the users table, so signing out ends the
  session on the server (a copied cookie stops working) and a new sign-in always
  gets a new id. An operator session (API_KEY or ADMIN_PASSWORD) also keeps a
  fingerprint of those secrets: rotating either one ends it.

webapp/access.py decides which routes need whom; this module only says who it is.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app, g, request, session

from core.rules.accounts import THE_OPERATOR, Actor, token_id_of
from core.rules.errors import SignInFailed, TopicNotFound
from webapp import services
from webapp.body import json_body
from webapp.lookup import get_topic

SESSION_KEY = "sid"


def key_matches(candidate: object, expected: str | None) -> bool:
    """Constant-time comparison; anything but a non-empty string (a session of the
    wrong shape, say) simply does not match."""
    if not isinstance(candidate, str) or not candidate or not expected:
        return False
    return hmac.compare_digest(candidate.encode(), expected.encode())


def presented_key() -> str | None:
    header = request.headers.get("X-API-Key")
    if header:
        return header
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    body = json_body(required=False)
    if isinstance(body, dict) and isinstance(body.get("api_key"), str):
        return body["api_key"]
    return None


def key_actor() -> Actor | None:
    """Who the request's key or API token acts as: the operator, a user, or None
    (nothing presented, a wrong key, a made-up, revoked or disabled user's token)."""
    if "key_actor" not in g:
        g.key_actor = _key_actor()
    return g.key_actor


def _key_actor() -> Actor | None:
    presented = presented_key()
    if presented is None:
        return None
    if key_matches(presented, current_app.config["SETTINGS"].api_key):
        return THE_OPERATOR
    if token_id_of(presented) is None:
        return None
    try:
        return services.accounts().token_actor(presented)
    except SignInFailed:
        return None


# -- the admin pages' session ---------------------------------------------------------


def admin_credentials() -> tuple[str | None, str | None]:
    """(API_KEY, ADMIN_PASSWORD): either signs the operator in (break-glass)."""
    settings = current_app.config["SETTINGS"]
    return settings.api_key, settings.admin_password


def session_fingerprint() -> str | None:
    """A digest of the operator's secrets, or None when neither is set."""
    api_key, password = admin_credentials()
    if not api_key and not password:
        return None
    material = f"{api_key or ''}\0{password or ''}".encode()
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, material, hashlib.sha256).hexdigest()


def session_actor() -> Actor | None:
    """Who this browser's session signs in, or None (no session, ended, expired...)."""
    if "session_actor" not in g:
        session_id = session.get(SESSION_KEY)
        actor = None
        if isinstance(session_id, str) and session_id:
            actor = services.accounts().session_actor(session_id, session_fingerprint())
        g.session_actor = actor
    return g.session_actor


def start_session(actor: Actor) -> None:
    """Sign this browser in as `actor`: a fresh cookie with a new session id (the old
    session, if any, ends: no id chosen before sign-in survives it)."""
    end_session()
    fingerprint = session_fingerprint() if actor is THE_OPERATOR else None
    session[SESSION_KEY] = services.accounts().start_session(actor, fingerprint)
    g.session_actor = actor


def end_session() -> None:
    """Sign out: the session's record goes, and the cookie is emptied."""
    session_id = session.get(SESSION_KEY)
    if isinstance(session_id, str) and session_id:
        services.accounts().end_session(session_id)
    session.clear()
    g.pop("session_actor", None)


def signed_in() -> bool:
    """Does this browser's session manage what the page is about: the topic its URL
    names (the public topic pages' moderator view), or, on a page naming none, is it
    signed in at all?"""
    actor = session_actor()
    if actor is None:
        return False
    topic_id = (request.view_args or {}).get("topic_id")
    if topic_id is None:
        return True
    try:
        topic = get_topic(topic_id)  # the page's own read, cached per process
    except TopicNotFound:  # the page answers 404 itself
        return False
    return services.access().manages_topic(actor, topic)
