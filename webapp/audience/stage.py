"""An event's stage as the audience sees it, on its page (`/<CODE>`) and in its embed.

The stage (templates/events/_stage.html) is what the room is on: the current
question with the ballot of the topic pages and this browser's vote on it,
and its results once the presenter reveals them; before the first question
(or between), a waiting note. The page's event stream (webapp/push/) replaces
its three regions (question, status, results) as they move, each with the
version `region_versions` gives it; without a stream it polls every second
with its ETag, answered from the per-process caches (core/services/events.py)
while the presenter stays put. The page keeps this browser's votes in the
signed session, the embed in its URLs (`memory`, webapp/audience/event_embed.py).

What is pushed is rendered once for every phone (`pushed`): no CSRF token
(the page sends it as a header) and no vote of this browser (its own
fragment, filled by its own requests).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from flask import g, make_response, render_template, session
from flask_babel import gettext

from core.rules.errors import EventNotFound
from core.rules.formats.quiz import is_quiz
from core.rules.topics import generation_of
from webapp import services
from webapp.audience import quiz_stage
from webapp.audience.ballot_box import Refused
from webapp.audience.vote_views import ballot_view, vote_state
from webapp.limits import event_by_code
from webapp.lookup import shown
from webapp.push.hub import ABSENT, digest, join_ids
from webapp.results.panel import results_of

# The votes this browser cast on event questions ({memory_key: vote_id}), kept
# in the signed session cookie: the most recent few, so the cookie stays small.
REMEMBERED_VOTES = 20
_VOTES_KEY = "event_votes"

# The URLs an embed puts in the stage (each carrying its voter), for the topic on screen.
Urls = Callable[[dict | None], dict]

# What changes on a topic without changing its ballot: opening and closing (the
# status region says so), a reveal or hide (the results region), and their time stamps.
VOLATILE = ("is_active", "is_open", "results_held", "last_upd", "opened_at", "closed_at")
REGIONS = ("question", "status", "results")


def region_versions(event: dict, view: dict) -> tuple[str, str, str]:
    """The versions of the stage's regions (REGIONS) in `view` (stage_of, rendered)."""
    topic = view["topic"]
    if topic is None:
        return digest(["lobby", event["position"], event["title"]]), ABSENT, ABSENT
    content = {k: v for k, v in topic.items() if k not in VOLATILE}
    index = view["question"]["index"]
    results = view.get("results")
    # A quiz question's stage also moves with the room's clock, reveal and scores.
    room = view["quiz"]["room"] if view.get("quiz") else None
    return (
        digest([event["position"], index, content, room]),
        digest([index, len(event["questions"]), topic["is_open"]]),
        digest(results["partial_etag"] if results else "hidden"),
    )


def event_or_join_page(typed: str | None):
    """(event, None), or (None, the friendly "no such code" page)."""
    try:
        return event_by_code(typed), None
    except EventNotFound:
        message = None
        if typed:
            message = gettext(
                "No event has the code “%(code)s”. Check it and try again.", code=typed.strip()[:20]
            )
        page = render_template("events/join.html", message=message, typed=typed or "")
        return None, make_response(page, 404 if typed else 200)


def memory_key(topic_id: str, generation: int) -> str:
    """Where this browser's vote on a topic is remembered: per generation, so once the
    presenter resets the question the phone offers the vote again."""
    return f"{topic_id}#{generation}" if generation else topic_id


def remembered() -> dict[str, str]:
    """The votes the session remembers, {memory_key: vote_id}."""
    votes = session.get(_VOTES_KEY)
    return votes if isinstance(votes, dict) else {}


def remember(key: str, vote_id: str) -> None:
    votes = {k: v for k, v in remembered().items() if k != key}
    votes[key] = vote_id
    session[_VOTES_KEY] = dict(list(votes.items())[-REMEMBERED_VOTES:])


