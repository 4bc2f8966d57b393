"""The event streams (text/event-stream), one per page, and the hub they share.

- `/<CODE>/stream`: the audience's stage; `/<CODE>/embed/stream`: the event embed's;
- `/t/<id>/stream`: a topic's results (its page and embed; `?view=present` the
  present view's);
- `/admin/events/<id>/stream`: the presenter's projected stage (`?view=console`
  the presenter console's panel), for whoever webapp/access.py lets manage the
  event (signed in; another organiser's event answers 404 as a missing one).
  The audience's streams are public there.

Each answers with the regions the page lacks (its `Last-Event-ID`, or on the
first connection the `last` its page was rendered with), a `hello` event, then
every change as it happens and a comment every 15 s. Past MAX_STREAMS_PER_PROCESS
(or while the process stops): 503 with Retry-After, and the page polls instead.
No proxy may buffer or cache them (X-Accel-Buffering, Cache-Control).
"""

from __future__ import annotations

from flask import Blueprint, Flask, abort, current_app, request
from flask_babel import get_locale

from core.rules.errors import EventNotFound, TopicNotFound
from core.rules.join_codes import CODE_LENGTH
from webapp import services
from webapp.audience.stage import event_or_join_page
from webapp.lookup import valid_id
from webapp.push.feeds import EventFeed, PresenterFeed, TopicFeed, View
from webapp.push.hub import Hub, hub

bp = Blueprint("push", __name__)
CODE = f"<string(length={CODE_LENGTH}):code>"
RETRY_AFTER_SECONDS = 5


def init_app(app: Flask) -> None:
    app.extensions["push"] = Hub(app.config["SETTINGS"].max_streams_per_process)
    app.register_blueprint(bp)


@bp.get(f"/{CODE}/stream")
def event_stream(code):
    return _event(code, "audience")


@bp.get(f"/{CODE}/embed/stream")
def embed_stream(code):
    return _event(code, "embed")


@bp.get("/t/<topic_id>/stream")
def topic_stream(topic_id):
    if valid_id(topic_id) is None:
        raise TopicNotFound(topic_id)
    services.topics().get(topic_id)  # TopicNotFound: the 404 page
    kind = "present" if request.args.get("view") == "present" else "page"
    return _answer(TopicFeed(current_app._get_current_object(), topic_id), kind)


@bp.get("/admin/events/<event_id>/stream")
def presenter_stream(event_id):
    # webapp/access.py's guard ran first: signed in, and this event is theirs to manage.
    if valid_id(event_id) is None:
        abort(404)
    try:
        services.events().event(event_id)
    except EventNotFound:
        abort(404)
    kind = "console" if request.args.get("view") == "console" else "presenter"
    return _answer(PresenterFeed(current_app._get_current_object(), event_id), kind)


def _event(code: str, kind: str):
    event, page = event_or_join_page(code)
    if page:
        return page
    return _answer(EventFeed(current_app._get_current_object(), event["id"]), kind)


def _answer(feed, kind: str):
    last_id = request.headers.get("Last-Event-ID") or request.args.get("last")
    try:
        stream = hub().subscribe(feed, View(kind, str(get_locale())), last_id)
    except LookupError:
        abort(404)
    if stream is None:
        response = current_app.response_class(
            "Too many open streams here: poll instead.\n", status=503, mimetype="text/plain"
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    response = current_app.response_class(stream, mimetype="text/event-stream")
    response.headers.update({"Cache-Control": "no-cache, no-store", "X-Accel-Buffering": "no"})
    return response
