"""The phones' "Ask" panel routes, on the event's page and in its embed.

Each route exists twice, once per way in, with the same handler (webapp/qna/panel.py
says what the panel shows and does):

- `qna_pages` beside the page `/<CODE>`: the voter is the page's signed cookie
  (webapp/voter.py), whether it asked is kept in the signed session, and its forms
  carry the session's CSRF token.
- `qna_embed` beside `/<CODE>/embed`: the voter travels in the X-Embed-Voter header,
  as the embed's votes do (webapp/audience/event_embed.py), whether it asked in the
  URLs, and the posts are
  exempt from CSRF (no cookie to bind a token to; the public JSON API takes the same
  question or upvote from anyone).

Without JavaScript a form posts and comes back to the page (303), a refusal is the
whole page with the panel's message (422, 409, 404, 429); with htmx an ask answers
the panel, an upvote the list, a refusal the same fragment with its message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from flask import Blueprint, flash, make_response, redirect, render_template, request

from core.rules.join_codes import CODE_LENGTH
from webapp import voter
from webapp.audience import event_embed, event_pages
from webapp.audience.stage import event_or_join_page
from webapp.htmx import is_htmx, polled, vary
from webapp.limits import limit_questions, limit_votes
from webapp.qna import panel
from webapp.qna.panel import (
    PanelRefused,
    PanelUrls,
    asked_on_page,
    embed_urls,
    known_voter,
    list_view,
    panel_context,
    remember_asked,
    sort_of,
    taken_notice,
    too_many,
)
from webapp.security import csrf

pages = Blueprint("qna_pages", __name__)
voter.init_app(pages)
embed = Blueprint("qna_embed", __name__)
embed.before_request(event_embed.voter_from_the_header)
embed.after_request(event_embed.fresh_token)
CODE = f"<string(length={CODE_LENGTH}):code>"


@dataclass(frozen=True)
class _Way:
    """What differs between the page and the embed: their URLs, the whole page drawn
    with a panel, and what remembers that this browser asked."""

    urls: Callable[[dict], PanelUrls]
    whole: Callable[[dict, dict | None, int], object]
    remember: Callable[[dict], None]


PAGE = _Way(
    urls=lambda event: PanelUrls(event["code"], asked=asked_on_page(event)),
    whole=lambda event, qna, status: event_pages.audience_page(event, qna, status),
    remember=remember_asked,
)
EMBED = _Way(
    urls=embed_urls,
    whole=lambda event, qna, status: event_embed.embed_page(event, qna=qna, status=status),
    remember=lambda event: None,  # the URLs say it from now on (urls.asked)
)


def _listing(code: str, way: _Way):
    """The list, polled: 304 while nothing this voter sees changed."""
    event, page = event_or_join_page(code)
    if page:
        return page
    urls = way.urls(event)
    if not is_htmx():
        return redirect(urls.page(request.args.get("sort")), 303)
    sort = sort_of(request.args.get("sort"))
    if not panel.is_on(event):  # switched off meanwhile: a last answer that polls no more
        return vary(make_response(render_template("qna/_list.html", qna=None)))
    etag = list_view(event, urls, sort, known_voter(), render=False)["etag"]
    return polled(etag, lambda: render_template(
        "qna/_list.html", qna=panel_context(event, urls, sort)))  # fmt: skip


def _ask(code: str, way: _Way):
    event, page = event_or_join_page(code)
    if page:
        return page
    urls = way.urls(event)
    sort = request.form.get("sort")
    try:
        question = panel.ask(event, request.form, voter.current())
    except PanelRefused as refused:
        return _refused(event, way, urls, refused, sort, asking=True)
    way.remember(event)
    urls = replace(urls, asked=True)
    notice = taken_notice(question)
    if not is_htmx():
        if not urls.embedded:
            flash(notice)
        return redirect(urls.page(sort), 303)
    qna = panel_context(event, urls, sort, notice=notice)
    response = vary(make_response(render_template("qna/_panel.html", qna=qna), 201))
    if urls.embedded:  # the frame's own URL says it asked, so a reload keeps its questions
        response.headers["HX-Replace-Url"] = urls.page(sort)
    return response


def _upvote(code: str, question_id: str, way: _Way):
    event, page = event_or_join_page(code)
    if page:
        return page
    urls = way.urls(event)
    sort = request.form.get("sort")
    withdraw = request.form.get("withdraw") == "1"
    try:
        panel.upvote(event, question_id, voter.current(), withdraw)
    except PanelRefused as refused:
        return _refused(event, way, urls, refused, sort, asking=False)
    if not is_htmx():
        return redirect(urls.page(sort), 303)
    qna = panel_context(event, urls, sort, just={question_id: not withdraw})
    return vary(make_response(render_template("qna/_list.html", qna=qna), 202))


def _refused(event: dict, way: _Way, urls: PanelUrls, refused: PanelRefused, sort,
             asking: bool):  # fmt: skip
    """The refusal in the panel: the fragment that was sent from (htmx; a 422 or 409 is
    swapped in, a 429 too: static/app.js), else the whole page; the typed question kept."""
    said = {"ask_message": refused.message} if asking else {"list_message": refused.message}
    qna = panel_context(event, urls, sort, typed=request.form if asking else None, **said)
    if is_htmx():
        template = "qna/_panel.html" if asking else "qna/_list.html"
        body = render_template(template, qna=qna, closed=refused.message)
        response = vary(make_response(body, refused.status))
    else:
        if qna is None:  # the event takes no questions (now): no panel to say it in
            flash(refused.message)
        response = make_response(way.whole(event, qna, refused.status))
    response.headers.update(refused.headers)
    return response


def _too_many(way: _Way):
    """A rate limit reached (Flask-Limiter's 429): said in the panel. Its Retry-After
    comes from Flask-Limiter's own headers."""
    code = (request.view_args or {}).get("code")
    event, page = event_or_join_page(code)
    if page:
        return page
    asking = request.endpoint.endswith(".ask")
    return _refused(event, way, way.urls(event), too_many(asking, None),
                    request.form.get("sort"), asking)  # fmt: skip


# -- the page ---------------------------------------------------------------------------


@pages.get(f"/{CODE}/qna")
def listing(code):
    return _listing(code, PAGE)


@pages.post(f"/{CODE}/qna")
@limit_questions
def ask(code):
    return _ask(code, PAGE)


@pages.post(f"/{CODE}/qna/<question_id>/upvote")
@limit_votes
def upvote(code, question_id):
    """An upvote, or with `withdraw=1` its withdrawal: queued, counted once by the worker."""
    return _upvote(code, question_id, PAGE)


@pages.errorhandler(429)
def too_many_on_the_page(_exc):
    return _too_many(PAGE)


# -- the embed --------------------------------------------------------------------------


@embed.get(f"/{CODE}/embed/qna", endpoint="listing")
def listing_embedded(code):
    return _listing(code, EMBED)


@embed.post(f"/{CODE}/embed/qna", endpoint="ask")
@csrf.exempt
@limit_questions
def ask_embedded(code):
    return _ask(code, EMBED)


@embed.post(f"/{CODE}/embed/qna/<question_id>/upvote", endpoint="upvote")
@csrf.exempt
@limit_votes
def upvote_embedded(code, question_id):
    return _upvote(code, question_id, EMBED)


@embed.errorhandler(429)
def too_many_in_the_embed(_exc):
    return _too_many(EMBED)
