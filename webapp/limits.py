"""Rate limits on vote intake (per voter, per address), join-code lookups and admin sign-in
(Flask-Limiter).

A room of hundreds of phones shares the venue's one public address, so votes
are limited per voter wherever a voter is named: the signed voter cookie of
the pages, the embed's voter token, or `voter_id` in an API vote. Three limits,
each in Flask-Limiter's "N per period" syntax (empty turns one off), each one
budget across every vote route (POST /votes, the pages, the embeds):

- RATE_LIMIT_VOTES_PER_VOTER (60 per minute): each named voter.
- RATE_LIMIT_VOTES (600 per minute): per address, the votes that name no voter
  (API votes without `voter_id`, a page vote from a browser without its cookie).
- RATE_LIMIT_VOTES_PER_ADDRESS (5000 per minute): the ceiling per address for
  every vote, high enough for a packed hall (2,000 voters in a minute behind one
  address), still a bound on a script that invents a voter id per vote.

RATE_LIMIT_QUESTIONS_PER_VOTER (5 per minute) limits the questions each voter asks
an event (audience Q&A; per address for questions naming no voter); upvotes are
votes, under the three limits above.

RATE_LIMIT_LOGIN limits admin sign-in per address, RATE_LIMIT_JOIN_CODE_MISSES the
join codes an address may look up in vain (`event_by_code`). The counts live where every
web process reaches them: the default RATELIMIT_STORAGE_URI, `dynamodb://`,
keeps them in the counters table (core/services/shared_counts.py: on AWS the
stack's table, under `make run` the local endpoint's), each process adding its
hits in batches; `memory://` counts per process (N processes, N budgets), and
`redis://host:6379` works too.

The client address is the TCP peer unless that peer is one of TRUSTED_PROXIES;
only then is X-Forwarded-For read, from the right, skipping trusted hops, so
a client cannot pick its own address by sending the header itself.
"""

from __future__ import annotations

import contextlib
import functools
import ipaddress
import math
import time

from flask import Flask, current_app, g, request
from flask_limiter import Limiter
from limits import parse

from core.rules.errors import EventNotFound, TooManyCodeLookups
from core.services import shared_counts  # noqa: F401  (registers the dynamodb:// storage)
from webapp import pause, services, voter
from webapp.body import json_body

limiter = Limiter(key_func=lambda: client_address(), headers_enabled=True)


def _trusted(address: str, proxies: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    for entry in filter(None, (p.strip() for p in proxies.split(","))):
        if entry == "*":
            return True
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:
            continue
    return False


def client_address() -> str:
    """The address to count a request against."""
    proxies = current_app.config["SETTINGS"].trusted_proxies
    peer = request.remote_addr or "unknown"
    if not _trusted(peer, proxies):
        return peer
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, proxies):
            return hop
    return hops[0] if hops else peer


# app.extensions key: whether this app limits votes at all (limit_votes reads it per vote).
_VOTE_LIMITS_ON = "vote_limits_on"

# A voter id is the client's to choose: only its bucket name is kept, bounded.
_MAX_VOTER_KEY = 200


def voter_named() -> str | None:
    """The voter a vote names: `voter_id` of a JSON vote, else the pages' signed voter cookie.

    None when there is none: an API vote without `voter_id`, or a browser whose
    cookie is missing or forged (it is given a new id, which proves nothing yet).
    """
    if request.mimetype == "application/json":
        body = json_body(required=False)
        named = body.get("voter_id") if isinstance(body, dict) else None
        return named[:_MAX_VOTER_KEY] if isinstance(named, str) and named else None
    browser = voter.current()
    return None if g.get("voter_id_is_new") else browser


def _settings():
    return current_app.config["SETTINGS"]


def login_limit() -> str:
    return _settings().rate_limit_login


def limit_votes(view):
    """The three vote limits, each one count across the vote routes.

    While the app has every vote limit off, the vote goes past Flask-Limiter's
    wrappers: they would still resolve and exempt each limit on every vote
    (about 30 us of a vote's CPU, measured with cProfile).
    """
    paused = pause.refuse_while_paused(view)
    # Shared limits: one count per voter (or address) whichever vote route it takes.
    per_voter = limiter.shared_limit(
        lambda: _settings().rate_limit_votes_per_voter,
        scope="votes-per-voter",
        key_func=lambda: f"voter:{voter_named()}",
        exempt_when=lambda: not _settings().rate_limit_votes_per_voter or not voter_named(),
    )
    anonymous = limiter.shared_limit(
        lambda: _settings().rate_limit_votes,
        scope="votes-anonymous",
        exempt_when=lambda: not _settings().rate_limit_votes or bool(voter_named()),
    )
    ceiling = limiter.shared_limit(
        lambda: _settings().rate_limit_votes_per_address,
        scope="votes-per-address",
        exempt_when=lambda: not _settings().rate_limit_votes_per_address,
    )
    # A paused intake (webapp/pause.py) refuses before the view queues anything.
    limited = ceiling(anonymous(per_voter(paused)))

    @functools.wraps(view)
    def votes_limited(*args, **kwargs):
        if current_app.extensions[_VOTE_LIMITS_ON]:
            return limited(*args, **kwargs)
        return paused(*args, **kwargs)

    return votes_limited


