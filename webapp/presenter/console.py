"""The presenter's console (signed in): the talk driven from a laptop window or a phone.

The current question and the next one, the current question's live answer
count, "question N of M", how long the current question has been on screen
(static/console.js counts up from the event's `moved_at`), and the buttons
that drive the room. The buttons are forms posting to the projected view's
own control endpoint (webapp/presenter/event_present.py), marked as the
console's: it answers them with `answer`, the console's panel for htmx, else
a 303 back here; a refused one, the panel (or page) as the event now is,
saying why, with the refusal's status. Kept current by the presenter's event
stream as the console sees it (webapp/push/feeds.py, `view=console`), else by
polling. Who may open it is webapp/access.py's to say, as for the projected
view.
"""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, make_response, redirect, render_template, url_for

from core.rules.clock import utc_now
from core.rules.errors import TopicNotFound
from core.rules.events import LOBBY
from core.rules.question_types import votes_counted
from webapp import services
from webapp.admin.type_forms import TYPE_NAMES
from webapp.htmx import is_htmx, polled, vary
from webapp.lookup import get_event, shown, valid_id
from webapp.push.hub import ABSENT, digest, join_ids

bp = Blueprint("presenter_console", __name__, url_prefix="/admin/events")

# The form field that marks a control as the console's (event_present.control).
SENT_FROM = "from", "console"


def _topic(event: dict, index: int) -> dict | None:
    """The topic of the event's question at `index` (cached read), or None: none there, or
    its topic is gone."""
    if not 0 <= index < len(event["questions"]):
        return None
    try:
        return shown(services.topics().get(event["questions"][index]["topic_id"]))
    except TopicNotFound:
        return None


def console_view(event: dict) -> dict:
    """What the console shows of the event, and its version: every fact it renders,
    the answer count included (the console is the presenter's alone)."""
    position = event["position"]
    view = {"position": position, "count": len(event["questions"]), "since": None,
            "current": None, "next": None}  # fmt: skip
    topic = _topic(event, position) if position != LOBBY else None
    if topic is not None:
        question = event["questions"][position]
        view["since"] = event.get("moved_at")
        view["current"] = {
            "title": topic["title"], "type": topic.get("type", "single"),
            "is_open": topic["is_open"],
            "results_shown": question["results"] == "shown",
            "answers": votes_counted(topic, services.topics().counts(topic["id"])),
        }  # fmt: skip
    following = _topic(event, position + 1)
    if following is not None:
        view["next"] = {"title": following["title"], "type": following.get("type", "single")}
    view["version"] = digest([event["version"], view["current"], view["next"]])
    return view


def elapsed(since: str | None, now: str) -> str:
    """How long from `since` to `now` (ISO times, as core/rules/clock.py writes them) as a
    clock reads: "m:ss", or "h:mm:ss" from an hour on. The console's first figure;
    static/console.js counts on from it."""
    if not since:
        return ""
    gone = datetime.fromisoformat(now) - datetime.fromisoformat(since)
    seconds = max(0, int(gone.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02}:{seconds:02}" if hours else f"{minutes}:{seconds:02}"


def panel_context(event: dict, view: dict, pushed: bool = False, streamed: bool = True,
                  message: str | None = None) -> dict:  # fmt: skip
    """What templates/events/_console_panel.html reads; `pushed`: for the event stream, so
    holding no CSRF token; `streamed`: a stream keeps it current, else it polls;
    `message`: a refused control, said on the panel."""
    return {"event": event, "console": view, "elapsed": elapsed(view["since"], utc_now()),
            "type_names": TYPE_NAMES, "sent_from": SENT_FROM, "pushed": pushed,
            "streamed": streamed, "message": message}  # fmt: skip


def render_panel(event: dict, view: dict, pushed: bool = False, streamed: bool = True,
                 message: str | None = None) -> str:  # fmt: skip
    """The console's panel alone (for htmx and the event stream)."""
    return render_template("events/_console_panel.html",
                           **panel_context(event, view, pushed, streamed, message))  # fmt: skip


def panel_versions(view: dict) -> str:
    """The presenter stream's last-event id for a console page rendered with `view`: its
    panel is the stream's first region, the results region it never shows."""
    return join_ids((digest(view["version"]), ABSENT))


@bp.get("/<event_id>/console")
def console(event_id):
    """The console's page: the panel, kept current by the presenter's event stream."""
    return console_page(get_event(event_id))


def console_page(event: dict, message: str | None = None) -> str:
    """The console's page for `event`; `message`: a refused control, said on the panel."""
    view = console_view(event)
    stream_url = url_for("push.presenter_stream", event_id=event["id"], view="console",
                         last=panel_versions(view))  # fmt: skip
    return render_template("events/presenter_console.html", stream_url=stream_url,
                           **panel_context(event, view, message=message))  # fmt: skip


@bp.get("/<event_id>/console/panel")
def panel(event_id):
    """The console's panel, polled while the stream cannot be kept: 304 while nothing
    changed."""
    event = services.events().event(event_id) if valid_id(event_id) else get_event(event_id)
    view = console_view(event)
    return polled(view["version"], lambda: render_panel(event, view, streamed=False))


def answer(event: dict, message: str | None = None, status: int = 200):
    """The answer to a control the console sent: its panel for htmx, else back to it; a
    refused one (`message`, `status`: webapp/refusals.py's) the panel or the page saying
    why, with the refusal's status."""
    if is_htmx():
        panel = render_panel(event, console_view(event), message=message)
        return vary(make_response(panel, status))
    if message:
        return make_response(console_page(event, message), status)
    return redirect(url_for("presenter_console.console", event_id=event["id"]), 303)
