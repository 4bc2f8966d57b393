"""Languages of the pages: English, German, Spanish, French and Arabic.

The pages' words live in gettext catalogues (translations/<lang>/LC_MESSAGES/
messages.po, checked by tests/unit/test_translations.py against what the
templates and webapp/ ask for), compiled once for every process of this user
(webapp/compiled/catalogues.py).

The language is the `lang` cookie (set by the switcher at the foot of each page,
GET /lang/<code>), else the browser's Accept-Language, else English. The JSON
API stays English: its words are the original service's contract.
"""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Flask, Response, redirect, request
from flask_babel import (
    Babel,
    format_date,
    format_decimal,
    format_percent,
    format_time,
    get_locale,
)

from webapp.compiled import catalogues

# Code -> the language's own name, in the switcher's order. English first:
# the source language (its catalogue is the msgids themselves, kept for the
# check that every entry exists).
LANGUAGES = {
    "en": "English",
    "de": "Deutsch",
    "es": "Español",
    "fr": "Français",
    "ar": "العربية",
}
RIGHT_TO_LEFT = {"ar"}
COOKIE = "lang"
COOKIE_MAX_AGE = 365 * 24 * 3600


def N_(message: str) -> str:  # noqa: N802 (gettext's own name for it, which Babel extracts)
    """Mark an English message that the JSON API answers as it is and a page shows in
    its own language (errors.py translates it there): unchanged here, so the API
    keeps the original's words."""
    return message


def select_locale() -> str:
    chosen = request.cookies.get(COOKIE, "")
    if chosen in LANGUAGES:
        return chosen
    return request.accept_languages.best_match(list(LANGUAGES), default="en")


def _safe_next(target: str | None) -> str:
    """Back to the page the switcher was on; only a path of this site (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def set_language(code: str) -> Response:
    """The switcher's link: remember the language (a cookie) and go back."""
    response = redirect(_safe_next(request.args.get("next")), code=303)
    if code in LANGUAGES:
        response.set_cookie(
            COOKIE, code, max_age=COOKIE_MAX_AGE, samesite="Lax", secure=request.is_secure
        )
    return response


def _page_language() -> dict:
    code = str(get_locale() or "en")
    return {
        "page_lang": code,
        "page_dir": "rtl" if code in RIGHT_TO_LEFT else "ltr",
        "languages": LANGUAGES,
    }


def _percent(share: int | float) -> str:
    """A whole-number share (54) as the language writes it: 54%, 54 %, ٪54…"""
    return format_percent(share / 100)


def _utc_datetime(iso: str) -> str:
    """An ISO UTC timestamp from the store as the page's language writes a date and a
    time to the minute ("Jan 31, 2999, 6:30 PM UTC", "31.01.2999, 18:30 UTC")."""
    when = datetime.fromisoformat(iso[:19]).replace(tzinfo=UTC)
    joined = get_locale().datetime_formats["medium"]
    return joined.format(format_time(when, "short"), format_date(when, "medium")) + " UTC"


def init_app(app: Flask) -> None:
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(catalogues.compiled_once())
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "UTC")
    Babel(app, locale_selector=select_locale)
    app.jinja_env.filters.update(number=format_decimal, percent=_percent, utc=_utc_datetime)
    app.context_processor(_page_language)
    app.add_url_rule("/lang/<code>", "set_language", set_language)
    app.after_request(_vary_by_language)


def _vary_by_language(response: Response) -> Response:
    """Pages differ by language: no cache may hand a German page to a French browser."""
    if response.mimetype == "text/html":
        response.vary.add("Accept-Language")
        response.vary.add("Cookie")
    return response
