"""Audience Q&A: a question from the room, who may see it, where it ranks, and upvotes.

Pure rules, no I/O. An event's `qna` says whether it takes questions: "off", "open"
(shown as they arrive) or "moderated" (shown once the presenter approves). A
question is asked by one voter and stored at once (core/aws/qna.py); an upvote or
its withdrawal is a vote: queued as an `UpvoteMessage`, and recorded exactly once by
the worker (`plan_upvotes` here, the transaction in core/aws/upvotes.py).

A question's text is kept as typed (text_answers.typed_answer: NFC, runs of
whitespace one space) and judged by the open-text answers' moderation key: a
question the block lists catch is held for the moderator (`pending`, `held`
"blocked") whatever the event's mode, and never shown on its own.

States: `pending` (waiting for the moderator), `open` (shown), `answered` (shown,
marked answered), `dismissed` (never shown again unless approved). Only `open` and
`answered` are public; the asker alone sees their own question in every state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

from core.rules.clock import utc_now
from core.rules.fields import Id, VoterId
from core.rules.text_answers import answer_refusal, is_blocked, typed_answer

QnaMode = Literal["off", "open", "moderated"]
QNA_OFF = "off"
MAX_QUESTION_LENGTH = 280
MAX_NAME_LENGTH = 40
PENDING, OPEN, ANSWERED, DISMISSED = "pending", "open", "answered", "dismissed"
STATES = (PENDING, OPEN, ANSWERED, DISMISSED)
PUBLIC_STATES = (OPEN, ANSWERED)
# What the presenter asks for -> the state it leaves the question in.
MODERATION = {"approved": OPEN, "answered": ANSWERED, "dismissed": DISMISSED}
TOP, RECENT = "top", "recent"
# The public list is the first LIST_SIZE of its order: one Query of a bounded size,
# whether the room asked 10 questions or 10,000.
LIST_SIZE = 20
# The moderation queue, oldest first, read the same way.
QUEUE_SIZE = 100
# `rank` orders the public list by upvotes, then age (the older first), in one number,
# so the count-sorted index itself breaks ties, at the page boundary too: upvotes
# times RANK_STEP, plus what is left of RANK_STEP once the question's creation time in
# microseconds since 1970 is taken off (older: more). A pinned question adds PINNED,
# above any count. An upvote ADDs RANK_STEP (one ADD, no read). Kept within 27
# digits: DynamoDB holds 38, but Python's Decimal (moto's ADD, the local endpoint)
# rounds past 28; 10**10 upvotes still fit under PINNED.
RANK_STEP = 10**16
PINNED = 10**26
UPVOTE, WITHDRAW = "upvote", "withdraw"
UPVOTE_KINDS = (UPVOTE, WITHDRAW)
COUNTED, REJECTED = "counted", "rejected"
# A record's entry in the upvotes table: "#" + the message id; voter ids never hold "#".
RECORD_MARK = "#"


def typed_question(text: str) -> str:
    """The question as typed: NFC, every run of whitespace one space (what is stored,
    shown, and counted against MAX_QUESTION_LENGTH in code points)."""
    return typed_answer(text)


def question_refusal(typed: str) -> str | None:
    """Why a typed question is refused (too short or long, control characters, text
    direction overrides, stacked marks, nothing that shows), or None."""
    if not 1 <= len(typed) <= MAX_QUESTION_LENGTH:
        return f"a question of 1 to {MAX_QUESTION_LENGTH} characters"
    return answer_refusal(typed, MAX_QUESTION_LENGTH)


def name_refusal(typed: str) -> str | None:
    """Why a typed name is refused (the question's own checks, up to MAX_NAME_LENGTH), or
    None; an empty name is no name (the question is anonymous)."""
    if len(typed) > MAX_NAME_LENGTH:
        return f"a name of at most {MAX_NAME_LENGTH} characters"
    return answer_refusal(typed, MAX_NAME_LENGTH) if typed else None


def created_micros(created: str) -> int:
    """An ISO time as clock.utc_now writes it, in microseconds since 1970 (UTC)."""
    moment = datetime.fromisoformat(created).replace(tzinfo=UTC)
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def rank_of(upvotes: int, created: str, pinned: bool = False) -> int:
    """The number the public list is ordered by, highest first (see RANK_STEP)."""
    age = RANK_STEP - 1 - created_micros(created)
    return (PINNED if pinned else 0) + upvotes * RANK_STEP + age


def shelf_of(event_id: str, state: str) -> str | None:
    """The index partition a question is listed in: the event's id while it is public,
    "<event_id>#pending" while it waits for the moderator, none once dismissed."""
    if state in PUBLIC_STATES:
        return event_id
    return f"{event_id}#{PENDING}" if state == PENDING else None


def asker_key(event_id: str, voter_id: str) -> str:
    """The key of one voter's own questions in an event (the `asked-by` index)."""
    return f"{event_id}#{voter_id}"


# Markup is shown as typed (escaped, never run); the block lists also judge it with its
# tags as spaces and as nothing, so "<b>word</b>" is "word" (not the one word "bwordb")
# and "wo<b></b>rd" is "word" too.
_TAG = re.compile(r"<[^<>]{0,40}>")


def is_held(text: str, blocked_words: tuple[str, ...] = ()) -> bool:
    """Do the block lists (text_answers, compared as moderation keys) catch this text,
    as typed or with its tags as spaces or as nothing?"""
    return any(is_blocked(variant, blocked_words)
               for variant in (text, _TAG.sub(" ", text), _TAG.sub("", text)))  # fmt: skip


def new_question(
    event_id: str, question_id: str, text: str, mode: str, name: str | None = None,
    voter_id: str | None = None, blocked_words: tuple[str, ...] = (), created: str | None = None,
) -> dict:  # fmt: skip
    """A question as first stored: shown at once in an open event, held in a moderated
    one, and held whatever the mode when the block lists catch its text or name."""
    created = created or utc_now()
    blocked = is_held(text, blocked_words) or bool(name and is_held(name, blocked_words))
    state = PENDING if mode == "moderated" or blocked else OPEN
    question = {
        "event_id": event_id,
        "id": question_id,
        "text": text,
        "name": name or None,
        "asker": voter_id,
        "state": state,
        "held": "blocked" if blocked else None,
        "pinned": False,
        "created": created,
        "upvotes": 0,
        "rank": rank_of(0, created),
        "shelf": shelf_of(event_id, state),
        "asked_by": asker_key(event_id, voter_id) if voter_id else None,
    }
    return {k: v for k, v in question.items() if v is not None}


def moderated(question: dict, state: str | None, pinned: bool | None) -> dict:
    """The question after the presenter's decision: `state` one of MODERATION's keys
    (approved, answered, dismissed), `pinned` on or off; the rank and shelf follow.
    A question only shown may be pinned: unpinned once it leaves the public list."""
    new = dict(question)
    if state is not None:
        new["state"] = MODERATION[state]
        if new["state"] in PUBLIC_STATES:
            new.pop("held", None)  # the moderator saw it: shown on their word
        if new["state"] == ANSWERED and question.get("state") != ANSWERED:
            new["answered_at"] = utc_now()
    if pinned is not None:
        new["pinned"] = pinned
    if new["state"] not in PUBLIC_STATES:
        new["pinned"] = False
    new["rank"] = rank_of(new.get("upvotes", 0), new["created"], new["pinned"])
    shelf = shelf_of(new["event_id"], new["state"])
    if shelf is None:
        new.pop("shelf", None)
    else:
        new["shelf"] = shelf
    return new


def is_public(question: dict) -> bool:
    return question.get("state") in PUBLIC_STATES


def public_view(question: dict) -> dict:
    """What anyone may see of a public question: never its asker."""
    return {
        "id": question["id"],
        "text": question["text"],
        "name": question.get("name"),
        "upvotes": max(0, int(question.get("upvotes", 0))),
        "state": question["state"],
        "pinned": bool(question.get("pinned")),
        "created": question["created"],
    }


def sort_key(question: dict) -> tuple:
    """The public list's `top` order in memory (the index's rank, highest first)."""
    return (-rank_of(int(question.get("upvotes", 0)), question["created"],
                     bool(question.get("pinned"))), question["id"])  # fmt: skip


# -- upvotes: the queued message and the worker's plan --------------------------------

QueuedAt = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class UpvoteMessage(BaseModel):
    """An upvote or its withdrawal on its way from intake to the worker (the SQS body).

    `kind` tells the worker it is not a vote (core/services/worker.py). Its fields
    follow the API's rules, so a bad body is refused alone as unparseable."""

    model_config = ConfigDict(extra="ignore")
    kind: Literal["upvote", "withdraw"]
    id: Id
    event_id: Id
    question_id: Id
    voter_id: VoterId
    queued_at: QueuedAt
    request_id: Annotated[str, StringConstraints(max_length=200)] | None = None


@dataclass
class UpvoteWrite:
    """One upvote message to record, as the plan decided: `status` counted or rejected
    (`reason`), `delta` what it adds to the question's count (+1, -1 or 0)."""

    message: UpvoteMessage
    status: str
    reason: str | None = None
    delta: int = 0
    created: str = field(default_factory=utc_now)

    @property
    def record(self) -> dict:
        """The upvotes item (PK question_id, SK entry "#<message id>") recording it."""
        m = self.message
        record = {
            "question_id": m.question_id,
            "entry": RECORD_MARK + m.id,
            "kind": m.kind,
            "event_id": m.event_id,
            "voter_id": m.voter_id,
            "queued_at": m.queued_at,
            "created": self.created,
            "status": self.status,
            "reason": self.reason,
        }
        return {k: v for k, v in record.items() if v is not None}


@dataclass
class StandingChange:
    """A voter's standing upvote on a question after a batch: `read` the item as the plan
    read it (None: no item), `up`/`at`/`vote_id` what the batch leaves (None when the
    batch changes nothing: the item is only checked to be as read)."""

    event_id: str
    question_id: str
    voter_id: str
    read: dict | None
    up: bool | None = None
    at: str | None = None
    vote_id: str | None = None


def plan_upvotes(
    messages: list[UpvoteMessage],
    standing: dict[tuple[str, str], dict],
    gone: set[str] = frozenset(),
) -> tuple[list[UpvoteWrite], list[StandingChange], dict[tuple[str, str], int]]:
    """Play a batch's upvotes and withdrawals on the voters' standing upvotes, each
    voter's in queue order (`queued_at`). A standing upvote holds the voter's latest
    wish by queue time (`up`, and `at` the queue time of the message that said it):

    - a message queued at or before `at` is stale (`superseded`): a late delivery
      never undoes a later tap, whichever batch or worker records which first;
    - otherwise it is the voter's latest wish: it counts (+1 an upvote, -1 a
      withdrawal) when it changes `up`, and is refused when it does not
      (`already_upvoted`, `not_upvoted`), moving `at` on either way.

    Questions in `gone` no longer exist: their messages are refused (`question_gone`).
    Returns the writes, each voter's standing change (every pair read is checked,
    changed or not), and each question's net delta {(event_id, question_id): n}.
    """
    writes: list[UpvoteWrite] = []
    groups: dict[tuple[str, str], list[UpvoteMessage]] = {}
    for message in sorted(messages, key=lambda m: m.queued_at):
        groups.setdefault((message.question_id, message.voter_id), []).append(message)
    changes: list[StandingChange] = []
    deltas: dict[tuple[str, str], int] = {}
    for (question_id, voter_id), group in groups.items():
        if question_id in gone:
            writes += [UpvoteWrite(m, REJECTED, "question_gone") for m in group]
            continue
        read = standing.get((question_id, voter_id))
        up, at = bool(read and read.get("up")), (read or {}).get("at", "")
        change = StandingChange(group[0].event_id, question_id, voter_id, read)
        for message in group:
            if message.queued_at <= at:
                writes.append(UpvoteWrite(message, REJECTED, "superseded"))
                continue
            wish = message.kind == UPVOTE
            change.up, change.at, change.vote_id = wish, message.queued_at, message.id
            at = message.queued_at
            if wish == up:
                reason = "already_upvoted" if wish else "not_upvoted"
                writes.append(UpvoteWrite(message, REJECTED, reason))
                continue
            up = wish
            delta = 1 if wish else -1
            writes.append(UpvoteWrite(message, COUNTED, delta=delta))
            key = (message.event_id, question_id)
            deltas[key] = deltas.get(key, 0) + delta
        changes.append(change)
    return writes, changes, {k: n for k, n in deltas.items() if n}
