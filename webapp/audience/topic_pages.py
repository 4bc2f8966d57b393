"""Voter pages and their htmx partials: topic list, voting, live results, present view.

Every partial is an ordinary template that its page includes; an endpoint
answers with the partial alone when htmx asks (`HX-Request`), and with a
whole page otherwise, so everything works without JavaScript too. Polling is
state: a partial carries `hx-trigger` only while there is something left to
wait for (a queued vote, an open topic).
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
    url_for,
)
from flask_babel import get_locale, gettext, lazy_gettext

from core.rules.clock import utc_now
from core.rules.errors import (
    AlreadyVoted,
    AnswerInvalid,
    ChoiceNotInTopic,
    QueueUnavailable,
    TopicClosed,
    TopicNotFound,
    VoterRequired,
)
from core.rules.question_types import votes_counted
from core.rules.results import results_for
from core.rules.shares import leaders, shares_adding_to_100
from core.rules.topics import is_open
from core.schemas.topics import TopicOut
from webapp import services, voter
from webapp.audience.ballot_forms import (
    FormInvalid,
    answer_of,
    described,
    payload_from_form,
    refusal_message,
    vote_in,
)
from webapp.auth import signed_in
from webapp.htmx import is_htmx, vary
from webapp.limits import limit_votes
from webapp.lookup import get_topic, valid_id
from webapp.metrics import counts_votes
from webapp.results_view import typed_view

bp = Blueprint("pages", __name__)
voter.init_app(bp)


# Seconds between polls of a queued vote's state: quick at first (the worker
# usually records a vote within a second or two), then gentle, so a vote
# stuck in the queue does not keep a phone busy.
FAST_POLLS, FAST_DELAY, SLOW_DELAY = 20, 1, 5
PROJECTOR_POLL_SECONDS = 0.5

REJECTION_REASONS = {
    "topic_closed": lazy_gettext("the topic closed before your vote could be counted"),
    "choice_removed": lazy_gettext("that choice was removed before your vote could be counted"),
    "duplicate_voter": lazy_gettext("you had already voted on this topic"),
    "changed_by_voter": lazy_gettext("you changed your vote since"),
    "voter_required": lazy_gettext(
        "this topic counts one vote per voter and your browser sent no voter id"
    ),
    "reset": lazy_gettext("the results were reset before your vote could be counted"),
}
UNKNOWN_REASON = lazy_gettext("it was refused")


def results_visible(topic: dict) -> bool:
    """The topic's results_visibility rule for this browser (admins always see)."""
    return services.voting().results_visible(topic, voter.current(), is_admin=signed_in())


# How the results are being looked at: on the viewer's own page (their own
# rule: a voter who voted, an admin), on a projector (the audience's rule: the
# room sees what an anonymous voter sees), or on a projector where a
# signed-in presenter chose to reveal them.
PAGE, PRESENT, REVEALED = "page", "present", "revealed"


def mode_of(requested: str | None) -> str:
    if requested == REVEALED and signed_in():
        return REVEALED
    return PRESENT if requested in (PRESENT, REVEALED) else PAGE


def visible_in(topic: dict, mode: str) -> bool:
    if mode == PAGE:
        return results_visible(topic)
    if mode == REVEALED:
        return True
    return services.voting().results_visible(topic, None, is_admin=False)


# -- results --------------------------------------------------------------------


def results_of(topic: dict, mode: str = PAGE) -> dict:
    """The topic's results as the partial shows them, and their ETag.

    The ETag covers everything the partial renders: the counts, the topic
    version (title and choices change `last_upd`), whether it is open, the
    view mode (its polling URL) and whether this viewer may see the results.
    Hidden results put no counts in the ETag either, so it cannot betray
    votes arriving.
    """
    visible = visible_in(topic, mode)
    counts = services.topics().counts(topic["id"]) if visible else {}
    view = TopicOut.render(topic, counts)
    view["visible"] = visible
    view["mode"] = mode
    # The projector asks twice a second (one screen per room, mostly bodiless
    # 304s; the tallies it reads are cached, one read per second per process):
    # a tap shows within 2 s at p95 (bench/tap_to_screen.py); phones ask every 2 s.
    view["poll_seconds"] = 2 if mode == PAGE else PROJECTOR_POLL_SECONDS
    view["poll_url"] = url_for(
        "pages.results", topic_id=topic["id"], view=None if mode == PAGE else mode
    )
    leading = set(leaders({c["id"]: c["vote_count"] for c in view["choices"]}))
    shares = shares_adding_to_100([c["vote_count"] for c in view["choices"]])
    for choice, share in zip(view["choices"], shares, strict=True):
        choice["leading"] = choice["id"] in leading
        # Pages show shares that add up to 100; the API keeps the original's rounding.
        choice["display_share"] = share
    view["tied"] = len(leading) > 1
    view["leaders"] = [c["description"] for c in view["choices"] if c["leading"]]
    # Other question types: their own results (core/rules/results.py), drawn by
    # their own partial. A signed-in admin sees hidden answers (to show them
    # again) on their own page; a projector never shows them.
    moderator = signed_in()
    typed = results_for(topic, counts, admin=moderator and mode == PAGE) if visible else None
    view["typed"] = typed_view(topic, typed)
    view["can_moderate"] = moderator
    fingerprint = json.dumps(
        [
            # Every counter (answers, points, ratings…), not only the choices'.
            sorted(counts.items()),
            moderator,
            topic["last_upd"],
            topic["is_open"],
            visible,
            mode,
            # Each language is a different body, so a different entity tag.
            str(get_locale()),
        ]
    )
    version = hashlib.sha256(fingerprint.encode()).hexdigest()[:24]
    # The page and the partial are different bodies: different entity tags.
    view["partial_etag"] = f"{version}-p"
    view["page_etag"] = f"{version}-f"
    return view


