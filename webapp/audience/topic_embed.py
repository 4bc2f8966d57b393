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

from flask import (
    Blueprint,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext

from core.rules.errors import AnswerInvalid, ChoiceNotInTopic, QueueUnavailable, TopicClosed
from webapp import services
from webapp.audience.ballot_forms import (
    FormInvalid,
    described,
    payload_from_form,
    refusal_message,
    vote_in,
)
from webapp.audience.topic_pages import FAST_DELAY, results_of, vote_state
from webapp.htmx import is_htmx, vary
from webapp.limits import limit_votes
from webapp.lookup import get_topic, valid_id
from webapp.metrics import counts_votes
from webapp.security import csrf, embed_policy, embeddable

bp = Blueprint("embed", __name__)


@bp.record_once
def _check_origins(state) -> None:
    # A bad EMBED_ORIGINS stops the app at start, not at the first embed.
    embed_policy(state.app.config["SETTINGS"].embed_origins)


def _votes_here(topic: dict) -> bool:
    return topic["vote_limit"] == "unlimited"


def _page(topic: dict, vote=None, message: str | None = None, status: int = 200, answer=None):
    body = render_template(
        "embed.html",
        topic=topic,
        vote=vote,
        message=message,
        answer=answer,
        votes_here=_votes_here(topic),
        results=results_of(topic),
        topic_url=url_for("pages.topic", topic_id=topic["id"], _external=True),
    )
    return embeddable(make_response(body, status))


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
    message, status, payload = None, 202, {}
    if not _votes_here(topic):
        message, status = gettext("Vote on the topic's own page: it counts one vote each."), 409
    else:
        try:
            payload = payload_from_form(topic, request.form)
            ballot = vote_in(topic, payload)
            queued = services.voting().cast(ballot, voter_id=None, request_id=g.get("request_id"))
        except (FormInvalid, AnswerInvalid) as exc:
            message, status = refusal_message(topic, exc), 422
        except ChoiceNotInTopic:
            topic = get_topic(topic_id, fresh=True)
            message, status = gettext("Pick one of the choices."), 422
        except TopicClosed:
            topic = get_topic(topic_id, fresh=True)
            message = gettext("Voting on this topic is closed: your vote was not taken.")
            status = 409
        except QueueUnavailable:
            message = gettext("We could not take your vote just now. Please try again in a moment.")
            status = 503
    if status != 202:
        if is_htmx():
            body = render_template(
                "_embed_vote.html", topic=topic, vote=None, message=message, answer=payload
            )
            return vary(make_response(body, status))
        return _page(topic, message=message, status=status, answer=payload)
    if not is_htmx():
        # Post/redirect/get, back to the embed (the topic's own page may not be framed).
        return redirect(url_for("embed.view", topic_id=topic_id, vote=queued.id), 303)
    state = {
        "id": queued.id,
        "status": "queued",
        "polls": 0,
        "delay": FAST_DELAY,
        "choice": described(topic, payload),
    }
    body = render_template("_embed_vote.html", topic=topic, vote=state, message=None)
    return vary(make_response(body, 202))
