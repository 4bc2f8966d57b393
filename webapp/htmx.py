"""htmx helpers: is this an htmx request, and marking answers that depend on it.

An endpoint answers an htmx request (`HX-Request: true`) with a partial and
any other request with the whole page, at the same URL.
"""

from __future__ import annotations

from flask import current_app, make_response, request


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def vary(response):
    """Same URL, two representations (page or partial): caches must key on the header."""
    response.vary.add("HX-Request")
    return response


def polled(etag: str, render):
    """A polled fragment: a bodiless 304 while the client holds `etag`, else `render()`.

    Always revalidated (no-cache): the ETag makes that a cheap 304.
    """
    if request.if_none_match.contains(etag):
        response = current_app.response_class(status=304)
    else:
        response = make_response(render())
    response.set_etag(etag)
    response.headers["Cache-Control"] = "no-cache"
    return vary(response)
