"""The audience's pages of an event: join by code, then follow the presenter.

`/<CODE>` (and `/j/<CODE>`, and the home page's "Enter code" form at `/j`)
open the event. Its page holds one fragment, the stage, which polls every
second with its ETag: while the presenter stays put the answer is a bodiless
304, served from the per-process caches (core/services/events.py). When the
presenter moves on, the next poll brings the new question, with the voting
form of the topic pages (templates/_vote.html) and this browser's own vote
on it, remembered in the signed session.
"""

from __future__ import annotations

import hashlib
import json

from flask import (
    Blueprint,
    current_app,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext, lazy_gettext

from core.rules.clock import utc_now
from core.rules.errors import (
    AlreadyVoted,
    AnswerInvalid,
    ChoiceNotInTopic,
    EventNotFound,
    QueueUnavailable,
    TopicClosed,
    VoterRequired,
)
from core.rules.join_codes import CODE_LENGTH, normalized
from core.rules.topics import generation_of, is_open
from webapp import services, voter
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
from webapp.lookup import valid_id
from webapp.metrics import counts_votes

bp = Blueprint("events_pages", __name__)
voter.init_app(bp)

STAGE_POLL_SECONDS = 1
# The votes this browser cast on event questions ({topic_id: vote_id}), kept
# in the signed session cookie: the most recent few, so the cookie stays small.
REMEMBERED_VOTES = 20
_VOTES_KEY = "event_votes"

REFUSED = {
    ChoiceNotInTopic: (
        lazy_gettext("That choice is no longer part of this question. Pick again."),
        422,
    ),
    TopicClosed: (lazy_gettext("Voting on this question is closed: your vote was not taken."), 409),
    AlreadyVoted: (
        lazy_gettext("You have already voted on this question: one vote per voter."),
        409,
    ),
    VoterRequired: (lazy_gettext("This question needs a voter id: allow cookies and reload."), 422),
    QueueUnavailable: (
        lazy_gettext("We could not take your vote just now. Please try again."),
        503,
    ),
}


def _event_or_join_page(typed: str | None):
    """(event, None), or (None, the friendly "no such code" page)."""
    try:
        return services.events().by_code(typed), None
    except EventNotFound:
        message = None
        if typed:
            message = gettext(
                "No event has the code “%(code)s”. Check it and try again.", code=typed.strip()[:20]
            )
        page = render_template("events/join.html", message=message, typed=typed or "")
        return None, make_response(page, 404 if typed else 200)


@bp.get("/j")
def join():
    """The "Enter code" form's target (a GET form, so no JavaScript is needed)."""
    typed = request.args.get("code", "")
    event, page = _event_or_join_page(typed)
    return page or redirect(url_for("events_pages.audience", code=event["code"]), 303)


@bp.get("/j/<typed>")
def join_link(typed):
    """A code in a link, any case: to the event's short URL."""
    return join_with(typed)


def join_with(typed: str):
    event, page = _event_or_join_page(typed)
    return page or redirect(url_for("events_pages.audience", code=event["code"]), 303)


@bp.get(f"/<string(length={CODE_LENGTH}):code>")
def audience(code):
    """The phone's page: the current question, or "waiting for the next question"."""
    if normalized(code) != code:
        return join_with(code)  # lower case or look-alikes: the canonical URL, or the message
    event, page = _event_or_join_page(code)
    if page:
        return page
    stage = stage_of(event, again=request.args.get("again") == "1")
    response = make_response(render_template("events/audience.html", event=event, stage=stage))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get(f"/<string(length={CODE_LENGTH}):code>/stage")
def stage(code):
    """The stage fragment, polled every second: 304 while nothing this browser sees changed."""
    event, page = _event_or_join_page(code)
    if page:
        return page
    if not is_htmx():
        return redirect(url_for("events_pages.audience", code=event["code"]), 303)
    view = stage_of(event, render=False)
    if request.if_none_match.contains(view["etag"]):
        response = current_app.response_class(status=304)
    else:
        view = stage_of(event)
        response = make_response(render_template("events/_stage.html", event=event, stage=view))
    response.set_etag(view["etag"])
    response.headers["Cache-Control"] = "no-cache"
    return vary(response)


def stage_of(
    event: dict, render: bool = True, again: bool = False, memory: dict | None = None
) -> dict:
    """What the stage shows this browser, and its ETag.

    The ETag covers the event's version, the current topic's version and
    whether it is open, and this browser's remembered vote on it: all from
    caches or the cookie, so a poll that ends in 304 reads nothing else.
    With `render`, also the vote state and results the template needs.
    `memory`: the votes this browser remembers ({memory_key: vote_id}) when not
    the session's (an embed keeps them in its URL: webapp/audience/event_embed.py).
    """
    question, topic, _ = services.events().on_screen(event)
    remembered = memory_key(topic["id"], generation_of(topic)) if topic else None
    vote_id = (_remembered() if memory is None else memory).get(remembered) if topic else None
    is_open = _is_open(topic) if topic else False
    fingerprint = [event["version"], event["position"], question, vote_id]
    if topic:
        fingerprint += [topic["last_upd"], is_open]
    view = {
        "question": question,
        "topic": {**topic, "is_open": is_open} if topic else None,
        "etag": hashlib.sha256(json.dumps(fingerprint).encode()).hexdigest()[:24],
    }
    if render and topic:
        # `again`: the voter asked for the form back ("Vote again" on an unlimited topic).
        view["vote"] = vote_state(topic, vote_id) if vote_id and not again else None
        # Results only once revealed: a hidden question costs no tally read.
        shown = question["results"] == "shown"
        view["results"] = results_of(view["topic"]) if shown else None
    return view


def _is_open(topic: dict) -> bool:
    return is_open(topic, utc_now())


def _remembered() -> dict[str, str]:
    votes = session.get(_VOTES_KEY)
    return votes if isinstance(votes, dict) else {}


def memory_key(topic_id: str, generation: int) -> str:
    """Where the session keeps this browser's vote on a topic: per generation, so once
    the presenter resets the question the phone offers the vote again."""
    return f"{topic_id}#{generation}" if generation else topic_id


def _remember(key: str, vote_id: str) -> None:
    votes = {k: v for k, v in _remembered().items() if k != key}
    votes[key] = vote_id
    session[_VOTES_KEY] = dict(list(votes.items())[-REMEMBERED_VOTES:])


@bp.post(f"/<string(length={CODE_LENGTH}):code>/vote/<topic_id>")
@counts_votes
@limit_votes
def vote(code, topic_id):
    """A vote from the stage's form: the vote fragment for htmx (202), else back to the page."""
    event, page = _event_or_join_page(code)
    if page:
        return page
    question, topic, _ = services.events().on_screen(event)
    if topic is None or valid_id(topic_id) != topic["id"]:
        # The presenter moved on while this form was on screen.
        return _refused(
            event, topic, gettext("The presenter has moved on: this question is over."), 409
        )
    topic = {**topic, "is_open": _is_open(topic)}
    payload = {}
    try:
        payload = payload_from_form(topic, request.form)
        ballot = vote_in(topic, payload)
        queued = services.voting().cast(
            ballot, voter_id=voter.current(), request_id=g.get("request_id")
        )
    except (FormInvalid, AnswerInvalid) as exc:
        return _refused(event, topic, refusal_message(topic, exc), 422, answer=payload)
    except tuple(REFUSED) as exc:
        message, status = REFUSED[type(exc)]
        message = str(message)
        return _refused(event, topic, message, status)
    _remember(memory_key(topic_id, queued.generation), queued.id)
    if not is_htmx():
        return redirect(url_for("events_pages.audience", code=event["code"]), 303)
    state = {"id": queued.id, "status": "queued", "polls": 0, "delay": FAST_DELAY,
             "choice": described(topic, payload)}  # fmt: skip
    body = render_template("events/_vote.html", event=event, topic=topic, vote=state)
    return vary(make_response(body, 202))


def _refused(event: dict, topic: dict | None, message: str, status: int, answer=None):
    if is_htmx() and topic is not None:
        body = render_template(
            "events/_vote.html", event=event, topic=topic, vote=None, message=message,
            already_voted=status == 409 and "already" in message, answer=answer,
        )  # fmt: skip
        response = vary(make_response(body, status))
    else:
        body = render_template("events/audience.html", event=event, stage=stage_of(event),
                               message=message)  # fmt: skip
        response = make_response(body, status)
    if status == 503:
        response.headers["Retry-After"] = "5"
    return response