# The join-code limit's bucket name (one per address, shared by every process).
_CODE_MISSES = "join-code-misses"


def _code_misses():
    """RATE_LIMIT_JOIN_CODE_MISSES as a limit, or None when off."""
    value = _settings().rate_limit_join_code_misses
    return parse(value) if value and current_app.config["RATELIMIT_ENABLED"] else None


def refuse_code_lookups_when_spent() -> None:
    """TooManyCodeLookups (a 429 with Retry-After) once this address has missed
    RATE_LIMIT_JOIN_CODE_MISSES codes: only misses count, so a room polling its code
    never does, and a script guessing codes soon waits."""
    limit = _code_misses()
    if limit is None:
        return
    try:
        if limiter.limiter.test(limit, _CODE_MISSES, client_address()):
            return
        reset = limiter.limiter.get_window_stats(limit, _CODE_MISSES, client_address()).reset_time
    except Exception:  # a failing count store never refuses (as RATELIMIT_SWALLOW_ERRORS)
        return
    raise TooManyCodeLookups(max(1, math.ceil(reset - time.time())))


def count_code_miss() -> None:
    """One more code this address looked up in vain."""
    limit = _code_misses()
    if limit is not None:
        with contextlib.suppress(Exception):
            limiter.limiter.hit(limit, _CODE_MISSES, client_address())


def event_by_code(typed: str | None) -> dict:
    """The event a join code names, for every way in (pages, embeds, the API).

    EventNotFound (EventEnded for an archived event), or TooManyCodeLookups once
    this address has missed too many codes (count_code_miss): then every
    lookup waits, hits too, so a guess learns nothing. One lookup per request.
    """
    found = g.setdefault("code_lookups", {})
    if typed not in found:
        refuse_code_lookups_when_spent()
        try:
            found[typed] = services.events().by_code(typed)
        except EventNotFound as exc:
            count_code_miss()
            found[typed] = exc
    if isinstance(found[typed], Exception):
        raise found[typed]
    return found[typed]


def limit_questions(view):
    """Questions asked (audience Q&A): RATE_LIMIT_QUESTIONS_PER_VOTER per named voter,
    and for questions naming none the same number per address."""
    return limiter.limit(
        lambda: _settings().rate_limit_questions_per_voter,
        scope="questions",
        key_func=lambda: f"voter:{voter_named()}" if voter_named() else client_address(),
        exempt_when=lambda: not _settings().rate_limit_questions_per_voter,
    )(pause.refuse_while_paused(view))


def limit_login(view):
    return limiter.limit(
        login_limit,
        exempt_when=lambda: not login_limit() or request.method != "POST",
    )(view)


def init_app(app: Flask) -> None:
    settings = app.config["SETTINGS"]
    app.config.setdefault("RATELIMIT_STORAGE_URI", settings.ratelimit_storage_uri)
    if app.config["RATELIMIT_STORAGE_URI"].startswith("dynamodb:"):
        # The counters table every process reaches (the adapter made per process).
        app.config.setdefault(
            "RATELIMIT_STORAGE_OPTIONS", {"counters": services.rate_counters}
        )
    # A failing limit store (a Redis outage, a storage bug) must never turn a
    # vote into a 500: the error is logged and the request goes through unlimited.
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    # With every limit off, Flask-Limiter is switched off, not just told to
    # exempt: otherwise it still resolves limits for every request (about
    # 0.25 ms each, twice on POST /votes). Set per app, because the limiter
    # object is shared and would keep the previous app's choice.
    limits = (
        settings.rate_limit_votes,
        settings.rate_limit_votes_per_voter,
        settings.rate_limit_votes_per_address,
        settings.rate_limit_login,
        settings.rate_limit_join_code_misses,
        settings.rate_limit_questions_per_voter,
    )
    app.config.setdefault("RATELIMIT_ENABLED", any(limits))
    limiter.init_app(app)
    app.extensions[_VOTE_LIMITS_ON] = bool(app.config["RATELIMIT_ENABLED"]) and any(limits[:3])
