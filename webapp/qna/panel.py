"""What a phone's "Ask" panel shows, and what it does (ask, upvote), a refusal being the
panel's own message.

The panel (templates/qna/_panel.html) sits beside the stage on the event's page
(`/<CODE>`) and in its embed (`/<CODE>/embed`) while the event's `qna` is not off:
the ask form (the question, an optional name), the room's list (top or recent:
links that work without JavaScript, swapped by htmx), one upvote button per
question (a plain form POST; pressed while the voter's upvote stands, pressed
again it withdraws), and "my questions" with their state, seen by their asker only.

The list part (templates/qna/_list.html) holds this browser's own part (its
questions and their states, which of the listed it upvoted: `data-upvoted`) around
the room's list (templates/qna/_room.html). On a page with an event stream
(`streamed`) the room's top list is pushed (webapp/qna/pushed.py) and the list
polls only where the stream cannot serve it: the recent order, and a browser that
asked here (its questions' states are its own); else, or once the stream is
refused, it polls every POLL_SECONDS with its ETag (webapp/htmx.py `polled`). The
public list comes from the service's per-process cache, and a voter's own
questions are read only once this browser asked one here (`asked`). The ETag covers
the list and the voter's own questions' states. The voter's upvotes are read when
its list is drawn (one BatchGetItem of its at most 20 ids); until the worker counts
a tap, the answer to the tap itself shows it pressed (`just`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from flask import g, request, session, url_for
from flask_babel import gettext
from werkzeug.datastructures import MultiDict

from core.rules.errors import (
    FieldInvalid,
    QnaOff,
    QuestionNotFound,
    QueueUnavailable,
    UpvoterRequired,
)
from core.rules.formats.qna import (
    MAX_NAME_LENGTH,
    MAX_QUESTION_LENGTH,
    PENDING,
    QNA_OFF,
    RECENT,
    TOP,
    typed_question,
)
from core.services.qna import mode_of
from webapp import services, voter
from webapp.lookup import valid_id
from webapp.refusals import refusal_for

POLL_SECONDS = 2
SORTS = (TOP, RECENT)
# The events this browser asked in, kept in the page's signed session (an embed's URL
# says `asked` instead): the most recent few, so the cookie stays small.
_ASKED_KEY = "qna_asked"
REMEMBERED_EVENTS = 20
# Refusals the service may answer a question or an upvote with, said in the panel.
_SAID = (QnaOff, QuestionNotFound, UpvoterRequired, QueueUnavailable)


def is_on(event: dict) -> bool:
    return mode_of(event) != QNA_OFF


def sort_of(value: str | None) -> str:
    return value if value in SORTS else TOP


@dataclass(frozen=True)
class PanelUrls:
    """Where the panel's forms and links go: the event's page, or its embed, whose URLs
    carry whether it asked here (`asked`); never its voter (a header carries that)."""

    code: str
    embedded: bool = False
    asked: bool = False
    # The embed's remembered vote (`vote`, `for`), kept in every URL as the stage keeps it.
    memory: tuple[tuple[str, str], ...] = ()

    def _kept(self) -> dict:
        if not self.embedded:
            return {}
        return {**({"asked": 1} if self.asked else {}), **dict(self.memory)}

    def _to(self, view: str, **values) -> str:
        blueprint = "qna_embed" if self.embedded else "qna_pages"
        return url_for(f"{blueprint}.{view}", code=self.code, **values, **self._kept())

    def ask(self) -> str:
        return self._to("ask")

    def listing(self, sort: str) -> str:
        return self._to("listing", sort=sort)

    def upvote(self, question_id: str) -> str:
        return self._to("upvote", question_id=question_id)

    def kept(self) -> dict:
        """What every request of this panel sends (whether the embed asked, its vote): its
        hx-vals, so a pushed list's bare URLs send them too."""
        return self._kept()

    def page(self, sort: str | None = None) -> str:
        """The whole page (with this order: the toggle without JavaScript)."""
        view = "event_embed.view" if self.embedded else "events_pages.audience"
        order = {"qna": sort} if sort and sort != TOP else {}
        return url_for(view, code=self.code, **order, **self._kept(), _anchor="qna")


# -- this browser's questions --------------------------------------------------------


def embed_urls(event: dict, asked: bool | None = None) -> PanelUrls:
    """The embed's URLs: whether it asked, its vote."""
    asked = request.values.get("asked") == "1" if asked is None else asked
    memory = tuple((k, request.args[k]) for k in ("vote", "for") if request.args.get(k))
    return PanelUrls(event["code"], embedded=True, asked=asked, memory=memory)


def asked_on_page(event: dict) -> bool:
    asked = session.get(_ASKED_KEY)
    return isinstance(asked, list) and event["id"] in asked


def remember_asked(event: dict) -> None:
    asked = session.get(_ASKED_KEY)
    kept = [e for e in asked if e != event["id"]] if isinstance(asked, list) else []
    session[_ASKED_KEY] = [*kept, event["id"]][-REMEMBERED_EVENTS:]


