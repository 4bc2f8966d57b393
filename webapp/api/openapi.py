"""The OpenAPI 3 document, generated from the pydantic models and the routes.

Views declare what they take and return with `@doc(...)`; this module walks
the app's URL map and asks pydantic for the schemas, so the document cannot
drift from the code. `/docs` serves Swagger UI from our own static files.
"""

from __future__ import annotations

import re

from flask import Blueprint, current_app, jsonify, render_template
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from core.schemas.base import Problem
from webapp.access import is_public

bp = Blueprint("docs", __name__)

_REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_]+)>")


def doc(summary: str, *, body=None, query=None, responses=None, status: int = 200, errors=()):
    """Attach the operation's description to a view; read by `spec()`.

    `errors` lists the refusals the view itself may answer (404, 409, 429...),
    beyond those every operation of its kind can get (see `_errors_for`).
    """

    def attach(view):
        view.openapi = {
            "summary": summary,
            "body": body,
            "query": query,
            "responses": responses or {},
            "status": status,
            "errors": tuple(errors),
        }
        return view

    return attach


def spec(app) -> dict:
    operations = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        meta = getattr(view, "openapi", None)
        if meta:
            operations.append((rule, view, meta))

    models: set[type[BaseModel]] = {Problem}
    for _, _, meta in operations:
        for model in [meta["body"], meta["query"], *meta["responses"].values()]:
            if isinstance(model, type) and issubclass(model, BaseModel):
                models.add(model)
            elif _is_list_of_model(model):
                models.add(model.__args__[0])
    refs, defs = models_json_schema(
        [(m, "validation" if _is_input(m, operations) else "serialization") for m in models],
        ref_template=_REF,
    )

    def ref(model):
        if model is None:
            return {"nullable": True, "description": "null"}
        if _is_list_of_model(model):
            item = _REF.format(model=model.__args__[0].__name__)
            return {"type": "array", "items": {"$ref": item}}
        return {"$ref": _REF.format(model=model.__name__)}

    paths: dict[str, dict] = {}
    for rule, view, meta in sorted(operations, key=lambda o: o[0].rule):
        path = _PATH_PARAM.sub(r"{\1}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            op = {"summary": meta["summary"], "operationId": f"{rule.endpoint}_{method.lower()}"}
            params = [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                for name in rule.arguments
            ]
            if meta["query"] is not None:
                schema = meta["query"].model_json_schema()
                for name, prop in schema.get("properties", {}).items():
                    params.append(
                        {
                            "name": name,
                            "in": "query",
                            "required": name in schema.get("required", []),
                            "schema": prop,
                        }
                    )
            if params:
                op["parameters"] = params
            if meta["body"] is not None:
                op["requestBody"] = {
                    "required": True,
                    "content": {"application/json": {"schema": ref(meta["body"])}},
                }
            responses = {}
            for code, model in meta["responses"].items():
                # A string is a media type (e.g. "text/csv"): a download, not a JSON model.
                content = (
                    {model: {"schema": {"type": "string"}}}
                    if isinstance(model, str)
                    else {"application/json": {"schema": ref(model)}}
                )
                responses[str(code)] = {
                    "description": _REASONS.get(code, "Answer"),
                    "content": content,
                }
            for code in _errors_for(meta, view, rule):
                answer = {"description": _REASONS[code]}
                if code not in _NOT_JSON:
                    answer["content"] = {"application/json": {"schema": ref(Problem)}}
                responses.setdefault(str(code), answer)
            op["responses"] = responses
            if not is_public(rule.endpoint):
                op["security"] = [{"ApiKey": []}, {"Bearer": []}]
            paths.setdefault(path, {})[method.lower()] = op

    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Voting Game API",
            "version": "1.0",
            "description": "Topics, votes queued through SQS, results from DynamoDB tallies.",
        },
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {
                "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                "Bearer": {"type": "http", "scheme": "bearer"},
            },
        },
    }


_REASONS = {
    200: "OK",
    201: "Created",
    202: "Accepted: the vote is durably queued",
    400: "Malformed request",
    401: "Admin key or API token missing or wrong",
    403: "Not for this caller: hidden by the topic's results_visibility, or a right it lacks",
    404: "Not found",
    409: "Conflict",
    410: "Gone: the event has ended (archived)",
    413: "Body too large",
    414: "Request line too long (the web server refuses it before the app)",
    415: "Body is not JSON",
    422: "Validation failed",
    429: "Too many requests (see Retry-After)",
    503: "A backing service is unavailable",
}


# Answered by gunicorn itself, as its own small HTML page.
_NOT_JSON = {414}


def _errors_for(meta, view, rule) -> list[int]:
    codes = [414, 422, 503, *meta["errors"]]
    if rule.arguments:  # an id in the path may name nothing
        codes.append(404)
    if meta["body"] is not None:
        codes += [400, 413, 415]
    if not is_public(rule.endpoint):
        codes.append(401)
    return codes


def _is_list_of_model(model) -> bool:
    args = getattr(model, "__args__", None)
    return bool(args) and isinstance(args[0], type) and issubclass(args[0], BaseModel)


def _is_input(model, operations) -> bool:
    return any(meta["body"] is model or meta["query"] is model for _, _, meta in operations)


@bp.get("/openapi.json")
def openapi_json():
    """The OpenAPI 3 document of the JSON API."""
    return jsonify(spec(current_app))


@bp.get("/docs")
def swagger_ui():
    """Swagger UI, served from this app's static files (works offline)."""
    return render_template("docs.html")
