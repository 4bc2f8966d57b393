"""What the event streams follow, and how each kind of page shows it (webapp/push/hub.py).


A feed reads its state (`read`, a few DynamoDB reads at most, shared through
the services' caches; with `since`, only copies read from then on) and, for a
*view* (the kind of page and its language), gives the versions of its regions
(`versions`, from the data) and renders those that moved (`render`). Both
run inside `context(view)`: a request of no one in particular, in the view's
language, so a pushed fragment holds nothing of any one browser (no session,
no voter, no CSRF token: `pushed=True`).

- `EventFeed`: an event's stage for the audience page and the event embed:
  regions question (the whole stage), status and results (webapp/audience/stage.py),
  and beside the stage the Ask panel's top list, qna (webapp/qna/pushed.py).
- `TopicFeed`: a topic's results panel for its page, embed and present view.
- `PresenterFeed`: the presenter's projected stage (signed in: rendered as
  the admin sees it, with no token) and its results (while they are hidden,
  how many have answered); for the presenter console ("console"), its panel as
  the stage region.
"""

from __future__ import annotations

import time
from typing import NamedTuple

from flask import Flask, g, render_template

from core.rules.accounts import THE_OPERATOR
from core.rules.errors import EventNotFound, TopicNotFound
from core.rules.events import current
from webapp import services
from webapp.audience.event_embed import pushed_urls
from webapp.audience.stage import REGIONS, region_versions, stage_context
from webapp.i18n import COOKIE
from webapp.lookup import shown
from webapp.presenter.console import console_view, render_panel
from webapp.presenter.event_present import (
    presenter_stage,
    render_answers,
    stage_versions,
    with_results,
)
from webapp.push.hub import ABSENT, digest
from webapp.qna.pushed import QNA_REGIONS, PushedList
from webapp.results.panel import PAGE, PRESENT, results_of

# How old a copy a read may answer with: less than the reads' interval, so each
# turn of a reader still reads (webapp/push/hub.py READ_SECONDS).
FRESH_SECONDS = 0.1


def read_after(since: float | None) -> float:
    """The oldest read (a time.monotonic() moment) a feed's read may answer with: within
    FRESH_SECONDS, and no earlier than `since` when given (a sibling's change)."""
    return max(time.monotonic() - FRESH_SECONDS, since or 0.0)


class View(NamedTuple):
    """How one kind of page shows a feed: "audience", "embed", "page", "present",
    "presenter", "console"; and in which language."""

    kind: str
    locale: str


class Feed:
    regions: tuple[str, ...] = ()
    admin = False  # rendered as a signed-in presenter sees it

    def __init__(self, app: Flask, key: tuple):
        self.app, self.key = app, key
        self._context = None  # the last versions' template context, for render

    def context(self, view: View):
        context = self.app.test_request_context(
            "/", headers={"Cookie": f"{COOKIE}={view.locale}"}
        )
        if self.admin:
            return _AsAdmin(context)
        return context

    def read_event(self, event_id: str, since: float | None = None):
        """The event as read (or written) by this process within FRESH_SECONDS, or since
        `since` when given (one read shared with anyone reading it at once), and the topic
        it shows, as fresh when the event moved (the cached copy may predate the presenter
        opening it), and read again if it disagrees with the event on whether it is open.
        A change made through this process is in its cache already: its poke costs no
        read."""
        with self.app.app_context():
            asked = read_after(since)
            try:
                event = services.events().event(event_id, read_after=asked)
            except EventNotFound:
                return None
            question = current(event)
            if question and event["version"] != getattr(self, "_version", None):
                topics = services.topics()
                try:
                    topic = topics.get(question["topic_id"], read_after=asked)
                    # Opened and closed in the event's own write, the two always agree
                    # (core/rules/events.py): a copy that disagrees was read a moment
                    # before the change, by a process no sibling told of it.
                    if topic["is_active"] != (question["state"] == "open"):
                        topics.get(question["topic_id"], read_after=time.monotonic())
                except TopicNotFound:
                    pass
            self._version = event["version"]
            return event


