"""The audience Q&A service: questions asked, listed, moderated and upvoted, and exported.

Views call this, never the stores. The rules are in core/rules/qna.py:

- **Asking** is one conditional Put (201): a question is one item a voter writes
  once, with nothing to count, so the asker gets a definite answer (its id and
  state, shown or held) at once instead of a 202 and a poll. Asking is rate
  limited per voter by the web layer.
- **Upvotes are votes**: checked here (the question shown, the voter named), then
  queued on the votes queue through the same group sender as votes (202 once SQS
  stored it), and recorded exactly once by the worker
  (core/services/upvote_worker.py), which refuses a repeat (`already_upvoted`). A
  repeat is not refused here: that read of the voter's standing upvote made
  intake cost twice as much on the local endpoint (1,100 taps: 9.1 s against
  3.8 s, bench/qna.py) and decides nothing the worker's conditional write does
  not; the pages know a voter's upvotes (`upvoted`) and offer a withdrawal instead.
- **Lists** are one Query of a bounded size (LIST_SIZE), cached per process for
  RESULTS_CACHE_SECONDS (1 s), like results: a room polling the list costs one
  read per event, order and process a second.
"""

from __future__ import annotations

import csv
import io
import time

from core.aws.backend import Backend
from core.rules.clock import new_id, utc_now
from core.rules.csv_rows import formula_safe
from core.rules.errors import (
    AlreadyExists,
    FieldInvalid,
    NotShown,
    QnaOff,
    QuestionNotFound,
    UpvoterRequired,
)
from core.rules.qna import (
    LIST_SIZE,
    PENDING,
    QNA_OFF,
    QUEUE_SIZE,
    RECENT,
    UPVOTE,
    WITHDRAW,
    UpvoteMessage,
    asker_key,
    is_public,
    moderated,
    name_refusal,
    new_question,
    public_view,
    question_refusal,
    typed_question,
)
from core.services.cache import TTLCache
from core.services.csv_export import BOM
from core.services.voting import Voting
from core.settings import Settings

MINE_SIZE = 20
CSV_HEADER = ("question_id", "text", "name", "upvotes", "state", "pinned", "created", "answered_at")


def mode_of(event: dict) -> str:
    """The event's `qna`: off (absent), open or moderated."""
    return event.get("qna") or QNA_OFF