def stage_of(
    event: dict, render: bool = True, again: bool = False, memory: dict | None = None,
    streamed: bool = False, pushed: bool = False,
) -> dict:  # fmt: skip
    """What the stage shows this browser, and its ETag.

    The ETag covers the event's version, the current topic's version and
    whether it is open, and this browser's remembered vote on it: all from
    caches or the cookie, so a poll that ends in 304 reads nothing else.
    With `render`, also the vote state and results the template needs.
    `memory`: the votes this browser remembers when not the session's.
    `again`: the voter asked for the form back ("Vote again" on an unlimited topic).
    `streamed`: an event stream keeps it current (its results do not poll).
    `pushed`: for every phone at once (no vote, no player of this browser).
    """
    question, topic, _ = services.events().on_screen(event)
    topic = shown(topic) if topic else None
    vote_id = None
    key = None
    if topic:
        key = memory_key(topic["id"], generation_of(topic))
        vote_id = (remembered() if memory is None else memory).get(key)
    # The voter's ballot is on the stage: an embed's frame that names its voter from
    # storage after its first page (embed.js) must not get that page's 304.
    embedded = memory is not None
    known_voter = g.get("voter_id") if embedded and not g.get("voter_id_is_new") else None
    fingerprint = [event["version"], event["position"], question, vote_id, known_voter]
    if topic:
        fingerprint += [topic["last_upd"], topic["is_open"]]
    quiz = None
    if topic and is_quiz(topic):  # time running out, the answer scored, the rank
        quiz = quiz_stage.player_view(event, topic, question, vote_id, memory is None, pushed)
        fingerprint.append(quiz["fingerprint"])
    view = {
        "question": question,
        "topic": topic,
        "quiz": quiz,
        "memory_key": key,
        "voted": vote_id is not None,
        "etag": hashlib.sha256(json.dumps(fingerprint).encode()).hexdigest()[:24],
    }
    if render and topic:
        view["vote"] = vote_state(topic, vote_id) if vote_id and not again else None
        # Results only once revealed: a hidden question costs no tally read.
        revealed = question["results"] == "shown"
        view["results"] = results_of(topic, streamed=streamed) if revealed else None
    if render:
        view["ids"] = join_ids(region_versions(event, view))
    return view


def stage_context(
    event: dict, memory: dict | None = None, again: bool = False, message: str | None = None,
    answer: dict | None = None, urls: Urls | None = None, streamed: bool = False,
    pushed: bool = False,
) -> dict:  # fmt: skip
    """What templates/events/_stage.html needs: the stage, with this browser's ballot on
    the question on screen, any refusal's message and answer, and an embed's URLs.

    `streamed`: the page follows an event stream. `pushed`: rendered for every
    phone of the stream at once, so with no state of this browser's.
    """
    streamed = streamed or pushed
    view = stage_of(event, again=again, memory={} if pushed else memory, streamed=streamed,
                    pushed=pushed)  # fmt: skip
    context = {"event": event, "stage": view, "message": message, "answer": answer,
               "streamed": streamed, "pushed": pushed}  # fmt: skip
    if view["topic"] and not pushed:
        context.update(ballot_view(view["topic"]))
    return {**context, **(urls(view["topic"]) if urls else {})}


def own_ballot(event: dict, topic_id: str, memory: dict | None = None, urls: Urls | None = None):
    """This browser's own vote fragment on the question on screen (its vote's state, or
    its ballot as the topic's voter policy shows it to this voter): what a pushed stage,
    the same for every phone, leaves out. Nothing (204) once the room moved on."""
    view = stage_of(event, memory=memory)
    topic = view["topic"]
    if topic is None or topic["id"] != topic_id:
        return make_response("", 204)
    context = {"event": event, "topic": topic, "vote": view["vote"], **ballot_view(topic)}
    response = make_response(render_template("events/_vote.html", **context,
                                             **(urls(topic) if urls else {})))  # fmt: skip
    response.headers["Cache-Control"] = "no-store"
    return response


def own_quiz_part(event: dict, topic_id: str):
    """This browser's own part of the quiz question on screen (its nickname, whether its
    answer is in, once revealed its outcome and rank, and the seconds left as the server
    counts them now): what a pushed stage leaves out. Nothing (204) once the room moved
    on, or on a question that is not a quiz's."""
    view = stage_of(event, render=False)
    topic, quiz = view["topic"], view["quiz"]
    if topic is None or topic["id"] != topic_id or quiz is None:
        return make_response("", 204)
    body = render_template("events/_quiz_me.html", event=event, topic=topic, quiz=quiz,
                           vote=view["voted"], pushed=False)  # fmt: skip
    response = make_response(body)
    response.headers["Cache-Control"] = "no-store"
    return response


def refused_fragment(event: dict, refused: Refused, memory: dict | None = None,
                     urls: Urls | None = None):  # fmt: skip
    """A refused vote's answer to htmx: its ballot again, with the message; or, when the
    presenter moved on, the whole stage in place of the old one."""
    if refused.topic is not None:
        extra = urls(refused.topic) if urls else {}
        return render_template("events/_vote.html", event=event, **refused.ballot(), **extra)
    context = stage_context(event, memory, message=refused.message, urls=urls, streamed=True)
    body = render_template("events/_stage.html", **context)
    response = make_response(body)
    response.headers.update({"HX-Retarget": "#stage", "HX-Reswap": "outerHTML"})
    return response
