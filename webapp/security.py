"""Browser-facing protections: security headers, CSRF on forms, cookie flags.

- Every response carries a Content-Security-Policy that allows only this
  app's own scripts and styles (no inline script, no inline style, nothing
  from a CDN), `nosniff`, and `frame-ancestors 'none'` (no clickjacking).
- Every state-changing form is checked by Flask-WTF's CSRFProtect. The JSON
  API is exempt: it authenticates with a key header that a browser never
  sends on its own, so a forged cross-site request cannot carry it.
- Cookies (the session and the voter id) are HttpOnly, SameSite=Lax, and
  Secure whenever the request came over https.
"""

from __future__ import annotations

import re

from flask import Flask, current_app, request
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect

# 'self' only. img-src allows data: because Swagger UI draws its icons as
# data: URIs; the app's own QR codes are inline SVG. form-action keeps a
# form injected into a page from posting elsewhere.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # Older browsers that ignore frame-ancestors.
    "X-Frame-Options": "DENY",
    # Same-origin requests keep their Referer: Flask-WTF's https check needs it.
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}

csrf = CSRFProtect()


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    """The signed session cookie, marked Secure whenever the request came over https.

    Flask's SESSION_COOKIE_SECURE is one fixed value; the same app is served
    over plain http by `make run` and over https in production, so the flag
    follows the request. Behind a TLS proxy, gunicorn turns the proxy's
    X-Forwarded-Proto into the request scheme when the proxy is one of
    TRUSTED_PROXIES (gunicorn.conf.py), so `request.is_secure` holds there too.
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def cookie_secure() -> bool:
    """Whether cookies set on this request should be Secure (used by voter.py too)."""
    return request.is_secure


def init_app(app: Flask) -> None:
    app.session_interface = HttpsAwareSessionInterface()
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    if not app.config.get("SESSION_COOKIE_SAMESITE"):
        app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    # The CSRF token is bound to the signed session; a time limit on top would
    # only break pages left open for a while (a projector tab, an admin form).
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)
    # A permanent (voter's) session cookie is sent again only when it changes, not
    # with every answer (a phone's stage polls every second).
    app.config["SESSION_REFRESH_EACH_REQUEST"] = False
    csrf.init_app(app)
    app.after_request(add_headers)


def exempt(blueprint) -> None:
    """Exempt a key-authenticated blueprint (the JSON API) from CSRF checks."""
    csrf.exempt(blueprint)


# What EMBED_ORIGINS may hold: "*", 'self', or an origin (scheme://host[:port],
# the host may start with "*."). Anything else could smuggle a directive into the policy.
_ORIGIN = re.compile(r"^(\*|'self'|https?://(\*\.)?[A-Za-z0-9.-]+(:\d{1,5})?)$")


def embed_policy(origins: list[str]) -> str:
    """The page policy with frame-ancestors opened to `origins` (an embed route's)."""
    bad = [origin for origin in origins if not _ORIGIN.match(origin)]
    if bad or not origins:
        raise ValueError(f"EMBED_ORIGINS: not an origin: {bad or origins}")
    return CSP.replace("frame-ancestors 'none'", "frame-ancestors " + " ".join(origins))


def embeddable(response):
    """Let the sites in EMBED_ORIGINS frame this response (and only this one)."""
    origins = current_app.config["SETTINGS"].embed_origins
    response.headers["Content-Security-Policy"] = embed_policy(origins)
    response.embeddable = True
    return response


def add_headers(response):
    for name, value in HEADERS.items():
        # An embed view sets its own policy (frame-ancestors from EMBED_ORIGINS)
        # and must not carry X-Frame-Options: DENY; everything else gets the
        # strict defaults.
        if name == "X-Frame-Options" and getattr(response, "embeddable", False):
            continue
        response.headers.setdefault(name, value)
    return response
