"""Admin authentication: the key in API_KEY for the API, and the signed-in admin session.

The key is accepted from `X-API-Key`, `Authorization: Bearer ...`, or, for the original
service's clients, an `api_key` field in the JSON body. Never from the query
string (it would end up in access logs). Keys are compared in constant time.
"""

from __future__ import annotations

import functools
import hashlib
import hmac

from flask import abort, current_app, request, session

from webapp.body import json_body


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


def is_admin_request() -> bool:
    """Does this request carry the admin key? (For reads that admins see more of.)"""
    return key_matches(presented_key(), current_app.config["SETTINGS"].api_key)


def admin_key_required(view):
    """401 unless the request carries the admin key; 503 when none is configured."""

    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        expected = current_app.config["SETTINGS"].api_key
        if not expected:
            abort(503, "API_KEY is not set on this server, so admin writes are disabled")
        if not key_matches(presented_key(), expected):
            abort(401, "A valid admin key is required (X-API-Key or Authorization: Bearer)")
        return view(*args, **kwargs)

    wrapped.admin_only = True
    return wrapped


# -- the admin pages' session -----------------------------------------------------
# Sign-in (admin.login) keeps a mark in Flask's signed session cookie: a
# fingerprint of the configured secrets, so rotating either one signs every
# admin out.

SESSION_KEY = "admin"


def admin_credentials() -> tuple[str | None, str | None]:
    """(API_KEY, ADMIN_PASSWORD): either signs an admin in."""
    settings = current_app.config["SETTINGS"]
    return settings.api_key, settings.admin_password


def session_fingerprint() -> str | None:
    """A digest of the configured admin secrets, or None when sign-in is off."""
    api_key, password = admin_credentials()
    if not api_key and not password:
        return None
    material = f"{api_key or ''}\0{password or ''}".encode()
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, material, hashlib.sha256).hexdigest()


def signed_in() -> bool:
    """Does this browser carry a valid admin session?"""
    return key_matches(session.get(SESSION_KEY), session_fingerprint())
