"""The event embed's voter: a timed token signed for one event, kept by the frame.

A cross-site frame gets no cookie of ours, so the embed's page hands the frame a
token naming its voter (`data-embed-voter`); static/embed.js keeps it in the
frame's storage and sends it back in the X-Embed-Voter header of every htmx
request (the vote, the stage's poll). It is a credential (it votes as that
voter), so it never travels in a URL, where it would reach access logs,
Referer headers and copied links: a `voter` in the query string is not read.

The token is signed with SECRET_KEY under a salt of its own per event
(itsdangerous timed signing), so it is taken neither by another event's embed
nor as the pages' `voter` cookie (webapp/voter.py, another salt), and it
expires MAX_AGE_SECONDS after it was issued. Every answer of the embed carries
a fresh one (the same voter, a new time) in the X-Embed-Voter response header,
which embed.js stores: a frame in use keeps its voter, a token copied out of
one expires.
"""

from __future__ import annotations

import re

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

HEADER = "X-Embed-Voter"
# Long enough for a conference's few days in one frame, short enough that a token
# copied out of a frame stops working.
MAX_AGE_SECONDS = 3 * 24 * 3600
# What the API takes as a voter_id (core/rules/fields.VoterId): the id travels the same way.
VOTER_ID = re.compile(r"[A-Za-z0-9._:@-]{1,128}")


def salt(event_id: str) -> str:
    return f"embed-voter:{event_id}"


def _serializer(event_id: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt(event_id))


def token_for(event_id: str, voter_id: str) -> str:
    """A token naming `voter_id` on the event's embed, valid MAX_AGE_SECONDS from now."""
    return _serializer(event_id).dumps(voter_id)


def voter_in(event_id: str, token: str | None) -> str | None:
    """The voter a token signed for this event names, or None (missing, forged, of
    another event or scope, expired)."""
    if not token or len(token) > 500:
        return None
    try:
        voter_id = _serializer(event_id).loads(token, max_age=MAX_AGE_SECONDS)
    except BadSignature:  # SignatureExpired is one too
        return None
    if not isinstance(voter_id, str) or not VOTER_ID.fullmatch(voter_id):
        return None
    return voter_id


def sent() -> str | None:
    """The token this request sent: the header, never the query string."""
    return request.headers.get(HEADER)
