"""Reading JSON request bodies strictly: content type, syntax, depth, then the model."""

from __future__ import annotations

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
