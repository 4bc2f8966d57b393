"""The audience's pages of an event: join by code, then follow the presenter.

`/<CODE>` (and `/j/<CODE>`, and the home page's "Enter code" form at `/j`)
open the event. Its page holds one fragment, the stage (webapp/audience/stage.py),
which the page's event stream (`/<CODE>/stream`, webapp/push/) keeps current:
when the presenter moves on, the new question arrives with the voting form of
the topic pages. Without a stream the stage polls every second with its ETag
(a bodiless 304 while the presenter stays put). This browser's own vote is
remembered in the signed session and shown by its own requests. Beside the
stage, while the event takes audience questions, the "Ask" panel (webapp/qna/),
which polls on its own.
"""

from __future__ import annotations

from flask import Blueprint, make_response, redirect, render_template, request, url_for

from core.rules.join_codes import CODE_LENGTH, normalized
from webapp import voter
from webapp.audience import ballot_box
from webapp.audience.stage import (
    event_or_join_page,
    memory_key,
    own_ballot,
    refused_fragment,
    remember,
    remembered,
    stage_context,
    stage_of,
)
from webapp.audience.vote_views import queued_state
from webapp.htmx import is_htmx, polled, vary
from webapp.limits import limit_votes
from webapp.metrics import counts_votes
from webapp.qna.panel import PanelUrls, asked_on_page, panel_context

bp = Blueprint("events_pages", __name__)
voter.init_app(bp)
CODE = f"<string(length={CODE_LENGTH}):code>"


@bp.get("/j")
def join():
    """The "Enter code" form's target (a GET form, so no JavaScript is needed)."""
    return join_with(request.args.get("code", ""))


@bp.get("/j/<typed>")
def join_link(typed):
    """A code in a link, any case: to the event's short URL."""
    return join_with(typed)


def join_with(typed: str):
    event, page = event_or_join_page(typed)
    return page or redirect(url_for("events_pages.audience", code=event["code"]), 303)


@bp.get(f"/{CODE}")
def audience(code):
    """The phone's page: the current question, or "waiting for the next question"."""
    if normalized(code) != code:
        return join_with(code)  # lower case or look-alikes: the canonical URL, or the message
    event, page = event_or_join_page(code)
    if page:
        return page
    again = request.args.get("again") == "1"
    qna = _panel(event, request.args.get("qna"))
    response = audience_page(event, qna, again=again, streamed=True)
    response.headers["Cache-Control"] = "no-store"
    return response


def _panel(event: dict, sort: str | None = None) -> dict | None:
    return panel_context(event, PanelUrls(event["code"], asked=asked_on_page(event)), sort)


def audience_page(event: dict, qna: dict | None, status: int = 200, again: bool = False,
                  streamed: bool = False, **said):  # fmt: skip
    """The phone's whole page: the stage (with `said`: a refused vote's message and
    answer; `streamed`: kept current by the page's event stream, else polled) and, while
    the event takes questions, the "Ask" panel (`qna`, which polls on its own)."""
    context = stage_context(event, again=again, streamed=streamed, **said)
    if streamed:
        last = context["stage"]["ids"]
        context.update(stream_url=url_for("push.event_stream", code=event["code"], last=last),
                       voted_on=list(remembered()))  # fmt: skip
    return make_response(render_template("events/audience.html", qna=qna, **context), status)


@bp.get(f"/{CODE}/stage")
def stage(code):
    """The stage fragment, polled every second: 304 while nothing this browser sees changed."""
    event, page = event_or_join_page(code)
    if page:
        return page
    if not is_htmx():
        return redirect(url_for("events_pages.audience", code=event["code"]), 303)
    etag = stage_of(event, render=False)["etag"]
    return polled(etag, lambda: render_template("events/_stage.html", **stage_context(event)))


@bp.get(f"/{CODE}/vote/<topic_id>")
def my_vote(code, topic_id):
    """This browser's vote fragment on the question on screen (for a pushed stage)."""
    event, page = event_or_join_page(code)
    if page:
        return page
    if not is_htmx():
        return redirect(url_for("events_pages.audience", code=event["code"]), 303)
    return vary(own_ballot(event, topic_id))


@bp.post(f"/{CODE}/vote/<topic_id>")
@counts_votes
@limit_votes
def vote(code, topic_id):
    """A vote from the stage's form: the vote fragment for htmx (202), else back to the page."""
    event, page = event_or_join_page(code)
    if page:
        return page
    try:
        topic = ballot_box.topic_on_screen(event, topic_id)
        queued, payload = ballot_box.cast_form(topic, request.form, voter.current())
    except ballot_box.Refused as refused:
        return ballot_box.answer_refused(
            refused,
            fragment=lambda r: refused_fragment(event, r),
            page=lambda r: audience_page(
                event, _panel(event), r.status, message=r.message, answer=r.answer
            ),
        )
    remember(memory_key(topic_id, queued.generation), queued.id)
    if not is_htmx():
        return redirect(url_for("events_pages.audience", code=event["code"]), 303)
    state = queued_state(topic, queued.id, payload)
    body = render_template("events/_vote.html", event=event, topic=topic, vote=state)
    return vary(make_response(body, 202))