@bp.get("/t/<topic_id>/results")
def results(topic_id):
    """The results partial (htmx polling) or a results page; 304 when nothing changed."""
    topic = get_topic(topic_id)
    view = results_of(topic, mode_of(request.args.get("view")))
    etag = view["partial_etag"] if is_htmx() else view["page_etag"]
    if request.if_none_match.contains(etag):
        # Nothing changed: no body, and htmx is configured not to swap a 304.
        response = current_app.response_class(status=304)
    else:
        template = "_results.html" if is_htmx() else "results.html"
        response = make_response(render_template(template, topic=topic, results=view))
    response.set_etag(etag)
    # Always revalidate: the ETag makes that a cheap 304.
    response.headers["Cache-Control"] = "no-cache"
    return vary(response)


# -- voting ---------------------------------------------------------------------


def vote_state(topic: dict, vote_id: str, polls: int = 0) -> dict:
    """Where a vote is: queued (not recorded yet), counted or rejected (with why)."""
    record = services.voting().vote(vote_id)
    if record is not None and record.get("topic_id") != topic["id"]:
        record = None  # a vote of another topic is nothing to show here
    state = {"id": vote_id, "status": "queued", "polls": polls}
    if record is not None:
        # counted, rejected, or replaced (a changeable vote changed later).
        state["status"] = record["status"]
        voting = services.voting()
        if voting.choice_visible(topic, record, voter.current(), is_admin=signed_in()):
            state["choice"] = described(topic, answer_of(record))
        reason = record.get("reason")
        if reason:
            state["reason"] = REJECTION_REASONS.get(reason, UNKNOWN_REASON)
    state["delay"] = FAST_DELAY if polls < FAST_POLLS else SLOW_DELAY
    return state


@bp.get("/")
def index():
    """All listed topics, open first, newest first, each with its total votes.

    An unlisted topic is left out: it is reached by its link, QR code or an event's code.
    """
    store = services.topics()
    topics = []
    for topic in store.all():
        if not topic["listed"]:
            continue
        topic = {**topic, "is_open": is_open(topic, utc_now())}
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


def ballot_view(topic: dict) -> dict:
    """What the ballot shows of this browser's counted ballot, on a topic that limits voters.

    `my_choice`: the choice id it holds. A one-per-voter voter sees "You voted
    for X" over disabled buttons (`already_voted`: they could only refuse); a
    changeable voter sees which choice is theirs to change.
    """
    ballot = None
    if topic["vote_limit"] != "unlimited":
        ballot = services.voting().ballot(topic["id"], voter.current())
    mine = ballot.get("choice_id") if ballot else None
    # Other types: the answer the ballot holds, shown in the form.
    answer = answer_of(ballot) if ballot and not mine else None
    return {
        "my_choice": mine,
        "my_answer": answer,
        "already_voted": bool(ballot) and topic["vote_limit"] == "one_per_voter",
    }


def render_topic(topic: dict, vote=None, message: str | None = None, status=200, answer=None):
    return make_response(
        render_template(
            "topic.html",
            topic=topic,
            vote=vote,
            message=message,
            answer=answer,
            **ballot_view(topic),
            results=results_of(topic),
            share_url=url_for("pages.topic", topic_id=topic["id"], _external=True),
        ),
        status,
    )


@bp.post("/t/<topic_id>/vote")
@counts_votes
@limit_votes
def vote(topic_id):
    """Cast a vote from the form: 303 to the topic page, or the vote partial for htmx (202)."""
    topic = get_topic(topic_id)
    voting = services.voting()
    payload = {}
    try:
        payload = payload_from_form(topic, request.form)
        ballot = vote_in(topic, payload)
        queued = voting.cast(ballot, voter_id=voter.current(), request_id=g.get("request_id"))
    except (FormInvalid, AnswerInvalid) as exc:
        return _vote_refused(topic, refusal_message(topic, exc), 422, answer=payload)
    except ChoiceNotInTopic:
        topic = get_topic(topic_id, fresh=True)
        return _vote_refused(
            topic, gettext("That choice is no longer part of this topic. Pick again."), 422
        )
    except TopicClosed:
        topic = get_topic(topic_id, fresh=True)
        return _vote_refused(
            topic, gettext("Voting on this topic is closed: your vote was not taken."), 409
        )
    except AlreadyVoted:
        # Not an error to shout about: the ballot shows "You voted for X" instead.
        return _vote_refused(topic, None, 409)
    except VoterRequired:  # pages always send the voter cookie's id; kept for safety
        return _vote_refused(
            topic, gettext("This topic needs a voter id: allow cookies and reload."), 422
        )
    except QueueUnavailable:
        return _vote_refused(
            topic,
            gettext("We could not take your vote just now. Please try again in a moment."),
            503,
        )
    state = {
        "id": queued.id,
        "status": "queued",
        "polls": 0,
        "delay": FAST_DELAY,
        "choice": described(topic, payload),
    }
    if is_htmx():
        # 202: the vote is durably queued, not counted yet.
        return vary(make_response(render_template("_vote.html", topic=topic, vote=state), 202))
    # Post/redirect/get: reloading the result page never votes twice.
    return redirect(url_for("pages.topic", topic_id=topic_id, vote=queued.id), 303)


def _vote_refused(topic: dict, message: str | None, status: int, answer: dict | None = None):
    if is_htmx():
        body = render_template(
            "_vote.html", topic=topic, vote=None, message=message, answer=answer,
            **ballot_view(topic),
        )  # fmt: skip
        response = vary(make_response(body, status))
    else:
        response = render_topic(topic, message=message, status=status, answer=answer)
    if status == 503:
        response.headers["Retry-After"] = "5"
    return response


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
