"""The voting service: a vote checked against its topic and queued, and what a voter may see.

Every way in (the JSON API, the pages, the embeds) casts through `Voting.cast`,
so the rules of a vote hold once; the worker's transaction re-checks them when
it records the vote. A vote is checked against this process's cached topic,
and refused only once a copy read after it arrived agrees.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

from core.aws.backend import Backend
from core.aws.group_send import WEB_IN_FLIGHT, BatchObserver, GroupSender
from core.rules.clock import new_id, utc_now
from core.rules.errors import (
    AlreadyVoted,
    AnswerInvalid,
    ChoiceNotInTopic,
    NotAPlayer,
    QueueUnavailable,
    StoreUnavailable,
    TooLate,
    TopicClosed,
    VoterRequired,
)
from core.rules.formats.quiz import answer_shown, deadline, is_quiz
from core.rules.question_types import SINGLE, check_answer, payload_of, rules_of
from core.rules.topics import UNLIMITED, Topic, generation_of, is_open, results_held
from core.rules.votes import VoteMessage
from core.schemas.votes import VoteIn
from core.services import csv_export
from core.services.players import Players
from core.services.topics import Topics
from core.settings import Settings

# The refusals a topic's state decides: a copy read after the vote arrived confirms them.
TOPIC_STATE_REFUSALS = (
    ChoiceNotInTopic, AnswerInvalid, TopicClosed, VoterRequired, AlreadyVoted, TooLate,
)  # fmt: skip


class Voting:
    """The rules of votes over the queue and the store. Views call this, never the store.

    `send_timer` wraps each vote's send, group wait included (the web layer
    passes its metrics timer); `observe_batch` sees each SendMessageBatch of
    the group sender (its size and the waits of its votes). `players` answers
    whether a quiz's voter joined its event (made here when not given).
    """

    def __init__(
        self,
        backend: Backend,
        topics: Topics,
        settings: Settings,
        send_timer: Callable[[], AbstractContextManager] = nullcontext,
        observe_batch: BatchObserver | None = None,
        players: Players | None = None,
    ):
        self.backend = backend
        self.players = players or Players(backend, settings)
        self.topics = topics
        self.store = backend.store
        self.queue = backend.queue
        self.tables = backend.tables
        self.settings = settings
        self.send_timer = send_timer
        # One sender per Voting, so per process (made after the fork, as the clients).
        self.sender = (
            GroupSender(
                self.queue,
                settings.sqs_send_max_wait_seconds,
                observe_batch,
                max_linger=settings.sqs_group_max_linger_seconds,
                max_in_flight=WEB_IN_FLIGHT,
            )
            if settings.sqs_group_commit
            else None
        )

    # -- votes ----------------------------------------------------------------

    def cast(self, vote: VoteIn, voter_id: str | None = None, request_id: str | None = None):
        """Check the vote against the topic, then queue it; the 202 comes after SQS said yes.

        Checked against this process's cached copy of the topic. A refusal that the
        topic's state decides (closed or past its deadline, not one of its choices, an
        answer its type or rules refuse, a voter it requires, a vote its current round
        holds) is confirmed on a copy read after the vote arrived before it is
        answered; that read is shared by the votes waiting for one (one read per topic
        at a time). An acceptance is not re-read: the worker's transaction re-checks
        the stored topic when it records the vote.
        """
        arrived = time.monotonic()
        voter_id = voter_id or vote.voter_id
        topic = self.topics.get(vote.topic_id)
        try:
            answer, queued_at = self._admit(topic, vote, voter_id)
        except TOPIC_STATE_REFUSALS:
            current = self.topics.get(vote.topic_id, read_after=arrived)
            if current == topic:
                raise  # the same topic refuses the same (and reads no ballot again)
            topic = current
            answer, queued_at = self._admit(topic, vote, voter_id)
        message = VoteMessage(
            id=new_id(),
            topic_id=vote.topic_id,
            **answer,
            queued_at=queued_at,
            voter_id=voter_id,
            request_id=request_id,
            vote_limit=topic["vote_limit"],
            tally_shards=topic.get("tally_shards"),
            generation=generation_of(topic),
            rules=rules_of(topic) if topic["type"] != SINGLE else None,
            opened_at=topic.get("opened_at") if is_quiz(topic) else None,
        )
        self.send(message.model_dump(exclude_none=True))
        return message

    def send(self, body: dict) -> None:
        """Queue one message body (a vote, or an audience question's upvote) through this
        process's group sender; returns once SQS stored it."""
        with self.send_timer():
            if self.sender is not None:
                self.sender.send(body)
            else:
                self.queue.send(body)

    def _admit(self, topic: Topic, vote: VoteIn, voter_id: str | None) -> tuple[dict, str]:
        """(the checked answer, the moment it is queued at) if `topic` takes the vote;
        else one of TOPIC_STATE_REFUSALS."""
        answer = check_answer(topic, payload_of(vote))
        queued_at = utc_now()
        if not is_open(topic, queued_at):
            raise TopicClosed(vote.topic_id)
        limit = topic["vote_limit"]
        if limit != UNLIMITED and not voter_id:
            raise VoterRequired(vote.topic_id)
        if is_quiz(topic):
            self._check_player(topic, voter_id, queued_at)
        if limit == "one_per_voter" and self._ballot(topic, voter_id):
            # The fast answer; the worker's conditional write is the real guard
            # (two votes racing through intake are settled there).
            raise AlreadyVoted(vote.topic_id)
        return answer, queued_at

    def _check_player(self, topic: Topic, voter_id: str, queued_at: str) -> None:
        """A quiz answer comes from a player of the event the question is asked in, inside
        its time limit (answered exactly at the limit still is)."""
        if not topic.get("event_id"):
            raise TopicClosed(topic["id"])  # not asked in an event: nobody plays it
        if queued_at > deadline(topic):
            raise TooLate(topic["id"])
        if self.players.player(topic["event_id"], voter_id) is None:
            raise NotAPlayer(topic["event_id"])

    def close(self, timeout: float) -> int:
        """Refuse new votes and send any still pending; how many were left unsent."""
        return self.sender.close(timeout) if self.sender is not None else 0

    def ballot(self, topic_id: str, voter_id: str | None) -> dict | None:
        """This voter's ballot of the topic's current round (vote_id, choice_id, ...), or None."""
        return self._ballot(self.topics.get(topic_id), voter_id) if voter_id else None

    def _ballot(self, topic: Topic, voter_id: str) -> dict | None:
        """The voter's ballot of the topic's current generation (older ones hold nothing)."""
        ballot = self.store.get_ballot(topic["id"], voter_id)
        if ballot is None or ballot.get("generation", 0) != generation_of(topic):
            return None
        return ballot

    def results_visible(self, topic: dict, voter_id: str | None, is_admin: bool) -> bool:
        """May this viewer see the topic's results (and so its vote records)?

        The one rule every read asks (the API's topics and votes, the pages, their
        fragments, the embeds, an event's state): `is_admin` (whoever manages the
        topic: an admin, its owner, its event's presenters) always sees; while an
        event's presenter holds the results back (rules.topics.results_held) no one
        else does; a quiz's only once its answer may show; otherwise the topic's
        results_visibility decides.
        """
        if is_admin:
            return True
        if results_held(topic):
            return False
        rule = topic["results_visibility"]
        if is_quiz(topic) and not answer_shown(topic, utc_now()):
            return False  # the results would give the answer away (quiz.answer_shown)
        if rule == "always":
            return True
        if rule == "after_close":
            return not is_open(topic, utc_now())
        # The topic in hand, not a second lookup of it by id.
        return bool(voter_id) and self._ballot(topic, voter_id) is not None

    def choice_visible(
        self, topic: dict, record: dict, voter_id: str | None, is_admin: bool
    ) -> bool:
        """May this viewer see which choice a vote record names?

        Its own voter always may; anyone else only as the topic's results_visibility
        allows, or the records would give away the tallies the topic hides.
        """
        if voter_id and record.get("voter_id") == voter_id:
            return True
        return self.results_visible(topic, voter_id, is_admin)

    def vote(self, vote_id: str) -> dict | None:
        """A recorded vote, or None while it is still queued (or never was)."""
        return self.store.get_vote(vote_id)

    def votes(self, topic_id: str, limit: int, cursor: str | None) -> tuple[list, str | None]:
        """A page of the topic's vote records, newest first, and the cursor of the next."""
        return self.store.list_votes(topic_id, limit, cursor)

    def delete_vote(self, vote_id: str) -> dict:
        """Delete a vote record and take it off its tally (and its voter's ballot); a quiz
        answer that scored is final (AnswerScored)."""
        return self.store.delete_vote(vote_id)

    def csv_export(self, topics: list[Topic]):
        """The topics' results and votes as CSV text chunks, a page of votes at a time."""
        return csv_export.csv_chunks(self.store, topics)

    def pipeline(self) -> dict:
        """Votes still queued and dead letters (SQS's approximate counts)."""
        return {
            "queue": self.queue.message_counts(),
            "dlq": self.queue.message_counts(dead_letters=True),
        }

    def readiness(self) -> dict[str, str]:
        """What does not answer, {"dynamodb"|"sqs": why}; empty when both do."""
        problems = {}
        try:
            self.tables.check()
        except StoreUnavailable as exc:
            problems["dynamodb"] = _first_line(exc)
        try:
            self.queue.check()
        except QueueUnavailable as exc:
            problems["sqs"] = _first_line(exc)
        return problems


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200]
