"""The event embed: `/<CODE>/embed`, an event's stage for an iframe on another site.

It follows the presenter like the audience's page (the same stage,
webapp/audience/stage.py, pushed by its event stream or polled every second
with its ETag, and the same ballot for every question type) with the chrome of the topic embeds
(topic_embed.py: framable by EMBED_ORIGINS, no header or language bar).

A cross-site iframe gets no cookies from this app in today's browsers (third-
party cookies are blocked or partitioned), so the embed keeps elsewhere what
the audience page keeps in cookies:

- its voter: a timed token signed for this event (webapp/audience/embed_voter.py),
  kept in the frame's storage by static/embed.js and sent in the X-Embed-Voter
  header, never in a URL; so a topic that counts one vote per voter still knows
  this frame after a reload, where the browser gives the frame storage.
- `vote` and `for` in its URLs: the vote just cast and the question it was cast
  on (stage.memory_key), so the stage shows its state ("waiting to be counted",
  "counted") like the audience's does. A vote id names a vote, not a voter: it
  casts nothing.

Its vote URL is exempt from CSRF (no session cookie to bind a token to): a
forged post could do nothing the public POST /votes, which takes any voter_id,
does not already allow. Its "Ask" panel (webapp/qna/phones.py) sends its voter
the same way, in the header; whether it asked (`asked`, naming no one) is in its URLs.
"""

from __future__ import annotations

from flask import Blueprint, g, make_response, redirect, render_template, request, url_for

from core.rules.errors import EventNotFound
from core.rules.join_codes import CODE_LENGTH
from webapp import voter
from webapp.audience import ballot_box, embed_voter
from webapp.audience.stage import (
    event_or_join_page,
    memory_key,
    own_ballot,
    refused_fragment,
    stage_context,
    stage_of,
)
from webapp.htmx import is_htmx, polled, vary
from webapp.limits import event_by_code, limit_votes
from webapp.lookup import valid_id
from webapp.metrics import counts_votes
from webapp.qna.panel import embed_urls, panel_context
from webapp.qna.pushed import with_list_version
from webapp.security import csrf, embeddable

bp = Blueprint("event_embed", __name__)
CODE = f"<string(length={CODE_LENGTH}):code>"


@bp.before_request
def voter_from_the_header() -> None:
    """This embed's voter (from its X-Embed-Voter token, else a new one): what
    voter.current() answers (its Q&A panel's routes, webapp/qna/phones.py, take it
    the same way). No cookie is set for it (voter.remember is not on this
    blueprint), and no URL carries it."""
    voter_id = None
    code = (request.view_args or {}).get("code")
    try:
        event_id = event_by_code(code)["id"] if code else None
    except EventNotFound:
        event_id = None  # the view answers with its join page
    if event_id:
        voter_id = embed_voter.voter_in(event_id, embed_voter.sent())
    # A new id proves nothing yet: its votes fall under the anonymous rate limit
    # (limits.voter_named).
    g.voter_id_is_new = voter_id is None
    g.voter_id = voter_id or voter.new_id()
    g.voter_token = embed_voter.token_for(event_id, g.voter_id) if event_id else ""


@bp.after_request
def fresh_token(response):
    """Every answer carries a fresh token for the same voter (embed.js keeps it), so a
    frame in use keeps its voter past the token's age."""
    if g.get("voter_token"):
        response.headers[embed_voter.HEADER] = g.voter_token
        response.vary.add(embed_voter.HEADER)
    return response


def _memory() -> dict[str, str]:
    """The vote this embed remembers, {memory_key: vote_id}, from its URL."""
    key, vote_id = request.args.get("for", ""), valid_id(request.args.get("vote"))
    return {key: vote_id} if key and vote_id else {}


def _asked(personal: bool = True) -> dict:
    """`asked=1` while this embed asked a question here (its Ask panel's own questions):
    in its URLs, and sent with every request of its stage (hx-vals, embed.html). It
    names no voter (the header does), so it may travel in a URL."""
    return {"asked": 1} if personal and request.values.get("asked") == "1" else {}


