"""Embeds: a topic's ballot and live results for an iframe on another site.

`/t/<id>/embed` is the only page another site may frame: its own
Content-Security-Policy opens frame-ancestors to EMBED_ORIGINS (default any
site); every other page keeps frame-ancestors 'none' (security.py).

Inside a cross-site iframe, browsers keep their cookies from this app, so
neither the voter cookie nor a CSRF token (bound to the session cookie) can
be relied on. So the embed votes only on topics where every vote counts
(`unlimited`): its vote URL needs no cookie and is exempt from CSRF, which
gives a forged request nothing it could not do through the public POST
/votes. A topic that limits voters shows a button to its own page instead (in
a new tab, where its cookie remembers the vote), next to the live results.
"""

from __future__ import annotations

from flask import Blueprint, make_response, redirect, render_template, request, url_for

from webapp.audience import ballot_box
from webapp.audience.vote_views import queued_state, vote_state
from webapp.htmx import is_htmx, vary
from webapp.limits import limit_votes
from webapp.lookup import get_topic, valid_id
from webapp.metrics import counts_votes
from webapp.public_url import public_url_for
from webapp.refusals import OwnPageOnly
from webapp.results.panel import live_results
from webapp.security import csrf, embed_policy, embeddable

bp = Blueprint("embed", __name__)


@bp.record_once
def _check_origins(state) -> None:
    # A bad EMBED_ORIGINS stops the app at start, not at the first embed.
    embed_policy(state.app.config["SETTINGS"].embed_origins)


def _ballot(topic: dict, vote=None, message: str | None = None, answer=None) -> dict:
    """The embed's ballot (templates/_embed_vote.html): a form where every vote counts,
    else a link to the topic's own page."""
    return {
        "topic": topic, "vote": vote, "message": message, "answer": answer,
        "votes_here": topic["vote_limit"] == "unlimited",
        "topic_url": public_url_for("pages.topic", topic_id=topic["id"]),
    }  # fmt: skip


def _page(topic: dict, **ballot):
    results, stream_url = live_results(topic)
    body = render_template("embed.html", **_ballot(topic, **ballot), results=results,
                           stream_url=stream_url)  # fmt: skip
    return embeddable(make_response(body))


@bp.get("/t/<topic_id>/embed")
def view(topic_id):
    """The question, its ballot (or a link to vote), live results; `?vote=<id>` its state."""
    topic = get_topic(topic_id)
    vote_id = valid_id(request.args.get("vote"))
    return _page(topic, vote=vote_state(topic, vote_id) if vote_id else None)


@bp.post("/t/<topic_id>/embed/vote")
@csrf.exempt
@counts_votes
@limit_votes
def vote(topic_id):
    """A vote from the embed: the vote fragment for htmx (202), else 303 to the embed."""
    topic = get_topic(topic_id)
    try:
        if not _ballot(topic)["votes_here"]:
            raise ballot_box.Refused(OwnPageOnly(topic["id"]), topic)
        queued, payload = ballot_box.cast_form(topic, request.form, voter_id=None)
    except ballot_box.Refused as refused:
        return ballot_box.answer_refused(
            refused,
            fragment=lambda r: render_template(
                "_embed_vote.html", **_ballot(r.topic, message=r.message, answer=r.answer)
            ),
            page=lambda r: _page(r.topic, message=r.message, answer=r.answer),
        )
    if not is_htmx():
        # Post/redirect/get, back to the embed (the topic's own page may not be framed).
        return redirect(url_for("embed.view", topic_id=topic_id, vote=queued.id), 303)
    state = queued_state(topic, queued.id, payload)
    body = render_template("_embed_vote.html", **_ballot(topic, vote=state))
    return vary(make_response(body, 202))
