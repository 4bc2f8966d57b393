"""A request id for every web request: from X-Request-ID when acceptable, echoed back.

The id goes on `g` (views copy it into the queued vote) and into the core's
`current_request_id`, so every log line written while serving the request
carries it.
"""

from __future__ import annotations

from flask import Flask, g, request

from core.logs import REQUEST_ID_HEADER, current_request_id, request_id_from


def init_app(app: Flask) -> None:
    @app.before_request
    def assign_request_id():
        g.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        g.request_id_token = current_request_id.set(g.request_id)

    @app.after_request
    def echo_request_id(response):
        request_id = g.get("request_id")
        if request_id:
            response.headers[REQUEST_ID_HEADER] = request_id
        return response

    @app.teardown_request
    def forget_request_id(_exc):
        token = g.pop("request_id_token", None)
        if token is not None:
            current_request_id.reset(token)
