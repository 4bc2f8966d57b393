"""Reading request bodies strictly: size (sized or chunked), content type, syntax, depth, model."""

from __future__ import annotations

import io
import json

from flask import abort, request
from pydantic import BaseModel

_UNSET = object()


def json_body(required: bool = True):
    """The parsed JSON body, cached on the request (auth and the view both read it).

    415 for another content type, 400 for malformed or absurdly nested JSON.
    With `required=False`, a missing or unreadable body is None instead.
    """
    cached = getattr(request, "_parsed_json", _UNSET)
    if cached is not _UNSET:
        if isinstance(cached, Exception) and required:
            raise cached
        return None if isinstance(cached, Exception) else cached
    try:
        value = _parse()
    except Exception as exc:  # an HTTPException, kept for the view that needs the body
        request._parsed_json = exc
        if required:
            raise
        return None
    request._parsed_json = value
    return value


def _parse():
    if request.mimetype != "application/json":
        abort(415, "Send the body as JSON with Content-Type: application/json")
    raw = request.get_data(cache=True)
    try:
        return json.loads(raw)
    except RecursionError:
        abort(400, "JSON nested too deeply")
    except (ValueError, UnicodeDecodeError) as exc:
        abort(400, f"Malformed JSON: {exc}")


def parse(model: type[BaseModel]):
    """The body validated by `model`; a body that is not an object is a 422."""
    data = json_body()
    if not isinstance(data, dict):
        abort(422, "The body must be a JSON object")
    return model.model_validate(data)


class WholeChunkedBody:
    """WSGI middleware: a chunked body is held to MAX_CONTENT_LENGTH like a sized one.

    Werkzeug enforces the limit on a chunked body (no Content-Length) by cutting
    it at the limit and reading no further, so a 1.4 MB chunked vote would be
    parsed from its first 64 KiB. Here such a body is read up to one byte
    past the limit and handed on with its Content-Length: over the limit, the
    length says so, and werkzeug answers 413 exactly as it does for a sized body.
    """

    def __init__(self, wsgi_app, limit: int):
        self.wsgi_app = wsgi_app
        self.limit = limit

    def __call__(self, environ, start_response):
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if chunked and not environ.get("CONTENT_LENGTH"):
            body = read_at_most(environ["wsgi.input"], self.limit + 1)
            environ["wsgi.input"] = io.BytesIO(body)
            environ["CONTENT_LENGTH"] = str(len(body))
            # No longer chunked: werkzeug ignores Content-Length while this header says so.
            del environ["HTTP_TRANSFER_ENCODING"]
        return self.wsgi_app(environ, start_response)


def read_at_most(stream, size: int) -> bytes:
    parts, left = [], size
    while left > 0:
        part = stream.read(min(left, 64 * 1024))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)
