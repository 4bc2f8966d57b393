"""The one ballot box: every way a vote comes in casts it here.

The JSON API (POST /votes) casts the VoteIn it parsed; the pages (the topic
page, the topic embed, the event stage and the event embed) send their form,
which becomes the VoteIn of the topic's type (ballot_forms.py). Either way the
voting service checks and queues it.

A refusal reaches the API as the domain error, which webapp/errors.py answers
from the table of refusals (webapp/refusals.py). A page gets `Refused`: that
same entry's status, message and headers, with the topic to draw the ballot
again (read afresh when the refusal says it changed) and the answer to keep in
the form; `answer_refused` sends it as the page's fragment or whole page.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import g, make_response
from werkzeug.datastructures import MultiDict

from core.rules.errors import QuestionNotOnScreen
from core.rules.votes import VoteMessage
from core.schemas.votes import VoteIn
from webapp import services
from webapp.audience.ballot_forms import payload_from_form, vote_in
from webapp.audience.vote_views import ballot_view
from webapp.htmx import is_htmx, vary
from webapp.lookup import shown
from webapp.metrics import reason_label
from webapp.refusals import REFUSALS, refusal_for


def cast(vote: VoteIn, voter_id: str | None = None) -> VoteMessage:
    """Check the vote against its topic and queue it (the 202 comes after SQS said yes)."""
    return services.voting().cast(vote, voter_id=voter_id, request_id=g.get("request_id"))


class Refused(Exception):
    """A vote from a page, refused: what the page answers (webapp/refusals.py's entry)."""

    def __init__(self, reason: Exception, topic: dict | None, answer: dict | None = None):
        super().__init__(str(reason))
        refusal = refusal_for(reason)
        if refusal.reread and topic is not None:
            topic = shown(services.topics().get(topic["id"], fresh=True))
        self.reason = reason
        self.status = refusal.status
        self.headers = refusal.headers(reason)
        self.topic = topic  # None: the ballot is gone (the presenter moved on)
        self.message = refusal.message_of(reason, topic)
        self.answer = answer or None
        # The vote metrics name a page's refusal as they name the API's.
        g.vote_refused = reason_label(reason)

    def ballot(self) -> dict:
        """The ballot's template context again, with the message and the voter's answer."""
        if self.topic is None:
            return {"message": self.message}
        return {"topic": self.topic, "vote": None, "message": self.message,
                "answer": self.answer, **ballot_view(self.topic)}  # fmt: skip


def _answerable(exc: Exception) -> bool:
    """Whether a ballot can answer the refusal: a topic gone (404) is the not-found page,
    whichever way in."""
    refusal = refusal_for(exc)
    return refusal is not None and refusal.status != 404


def cast_form(topic: dict, form: MultiDict, voter_id: str | None) -> tuple[VoteMessage, dict]:
    """The form's vote on `topic` (as lookup.shown gives it), cast: the queued vote and its
    answer fields. Raises Refused."""
    payload = {}
    try:
        payload = payload_from_form(topic, form)
        return cast(vote_in(topic, payload), voter_id), payload
    except tuple(REFUSALS) as exc:
        if not _answerable(exc):
            raise
        raise Refused(exc, topic, payload) from exc


def topic_on_screen(event: dict, topic_id: str) -> dict:
    """The topic of the event's question on screen (as shown) when `topic_id` names it;
    else Refused: the presenter moved on while the voter's form was shown."""
    try:
        return shown(services.events().topic_on_screen(event, topic_id))
    except QuestionNotOnScreen as exc:
        raise Refused(exc, None) from exc


def answer_refused(refused: Refused, fragment: Callable, page: Callable):
    """The answer to a refused vote: `fragment(refused)` for htmx, else `page(refused)`,
    with the refusal's status and headers (each may return a body or a response)."""
    if is_htmx():
        response = vary(make_response(fragment(refused), refused.status))
    else:
        response = make_response(page(refused), refused.status)
    response.headers.update(refused.headers)
    return response