def known_voter() -> str | None:
    """This browser's voter id once it has one (a new one has asked and upvoted nothing)."""
    voter_id = voter.current()
    return None if g.get("voter_id_is_new") else voter_id


# -- what the panel shows ------------------------------------------------------------


def list_view(event: dict, urls: PanelUrls, sort: str, voter_id: str | None,
              render: bool = True, just: dict[str, bool] | None = None) -> dict:  # fmt: skip
    """The list part: the room's questions in `sort` order, this voter's own (once it
    asked), the ETag of both; with `render`, also which of them this voter upvoted
    (`just`: the tap being answered, {question id: upvoted}, before the worker counts it)."""
    qna = services.qna()
    listed = qna.listed(event, sort)
    mine = qna.mine(event, voter_id) if urls.asked and voter_id else []
    fingerprint = [
        sort,
        [(q["id"], q["upvotes"], q["state"], q["pinned"]) for q in listed],
        [(m["id"], m["state"]) for m in mine],
    ]
    view = {
        "sort": sort,
        "questions": listed,
        "mine": mine,
        "etag": hashlib.sha256(json.dumps(fingerprint).encode()).hexdigest()[:24],
    }
    if render:
        upvoted = qna.upvoted([q["id"] for q in listed], voter_id)
        for question_id, up in (just or {}).items():
            (upvoted.add if up else upvoted.discard)(question_id)
        view["upvoted"] = upvoted
    return view


def panel_context(event: dict, urls: PanelUrls, sort: str | None = None, ask_message=None,
                  list_message=None, notice=None, typed: MultiDict | None = None,
                  just=None, streamed: bool = True) -> dict | None:  # fmt: skip
    """What templates/qna/_panel.html needs (and _list.html alone): None while the event
    takes no questions. `ask_message`, `list_message`: a refusal of a question, of an
    upvote; `notice`: a question taken; `typed`: the form as sent, kept after a refusal;
    `streamed`: the page follows the event's stream (its top list is pushed)."""
    if not is_on(event):
        return None
    view = list_view(event, urls, sort_of(sort), known_voter(), just=just)
    return {
        "event": event,
        "mode": mode_of(event),
        "urls": urls,
        "list": view,
        "ask_message": ask_message,
        "list_message": list_message,
        "notice": notice,
        "typed": typed or {},
        "poll_seconds": POLL_SECONDS,
        "streamed": streamed,
        "max_question": MAX_QUESTION_LENGTH,
        "max_name": MAX_NAME_LENGTH,
    }


# -- what the panel does -------------------------------------------------------------


class PanelRefused(Exception):
    """A question or an upvote refused: the status, the panel's message and headers."""

    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}

    @classmethod
    def of(cls, exc: Exception) -> PanelRefused:
        refusal = refusal_for(exc)
        return cls(refusal.status, refusal.message_of(exc), refusal.headers(exc))


def ask(event: dict, form: MultiDict, voter_id: str) -> dict:
    """The form's question, stored: shown, or held for the moderator. Raises PanelRefused."""
    text, name = form.get("text", ""), form.get("name", "")
    try:
        return services.qna().ask(event, text, name or None, voter_id)
    except FieldInvalid as exc:
        raise PanelRefused(422, _field_message(exc.field, text)) from exc
    except _SAID as exc:
        raise PanelRefused.of(exc) from exc


def _field_message(field: str, text: str) -> str:
    if field == "name":
        return gettext("Give a name of at most %(max)s characters, or leave it empty.",
                       max=MAX_NAME_LENGTH)  # fmt: skip
    if not 1 <= len(typed_question(text)) <= MAX_QUESTION_LENGTH:
        return gettext("Write a question of 1 to %(max)s characters.", max=MAX_QUESTION_LENGTH)
    return gettext("This question cannot be shown as typed: leave out control characters, "
                   "text direction overrides and piled-up accents.")  # fmt: skip


def taken_notice(question: dict) -> str:
    if question["state"] == PENDING:
        return gettext("Thanks! Your question waits for the presenter's approval.")
    return gettext("Thanks! Your question is in the list.")


def upvote(event: dict, question_id: str, voter_id: str, withdraw: bool) -> None:
    """Queue the voter's upvote of a shown question, or its withdrawal. Raises PanelRefused."""
    try:
        if valid_id(question_id) is None:
            raise QuestionNotFound(question_id)
        services.qna().upvote(event, question_id, voter_id, withdraw=withdraw,
                              request_id=g.get("request_id"))  # fmt: skip
    except _SAID as exc:
        raise PanelRefused.of(exc) from exc


def too_many(asking: bool, retry_after: str | None) -> PanelRefused:
    """A rate limit's refusal (429), said in the panel."""
    if asking:
        message = gettext("You asked several questions just now: wait a minute, then ask again.")
    else:
        message = gettext("Too many taps at once: wait a moment, then try again.")
    return PanelRefused(429, message, {"Retry-After": retry_after} if retry_after else {})
