"""Rate limits on vote intake and admin sign-in, per client address (Flask-Limiter).

Limits come from RATE_LIMIT_VOTES and RATE_LIMIT_LOGIN (Flask-Limiter's
"N per period" strings; empty turns a limit off). The default storage,
`memory://`, counts per process: with gunicorn's N workers a client can get
N times the limit. Point RATELIMIT_STORAGE_URI at a shared store (e.g.
`redis://host:6379`) to count across processes and hosts.

The client address is the TCP peer unless that peer is one of TRUSTED_PROXIES;
only then is X-Forwarded-For read, from the right, skipping trusted hops, so
a client cannot pick its own address by sending the header itself.
"""

from __future__ import annotations

import ipaddress

from flask import Flask, current_app, request
from flask_limiter import Limiter

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


def votes_limit() -> str:
    return current_app.config["SETTINGS"].rate_limit_votes


def login_limit() -> str:
    return current_app.config["SETTINGS"].rate_limit_login


def limit_votes(view):
    return limiter.limit(votes_limit, exempt_when=lambda: not votes_limit())(view)


def limit_login(view):
    return limiter.limit(
        login_limit,
        exempt_when=lambda: not login_limit() or request.method != "POST",
    )(view)


def init_app(app: Flask) -> None:
    settings = app.config["SETTINGS"]
    app.config.setdefault("RATELIMIT_STORAGE_URI", settings.ratelimit_storage_uri)
    # A failing limit store (a Redis outage, a storage bug) must never turn a
    # vote into a 500: the error is logged and the request goes through unlimited.
    app.config.setdefault("RATELIMIT_SWALLOW_ERRORS", True)
    # With both limits off, Flask-Limiter is switched off, not just told to
    # exempt: otherwise it still resolves limits for every request (about
    # 0.25 ms each, twice on POST /votes). Set per app, because the limiter
    # object is shared and would keep the previous app's choice.
    app.config.setdefault(
        "RATELIMIT_ENABLED", bool(settings.rate_limit_votes or settings.rate_limit_login)
    )
    limiter.init_app(app)
