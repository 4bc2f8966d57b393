"""htmx helpers: is this an htmx request, and marking answers that depend on it.

An endpoint answers an htmx request (`HX-Request: true`) with a partial and
any other request with the whole page, at the same URL.
"""

from __future__ import annotations

from flask import request


def is_htmx() -> bool:
    return request.headers.get("HX-Request") == "true"


def vary(response):
    """Same URL, two representations (page or partial): caches must key on the header."""
    response.vary.add("HX-Request")
    return response
