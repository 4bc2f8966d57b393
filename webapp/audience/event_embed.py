"""The event embed: `/<CODE>/embed`, an event's stage for an iframe on another site.

It follows the presenter like the audience's page (events_pages.py: the same
stage, polled every second with its ETag) with the chrome of the topic embeds
(embed.py: framable by EMBED_ORIGINS, no header or language bar).

A cross-site iframe gets no cookies from this app in today's browsers (third-
party cookies are blocked or partitioned), so the embed remembers in its URL
what the audience page keeps in cookies:

- `voter`: this browser's voter id, signed like the voter cookie. The page
  makes one on the first visit; static/embed.js keeps it in localStorage (per
  embedding site) and puts it back in the URL of the next visit, so a topic
  that counts one vote per voter still knows this browser after a reload.
- `vote` and `for`: the vote just cast and the question it was cast on
  (events_pages.memory_key), so the stage shows its state ("waiting to be
  counted", "counted") like the audience's does.

Its vote URL is exempt from CSRF (no session cookie to bind a token to): a
forged post could do nothing the public POST /votes, which takes any voter_id,
does not already allow.
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
from itsdangerous import BadSignature
from pydantic import ValidationError

from core.rules.join_codes import CODE_LENGTH
from core.schemas.votes import VoteIn
from webapp import services, voter
from webapp.audience.event_pages import REFUSED, _event_or_join_page, memory_key, stage_of
from webapp.audience.topic_pages import ballot_view
from webapp.htmx import is_htmx, polled, vary
from webapp.limits import limit_votes
from webapp.lookup import valid_id
from webapp.metrics import counts_votes
from webapp.security import csrf, embeddable

bp = Blueprint("event_embed", __name__)
CODE = f"<string(length={CODE_LENGTH}):code>"


@bp.before_request
def _voter_from_the_url() -> None:
    """This embed's voter id (from `voter`, else a new one): what voter.current() answers."""
    token = request.values.get("voter", "")
    try:
        voter_id = voter.serializer().loads(token) if token else None
    except BadSignature:
        voter_id = None
    # A new id proves nothing yet: its votes fall under the anonymous rate limit
    # (limits.voter_named). No cookie is set for it (voter.remember is not on this
    # blueprint): the page's URLs carry it.
    g.voter_id_is_new = not isinstance(voter_id, str)
    g.voter_id = voter_id if isinstance(voter_id, str) else voter.new_id()
    g.voter_token = voter.serializer().dumps(g.voter_id)


def _memory() -> dict[str, str]:
    """The vote this embed remembers, {memory_key: vote_id}, from its URL."""
    key, vote_id = request.args.get("for", ""), valid_id(request.args.get("vote"))
    return {key: vote_id} if key and vote_id else {}


def _urls(event: dict, view: dict, memory: dict) -> dict:
    """The stage's URLs, each carrying the voter (and the remembered vote)."""
    code, token = event["code"], g.voter_token
    kept = {"vote": next(iter(memory.values())), "for": next(iter(memory))} if memory else {}
    urls = {
        "stage_url": url_for("event_embed.stage", code=code, voter=token, **kept),
        "check_url": url_for("event_embed.view", code=code, voter=token, **kept),
        "embed_again_url": url_for("event_embed.view", code=code, voter=token),
        "embed_vote_url": None,
    }
    if view["topic"]:
        topic_id = view["topic"]["id"]
        urls["embed_vote_url"] = url_for(
            "event_embed.vote", code=code, topic_id=topic_id, voter=token
        )
    return urls


def _stage(event: dict, memory: dict, message: str | None = None) -> dict:
    """What the template needs: the stage (with this voter's ballot) and its URLs."""
    view = stage_of(event, memory=memory)
    context = {"event": event, "stage": view, "message": message, "embedded": True}
    if view["topic"]:
        context.update(ballot_view(view["topic"]))
    return {**context, **_urls(event, view, memory)}


@bp.get(f"/{CODE}/embed")
def view(code):
    """The event's current question, its ballot and (once revealed) its results."""
    event, page = _event_or_join_page(code)
    if page:
        return page
    body = render_template("events/embed.html", **_stage(event, _memory()))
    response = embeddable(make_response(body))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get(f"/{CODE}/embed/stage")
def stage(code):
    """The stage, polled every second: 304 while nothing this embed shows changed."""
    event, page = _event_or_join_page(code)
    if page:
        return page
    memory = _memory()
    etag = stage_of(event, render=False, memory=memory)["etag"]
    return polled(etag, lambda: render_template("events/_stage.html", **_stage(event, memory)))


@bp.post(f"/{CODE}/embed/vote/<topic_id>")
@csrf.exempt
@counts_votes
@limit_votes
def vote(code, topic_id):
    """A vote from the embed: the new stage for htmx (202), else 303 back to the embed."""
    event, page = _event_or_join_page(code)
    if page:
        return page
    _, topic, _ = services.events().on_screen(event)
    if topic is None or valid_id(topic_id) != topic["id"]:
        message = gettext("The presenter has moved on: this question is over.")
        return _refused(event, message, 409)
    try:
        ballot = VoteIn(topic_id=topic_id, choice_id=request.form.get("choice_id", ""))
        queued = services.voting().cast(
            ballot, voter_id=voter.current(), request_id=g.get("request_id")
        )
    except ValidationError:
        return _refused(event, gettext("Pick one of the choices."), 422)
    except tuple(REFUSED) as exc:
        message, status = REFUSED[type(exc)]
        return _refused(event, str(message), status)
    memory = {memory_key(topic_id, queued.generation): queued.id}
    page_url = url_for("event_embed.view", code=event["code"], voter=g.voter_token,
                       vote=queued.id, **{"for": next(iter(memory))})  # fmt: skip
    if not is_htmx():
        return redirect(page_url, 303)
    body = render_template("events/_stage.html", **_stage(event, memory))
    response = vary(make_response(body, 202))
    # The form sits inside the stage: the answer replaces the whole stage, whose poll
    # URL now carries the vote; the frame's own URL too, so a reload keeps it.
    response.headers.update({"HX-Retarget": "#stage", "HX-Reswap": "outerHTML",
                             "HX-Replace-Url": page_url})  # fmt: skip
    return response


def _refused(event: dict, message: str, status: int):
    memory = _memory()
    if is_htmx():
        body = render_template("events/_stage.html", **_stage(event, memory, message))
        response = vary(make_response(body, status))
        response.headers.update({"HX-Retarget": "#stage", "HX-Reswap": "outerHTML"})
    else:
        body = render_template("events/embed.html", **_stage(event, memory, message))
        response = embeddable(make_response(body, status))
    if status == 503:
        response.headers["Retry-After"] = "5"
    return response
