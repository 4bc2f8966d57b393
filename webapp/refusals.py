"""The one table of refusals: each with one status and one message, whichever way in.

A refusal is a domain error (core/rules/errors.py), one of the services', or
one only the web layer meets (a form that cannot be read as a vote, a topic
embed asked to vote where one vote per voter counts). Each has one status
everywhere: the JSON API answers `{"detail": ...}` in the original service's
words (its clients compare them), a page says the refusal in its own
language next to the ballot (webapp/audience/ballot_box.py), in the fragment
that was asked for (SAID_IN_PLACE: the presenter's controls), or on the error
page (webapp/errors.py, which registers a handler per entry).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import gettext

from core.rules.errors import (
    AlreadyJoined,
    AlreadyVoted,
    AnswerScored,
    BadCursor,
    BadPosition,
    ChoiceNotInTopic,
    CodeTaken,
    Conflict,
    EmailTaken,
    EventEnded,
    EventNotFound,
    FieldInvalid,
    NameTaken,
    NoCurrentQuestion,
    NotAllowed,
    NotAPlayer,
    NotFound,
    NotShown,
    QnaOff,
    QuestionNotFound,
    QuestionNotOnScreen,
    QueueUnavailable,
    RulesConflict,
    RulesLocked,
    SignInFailed,
    StoreUnavailable,
    TokenNotFound,
    TooLate,
    TooManyCodeLookups,
    TooManyFailures,
    TopicClosed,
    TopicNotFound,
    UpvoterRequired,
    UserNotFound,
    VoterRequired,
)
from core.services.runoffs import RunoffRefused
from webapp.audience.ballot_forms import FormInvalid, refusal_message
from webapp.i18n import N_


class OwnPageOnly(Exception):
    """A topic embed asked to vote on a topic that counts one vote per voter: an embed
    keeps no voter (a cross-site frame has no cookie), the topic's own page does."""


def own_words(exc: Exception) -> str:
    """The refusal's own reason (a position the event lacks, a rule that clashes)."""
    return getattr(exc, "message", None) or str(exc)


def field_detail(exc: FieldInvalid) -> list[dict]:
    """A refusal naming one field (a vote's answer, a question's settings), in the shape
    of pydantic's errors, so clients read every 422 alike."""
    return [{"loc": [exc.field], "msg": exc.message, "type": exc.kind}]


def _form_words(exc: Exception, topic: dict | None) -> str | None:
    """A refused answer in the ballot's words: the topic's rule, or what the form got wrong."""
    return refusal_message(topic, exc) if topic is not None else None


@dataclass(frozen=True)
class Refusal:
    """How one refusal is answered.

    `detail`: the API's words, or how to make them from the exception.
    `page`: a page's words (an English msgid, translated when shown) where they
    differ from `detail`, or how to make them from the exception and the topic.
    `retry_after`: seconds for Retry-After, or how to read them from the exception.
    `reread`: the topic changed under the voter's form, so a page draws it fresh.
    """

    status: int
    detail: str | Callable[[Exception], object]
    page: str | Callable[[Exception, dict | None], str | None] | None = None
    retry_after: int | Callable[[Exception], int] | None = None
    reread: bool = False

    def detail_of(self, exc: Exception):
        return self.detail(exc) if callable(self.detail) else self.detail

    def message_of(self, exc: Exception, topic: dict | None = None) -> str | None:
        """The refusal in the page's language (None: nothing better than the status)."""
        if callable(self.page):
            return self.page(exc, topic)
        if self.page is not None:
            return gettext(self.page)
        return gettext(self.detail) if isinstance(self.detail, str) else None

    def headers(self, exc: Exception | None = None) -> dict[str, str]:
        after = self.retry_after(exc) if callable(self.retry_after) else self.retry_after
        return {"Retry-After": str(after)} if after else {}


