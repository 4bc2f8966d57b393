"""Voter pages and their htmx partials: topic list, a topic's ballot, live results.

Every partial is an ordinary template that its page includes; an endpoint
answers with the partial alone when htmx asks (`HX-Request`), and with a
whole page otherwise, so everything works without JavaScript too. Polling is
state: a partial carries `hx-trigger` only while there is something left to
wait for (a queued vote, an open topic).
"""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)

from core.rules.errors import TopicNotFound
from core.rules.question_types import votes_counted
from webapp import services, voter
from webapp.audience import ballot_box
from webapp.audience.vote_views import ballot_view, queued_state, vote_state
from webapp.htmx import is_htmx, polled, vary
from webapp.limits import limit_votes
from webapp.lookup import get_topic, shown, valid_id
from webapp.metrics import counts_votes
from webapp.public_url import public_url_for
from webapp.results.panel import live_results, mode_of, results_of, results_visible

bp = Blueprint("pages", __name__)
voter.init_app(bp)


@bp.get("/")
def index():
    """All listed topics, open first, newest first, each with its total votes.

    An unlisted topic is left out: it is reached by its link, QR code or an event's code.
    """
    store = services.topics()
    topics = []
    for topic in map(shown, store.all()):
        if not topic["listed"]:
            continue
        visible = results_visible(topic)
        total = votes_counted(topic, store.counts(topic["id"])) if visible else None
        topics.append({**topic, "total_votes": total})
    return render_template("index.html", topics=topics)


@bp.get("/t/<topic_id>")
def topic(topic_id):
    """The question, a button per choice, live results; `?vote=<id>` shows that vote's state."""
    current = get_topic(topic_id)
    vote_id = valid_id(request.args.get("vote"))
    state = vote_state(current, vote_id) if vote_id else None
    return render_topic(current, vote=state)


@bp.get("/t/<topic_id>/results")
def results(topic_id):
    """The results partial (htmx polling) or a results page; 304 when nothing changed."""
    topic = get_topic(topic_id)
    view = results_of(topic, mode_of(request.args.get("view")))
    # The page and the partial are different bodies, with different entity tags.
    template, etag = "results.html", view["page_etag"]
    if is_htmx():
        template, etag = "_results.html", view["partial_etag"]
    return polled(etag, lambda: render_template(template, topic=topic, results=view))


def render_topic(topic: dict, vote=None, message: str | None = None, answer=None):
    """The topic page: its ballot (with this browser's ballot), live results, share link."""
    results, stream_url = live_results(topic)
    return render_template(
        "topic.html", topic=topic, vote=vote, message=message, answer=answer,
        **ballot_view(topic), results=results, stream_url=stream_url,
        share_url=public_url_for("pages.topic", topic_id=topic["id"]),
    )  # fmt: skip


@bp.post("/t/<topic_id>/vote")
@counts_votes
@limit_votes
def vote(topic_id):
    """Cast a vote from the form: 303 to the topic page, or the vote partial for htmx (202)."""
    topic = get_topic(topic_id)
    try:
        queued, payload = ballot_box.cast_form(topic, request.form, voter.current())
    except ballot_box.Refused as refused:
        return ballot_box.answer_refused(
            refused,
            fragment=lambda r: render_template("_vote.html", **r.ballot()),
            page=lambda r: render_topic(r.topic, message=r.message, answer=r.answer),
        )
    if is_htmx():
        # 202: the vote is durably queued, not counted yet.
        state = queued_state(topic, queued.id, payload)
        return vary(make_response(render_template("_vote.html", topic=topic, vote=state), 202))
    # Post/redirect/get: reloading the result page never votes twice.
    return redirect(url_for("pages.topic", topic_id=topic_id, vote=queued.id), 303)


@bp.get("/t/<topic_id>/votes/<vote_id>")
def vote_status(topic_id, vote_id):
    """The vote-state partial, polled while the vote is queued; a page link otherwise."""
    topic = get_topic(topic_id)
    if valid_id(vote_id) is None:
        raise TopicNotFound(vote_id)
    if not is_htmx():
        return redirect(url_for("pages.topic", topic_id=topic_id, vote=vote_id), 303)
    polls = request.args.get("n", "0")
    polls = int(polls) if polls.isdigit() and len(polls) < 6 else 0
    state = vote_state(topic, vote_id, polls)
    response = vary(make_response(render_template("_vote_status.html", topic=topic, vote=state)))
    response.headers["Cache-Control"] = "no-store"
    if state["status"] != "queued":
        # The results on this page ask again now (their hx-trigger listens),
        # so "counted" never sits above results that miss the vote.
        response.headers["HX-Trigger"] = "vote-counted"
    return response


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico on pages without an icon link (/docs, JSON): same icon."""
    response = current_app.send_static_file("favicon.svg")
    response.mimetype = "image/svg+xml"
    return response