class _AsAdmin:
    """A request context signed in as the operator (webapp/auth.py's session actor): the
    stage as any manager of the event sees it (its stream is theirs alone), moderation
    controls included, with no session, cookie or token of anyone."""

    def __init__(self, context):
        self.context = context

    def __enter__(self):
        self.context.__enter__()
        g.session_actor = THE_OPERATOR
        return self

    def __exit__(self, *exc):
        g.pop("session_actor", None)
        return self.context.__exit__(*exc)


class EventFeed(Feed):
    regions = REGIONS + QNA_REGIONS
    outside = QNA_REGIONS  # beside the stage, not in it: the question region does not hold it

    def __init__(self, app: Flask, event_id: str):
        super().__init__(app, ("event", event_id))
        self.event_id = event_id

    def read(self, since: float | None = None):
        return self.read_event(self.event_id, since)

    def versions(self, event: dict, view: View) -> tuple[str, ...]:
        urls = pushed_urls(event) if view.kind == "embed" else None
        self._context = stage_context(event, urls=urls, pushed=True)
        self._list = PushedList(event, embedded=view.kind == "embed")
        return region_versions(event, self._context["stage"]) + self._list.versions()

    def render(self, event: dict, view: View, names) -> dict[str, str]:
        templates = {"question": "events/_stage.html", "status": "events/_stage_status.html",
                     "results": "events/_stage_results.html"}  # fmt: skip
        out = {name: render_template(templates[name], **self._context)
               for name in names if name in templates}  # fmt: skip
        return {**out, **self._list.render(names)}


class TopicFeed(Feed):
    regions = ("results",)

    def __init__(self, app: Flask, topic_id: str):
        super().__init__(app, ("topic", topic_id))
        self.topic_id = topic_id

    def read(self, since: float | None = None):
        with self.app.app_context():
            try:
                asked = read_after(since)
                topic = services.topics().get(self.topic_id, read_after=asked)
            except TopicNotFound:
                return None
            return shown(topic)

    def versions(self, topic: dict, view: View) -> tuple[str, ...]:
        mode = PRESENT if view.kind == "present" else PAGE
        results = results_of(topic, mode, streamed=True, region=True)
        self._context = {"topic": topic, "results": results, "pushed": True}
        return (digest(results["partial_etag"]),)

    def render(self, topic: dict, view: View, names) -> dict[str, str]:
        return {"results": render_template("_results.html", **self._context)}


class PresenterFeed(Feed):
    regions = ("stage", "results")
    admin = True

    def __init__(self, app: Flask, event_id: str):
        super().__init__(app, ("presenter", event_id))
        self.event_id = event_id

    def read(self, since: float | None = None):
        return self.read_event(self.event_id, since)

    def versions(self, event: dict, view: View) -> tuple[str, ...]:
        if view.kind == "console":  # its panel is its whole stage; it shows no results panel
            self._context = console_view(event)
            return digest(self._context["version"]), ABSENT
        stage = with_results(presenter_stage(event), streamed=True)
        self._context = {"event": event, "stage": stage, "streamed": True, "pushed": True}
        return stage_versions(stage)

    def render(self, event: dict, view: View, names) -> dict[str, str]:
        if view.kind == "console":
            return {"stage": render_panel(event, self._context, pushed=True)}
        out = {}
        if "stage" in names:
            out["stage"] = render_template("events/_present_stage.html", **self._context)
        stage = self._context["stage"]
        if "results" in names and stage["results"]:
            out["results"] = render_template("_results.html", topic=stage["topic"],
                                             results=stage["results"], pushed=True)  # fmt: skip
        elif "results" in names and stage["answers"] is not None:  # results hidden
            out["results"] = render_answers(self._context["event"], stage, streamed=True)
        return out