REFUSALS: dict[type[Exception], Refusal] = {
    TopicNotFound: Refusal(404, N_("Topic not found")),
    EventEnded: Refusal(410, N_("This event has ended")),
    EventNotFound: Refusal(404, N_("Event not found")),
    UserNotFound: Refusal(404, N_("User not found")),
    TokenNotFound: Refusal(404, N_("Token not found")),
    NotFound: Refusal(404, N_("Not found")),
    # One answer for every failed sign-in: it never tells which accounts exist.
    SignInFailed: Refusal(401, N_("Wrong email or password")),
    NotAllowed: Refusal(403, own_words),
    EmailTaken: Refusal(409, N_("An account with this email exists already")),
    # 409, not 422: the body is well formed (the schema takes it); the topic's state
    # refuses it. 422 is kept for bodies /openapi.json itself refuses.
    ChoiceNotInTopic: Refusal(
        409,
        N_("choice_id is not a choice of this topic"),
        page=N_("That choice is no longer part of this topic. Pick again."),
        reread=True,
    ),
    TopicClosed: Refusal(
        409,
        N_("This topic is closed: it does not take votes"),
        page=N_("Voting on this topic is closed: your vote was not taken."),
        reread=True,
    ),
    VoterRequired: Refusal(
        409,
        N_("voter_id is required: this topic counts one vote per voter"),
        page=N_("This topic needs a voter id: allow cookies and reload."),
    ),
    AlreadyVoted: Refusal(
        409,
        N_("You have already voted on this topic"),
        page=N_("You have already voted on this question: one vote per voter."),
    ),
    QuestionNotOnScreen: Refusal(409, N_("The presenter has moved on: this question is over.")),
    TooLate: Refusal(409, N_("Time is up: this answer came after the question's time limit")),
    NotAPlayer: Refusal(
        409,
        N_("Join the event with a nickname first: only its players answer its quiz"),
        page=N_("Pick a nickname first: only players answer the quiz."),
    ),
    NameTaken: Refusal(409, N_("That nickname is taken in this event: pick another")),
    AlreadyJoined: Refusal(409, N_("You have joined this event already, with another nickname")),
    # A scored answer's points are its player's: deleting it would leave them there.
    AnswerScored: Refusal(
        409, N_("This quiz answer has been scored: it is final and cannot be deleted")
    ),
    OwnPageOnly: Refusal(409, N_("Vote on the topic's own page: it counts one vote each.")),
    NoCurrentQuestion: Refusal(409, N_("The event is before its first question: advance first")),
    # The request is well formed; the event (its questions now) has no such place.
    BadPosition: Refusal(409, own_words),
    Conflict: Refusal(409, N_("It changed while you were working on it; reload and try again")),
    RulesLocked: Refusal(
        409,
        N_("This question has votes: its type and rules cannot change (reset its results first)"),
    ),
    RulesConflict: Refusal(409, own_words),
    RunoffRefused: Refusal(409, own_words),
    # AnswerInvalid and RulesInvalid are FieldInvalid: the field is named.
    FieldInvalid: Refusal(422, field_detail, page=_form_words),
    FormInvalid: Refusal(422, own_words, page=_form_words),
    BadCursor: Refusal(422, own_words),
    QueueUnavailable: Refusal(
        503,
        N_("The vote queue is unavailable; the vote was not taken"),
        page=N_("We could not take your vote just now. Please try again in a moment."),
        retry_after=5,
    ),
    StoreUnavailable: Refusal(
        503, N_("The database is unavailable; try again shortly"), retry_after=5
    ),
    CodeTaken: Refusal(503, N_("No free join code was found; try again"), retry_after=1),
    TooManyCodeLookups: Refusal(
        429,
        N_("Too many join codes tried from here: try again in a minute"),
        retry_after=lambda exc: exc.retry_after,
    ),
    TooManyFailures: Refusal(
        429,
        N_("Too many failed sign-ins: try again later"),
        retry_after=lambda exc: exc.retry_after,
    ),
    # Audience questions.
    QnaOff: Refusal(409, N_("This event takes no questions")),
    QuestionNotFound: Refusal(404, N_("Question not found")),
    UpvoterRequired: Refusal(
        409,
        N_("voter_id is required: one upvote per voter"),
        page=N_("Upvoting needs a voter id: allow cookies and reload."),
    ),
    NotShown: Refusal(409, N_("Only a question that is shown can be pinned")),
}

# What is down rather than refused: logged when answered.
OUTAGES = (QueueUnavailable, StoreUnavailable)


def refusal_for(exc: Exception) -> Refusal | None:
    """The table's entry for this exception (its own class's, else its nearest base's)."""
    for kind in type(exc).__mro__:
        if kind in REFUSALS:
            return REFUSALS[kind]
    return None


# The refusals htmx swaps into a page (409 and 422: templates/base.html's htmx-config),
# so a fragment that answers one must say it in place and stay whole.
SAID_IN_PLACE = tuple(kind for kind, refusal in REFUSALS.items() if refusal.status in (409, 422))