class Qna:
    """The rules of audience questions over their stores and the votes queue."""

    def __init__(self, backend: Backend, voting: Voting, settings: Settings):
        self.questions = backend.questions
        self.upvotes = backend.upvotes
        self.voting = voting
        # Never older than the TTL (a list is results: a stale one reaches the projector late).
        self._lists = TTLCache(settings.results_cache_seconds, serve_stale=False)
        self._questions = TTLCache(settings.topic_cache_seconds)

    # -- asking ---------------------------------------------------------------

    def ask(self, event: dict, text: str, name: str | None, voter_id: str | None) -> dict:
        """Store a new question (shown at once, or held for the moderator); QnaOff, or
        FieldInvalid naming `text` or `name`."""
        mode = self.taking(event)
        typed = typed_question(text)
        if refusal := question_refusal(typed):
            raise FieldInvalid("text", refusal)
        named = typed_question(name or "")
        if refusal := name_refusal(named):
            raise FieldInvalid("name", refusal)
        for _ in range(3):  # a clash of random ids: never in practice
            question = new_question(event["id"], new_id(), typed, mode, named or None, voter_id)
            try:
                self.questions.put_new(question)
                break
            except AlreadyExists:
                continue
        self._forget(event["id"])
        return question

    def taking(self, event: dict) -> str:
        """The event's Q&A mode, or QnaOff when it takes no questions."""
        mode = mode_of(event)
        if mode == QNA_OFF:
            raise QnaOff(event["id"])
        return mode

    # -- reading --------------------------------------------------------------

    def listed(self, event: dict, order: str = "top") -> list[dict]:
        """The public list (open and answered questions), `top` (upvotes, then the older
        first; pinned ones before) or `recent` (newest first): one Query, cached."""
        self.taking(event)
        key = (event["id"], order)
        return self._lists.get_or_load(key, lambda: [
            public_view(q) for q in self.questions.shelf(
                event["id"], by_rank=order != RECENT, newest_first=True, limit=LIST_SIZE
            ) if is_public(q)
        ])  # fmt: skip

    def pending(self, event: dict) -> list[dict]:
        """The moderation queue, oldest first (the presenter's; never cached)."""
        return self.questions.shelf(
            f"{event['id']}#{PENDING}", by_rank=False, newest_first=False, limit=QUEUE_SIZE
        )

    def mine(self, event: dict, voter_id: str | None) -> list[dict]:
        """This voter's own questions in the event, newest first (id, text, state)."""
        if not voter_id or mode_of(event) == QNA_OFF:
            return []
        return self.questions.asked_by(asker_key(event["id"], voter_id), MINE_SIZE)

    def question(self, event: dict, question_id: str, fresh: bool = False) -> dict:
        """One question of the event (cached briefly), or QuestionNotFound."""
        found = self._questions.find(
            (event["id"], question_id),
            lambda: self.questions.get(event["id"], question_id, consistent=fresh), fresh,
        )  # fmt: skip
        if found is None:
            raise QuestionNotFound(question_id)
        return found

    def upvoted(self, question_ids: list[str], voter_id: str | None) -> set[str]:
        """Which of these questions this voter's upvote stands on (one BatchGetItem)."""
        if not voter_id or not question_ids:
            return set()
        standing = self.upvotes.standings([(q, voter_id) for q in question_ids])
        return {q for (q, _), item in standing.items() if item.get("up")}

    # -- upvotes ----------------------------------------------------------------

    def upvote(self, event: dict, question_id: str, voter_id: str | None,
               withdraw: bool = False, request_id: str | None = None) -> UpvoteMessage:  # fmt: skip
        """Queue an upvote (or its withdrawal) of a shown question: 202 once SQS stored it.

        Refused at once: no voter (UpvoterRequired), a question not shown
        (QuestionNotFound, confirmed on a fresh read). Neither an upvote nor a
        withdrawal is checked against the voter's standing upvote (the one it
        repeats or withdraws may still be in the queue): the worker plays them in
        queue order and counts each exactly once, a repeat never."""
        arrived = time.monotonic()
        self.taking(event)
        if not voter_id:
            raise UpvoterRequired(question_id)
        self._shown(event, question_id, arrived)
        message = UpvoteMessage(
            kind=WITHDRAW if withdraw else UPVOTE, id=new_id(), event_id=event["id"],
            question_id=question_id, voter_id=voter_id, queued_at=utc_now(),
            request_id=request_id,
        )  # fmt: skip
        self.voting.send(message.model_dump(exclude_none=True))
        return message

    def _shown(self, event: dict, question_id: str, arrived: float) -> dict:
        """The question if it is shown; a refusal is confirmed on a read after `arrived`."""
        try:
            question = self.question(event, question_id)
            if is_public(question):
                return question
        except QuestionNotFound:
            pass
        found = self._questions.find(
            (event["id"], question_id),
            lambda: self.questions.get(event["id"], question_id, consistent=True),
            since=arrived,
        )  # fmt: skip
        if found is None or not is_public(found):
            raise QuestionNotFound(question_id)
        return found

    # -- moderating -------------------------------------------------------------

    def moderate(self, event: dict, question_id: str, state: str | None,
                 pinned: bool | None) -> dict:  # fmt: skip
        """The presenter's decision (approved, answered, dismissed; pinned or not), written
        under the question's state as read (Conflict if it moved meanwhile)."""
        seen = self.question(event, question_id, fresh=True)
        new = moderated(seen, state, pinned)
        if pinned and not is_public(new):
            raise NotShown(question_id)
        stored = self.questions.moderate(seen, new)
        self._questions.put((event["id"], question_id), stored)
        self._forget(event["id"])
        return stored

    def _forget(self, event_id: str) -> None:
        for order in ("top", RECENT):
            self._lists.forget((event_id, order))

    # -- export -----------------------------------------------------------------

    def csv_chunks(self, event: dict, bom: bool = True):
        """Every question of the event as CSV, oldest first, text and name formula-safe
        (csv_rows.formula_safe), written out 500 rows at a time. An event's questions are read
        whole to sort them (thousands at most: asking is rate limited per voter). The
        asker's voter id is never in it."""
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        if bom:
            buffer.write(BOM)
        writer.writerow(CSV_HEADER)
        rows = sorted(self.questions.of_event(event["id"]), key=lambda q: q["created"])
        for n, q in enumerate(rows, start=1):
            writer.writerow((
                q["id"], formula_safe(q["text"]), formula_safe(q.get("name") or ""),
                q.get("upvotes", 0), q["state"], "yes" if q.get("pinned") else "", q["created"],
                q.get("answered_at", ""),
            ))  # fmt: skip
            if n % 500 == 0:
                yield _drain(buffer)
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