def _urls(event: dict, memory: dict, personal: bool = True):
    """The stage's URLs for the topic on screen, with the remembered vote and, unless
    drawn for every embed (`personal` false), whether this one asked; the voter
    travels in a header, never in these."""
    code = event["code"]
    mine = _asked(personal)
    kept = {"vote": next(iter(memory.values())), "for": next(iter(memory))} if memory else {}

    def urls(topic: dict | None) -> dict:
        vote_url = None
        if topic:
            vote_url = url_for("event_embed.vote", code=code, topic_id=topic["id"], **mine)
        return {
            "stage_url": url_for("event_embed.stage", code=code, **mine, **kept),
            "check_url": url_for("event_embed.view", code=code, **mine, **kept),
            "embed_again_url": url_for("event_embed.view", code=code, **mine),
            "embed_vote_url": vote_url,
            "embedded": True,
        }

    return urls


def pushed_urls(event: dict):
    """The URLs of a stage pushed to every embed of the event (webapp/push/): nothing of
    one frame; each sends its voter in its header and whether it asked in hx-vals
    (templates/events/embed.html)."""
    return _urls(event, {}, personal=False)


def _stage(event: dict, memory: dict, message: str | None = None, answer=None,
           streamed: bool = False) -> dict:  # fmt: skip
    return stage_context(event, memory, message=message, answer=answer,
                         urls=_urls(event, memory), streamed=streamed)  # fmt: skip


def embed_page(event: dict, memory: dict | None = None, message: str | None = None, answer=None,
               qna: dict | None | bool = True, status: int = 200):  # fmt: skip
    """The whole embed: the stage (with a refused vote's message and answer), kept current
    by its event stream, and, while the event takes questions, its "Ask" panel (`qna`:
    drawn here when True), whose top list the same stream pushes."""
    memory = _memory() if memory is None else memory
    if qna is True:
        qna = panel_context(event, embed_urls(event), request.args.get("qna"))
    context = _stage(event, memory, message, answer, streamed=True)
    last = with_list_version(context["stage"]["ids"], event)
    stream_url = url_for("push.embed_stream", code=event["code"], last=last)
    body = render_template("events/embed.html", qna=qna, **context, stream_url=stream_url,
                           voted_on=list(memory))  # fmt: skip
    return embeddable(make_response(body, status))


@bp.get(f"/{CODE}/embed")
def view(code):
    """The event's current question, its ballot and (once revealed) its results."""
    event, page = event_or_join_page(code)
    if page:
        return page
    response = embed_page(event)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get(f"/{CODE}/embed/stage")
def stage(code):
    """The stage, polled every second: 304 while nothing this embed shows changed."""
    event, page = event_or_join_page(code)
    if page:
        return page
    memory = _memory()
    etag = stage_of(event, render=False, memory=memory)["etag"]
    return polled(etag, lambda: render_template("events/_stage.html", **_stage(event, memory)))


@bp.get(f"/{CODE}/embed/vote/<topic_id>")
def my_vote(code, topic_id):
    """This embed's vote fragment on the question on screen (for a pushed stage)."""
    event, page = event_or_join_page(code)
    if page:
        return page
    memory = _memory()
    return vary(own_ballot(event, topic_id, memory, _urls(event, memory)))


@bp.post(f"/{CODE}/embed/vote/<topic_id>")
@csrf.exempt
@counts_votes
@limit_votes
def vote(code, topic_id):
    """A vote from the embed: the new stage for htmx (202), else 303 back to the embed."""
    event, page = event_or_join_page(code)
    if page:
        return page
    memory = _memory()
    try:
        topic = ballot_box.topic_on_screen(event, topic_id)
        queued, _ = ballot_box.cast_form(topic, request.form, voter.current())
    except ballot_box.Refused as refused:
        return ballot_box.answer_refused(
            refused,
            fragment=lambda r: refused_fragment(event, r, memory, _urls(event, memory)),
            page=lambda r: embed_page(event, memory, r.message, r.answer, status=r.status),
        )
    memory = {memory_key(topic["id"], queued.generation): queued.id}
    page_url = url_for("event_embed.view", code=event["code"], vote=queued.id,
                       **{"for": next(iter(memory))}, **_asked())  # fmt: skip
    if not is_htmx():
        return redirect(page_url, 303)
    body = render_template("events/_stage.html", **_stage(event, memory, streamed=True))
    response = vary(make_response(body, 202))
    # The form sits inside the stage: the answer replaces the whole stage, whose poll
    # URL now carries the vote; the frame's own URL too, so a reload keeps it.
    response.headers.update({"HX-Retarget": "#stage", "HX-Reswap": "outerHTML",
                             "HX-Replace-Url": page_url})  # fmt: skip
    return response
