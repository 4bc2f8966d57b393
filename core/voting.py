"""What the API and the pages both do: topics in, votes out to the queue, results back.

Views parse requests and map the refusals of errors.py to HTTP; this module holds the
rules once so the JSON API and the HTML forms cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict

from . import csv_export
from .aws.backend import Backend
from .aws.errors import QueueUnavailable, StoreUnavailable
from .aws.group_send import BatchObserver, GroupSender
from .aws.purge import Purged
from .cache import TTLCache
from .clock import iso, new_id, utc_now
from .errors import (
    AlreadyVoted,
    AnswerInvalid,
    ChoiceNotInTopic,
    RulesConflict,
    RulesInvalid,
    RulesLocked,
    TopicClosed,
    TopicNotFound,
    VoterRequired,
    VotesWouldBeDropped,
)
from .question_types import (
    SINGLE,
    check_answer,
    check_rules,
    payload_of,
    rules_of,
    votes_counted,
)
from .schemas import TopicIn, VoteIn
from .settings import Settings
from .text_answers import normalize_text
from .topics import (
    QUESTION_SETTINGS,
    SETTING_DEFAULTS,
    UNLIMITED,
    Topic,
    generation_of,
    is_open,
    merge_choices,
    voted_choices_removed,
    with_defaults,
)
from .type_results import MOST_GIVEN, shown_answer
from .votes import VoteMessage


class Voting:
    """The rules of topics and votes over the AWS adapters. Views call this, never the store.

    `send_timer` wraps each vote's send, group wait included (the web layer
    passes its metrics timer); `observe_batch` sees each SendMessageBatch of
    the group sender (its size and the waits of its votes).
    """

    def __init__(
        self,
        backend: Backend,
        settings: Settings,
        send_timer: Callable[[], AbstractContextManager] = nullcontext,
        observe_batch: BatchObserver | None = None,
    ):
        self.backend = backend
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
            )
            if settings.sqs_group_commit
            else None
        )
        self._topics = TTLCache(settings.topic_cache_seconds)
        # Never served past its age: a stale tally delays a vote on the projector by a poll.
        self._counts = TTLCache(settings.results_cache_seconds, serve_stale=False)

    # -- topics ---------------------------------------------------------------

    def create_topic(self, data: TopicIn) -> dict:
        now = utc_now()
        topic = {
            "id": new_id(),
            "created": now,
            "last_upd": now,
            "is_active": data.is_active,
            "title": data.title,
            "choices": merge_choices([], [c.model_copy(update={"id": None}) for c in data.choices]),
            **_settings_of(data, with_defaults({})),
        }
        check_rules(topic)
        self.store.put_new_topic(topic)
        self._topics.put(topic["id"], topic)
        return topic

    def update_topic(
        self, topic_id: str, data: TopicIn, drop_votes: bool | Collection[str] = False
    ) -> dict:
        """Replace title, is_active and choices; known choice ids keep their votes.

        Removing a choice that has votes drops them from the results, so it
        needs `drop_votes`: True for any choice, or the ids of the choices
        the admin confirmed. Otherwise raises VotesWouldBeDropped.
        """
        current = self.topic(topic_id, fresh=True)
        choices = merge_choices(current["choices"], data.choices)
        topic = {
            **current,
            "title": data.title,
            "is_active": data.is_active,
            "choices": choices,
            "last_upd": utc_now(),
            **_settings_of(data, current),
        }
        _check_rules_with(topic, data)
        rules_change = rules_of(topic) != rules_of(current)
        if drop_votes is not True or rules_change:
            # Fresh counts, not the results cache: the checks guard votes.
            counts = self.store.get_counts(topic_id, generation_of(current))
            if rules_change and votes_counted(current, counts):
                raise RulesLocked(topic_id)
            if rules_change:
                # Votes still queued were checked against the old rules: the new
                # generation refuses them (`reset`), as the worker's transaction checks it.
                topic["generation"] = generation_of(current) + 1
            confirmed = set(drop_votes or ()) if drop_votes is not True else None
            dropped = voted_choices_removed(current["choices"], choices, counts)
            if confirmed is not None and any(c["id"] not in confirmed for c, _ in dropped):
                raise VotesWouldBeDropped(dropped)
        _note_reopening(current, topic)
        self.store.replace_topic(topic, expected_last_upd=current["last_upd"])
        self._topics.put(topic_id, topic)
        return topic

    def set_active(self, topic_id: str, active: bool) -> dict:
        current = self.topic(topic_id, fresh=True)
        topic = {**current, "is_active": active, "last_upd": utc_now()}
        _note_reopening(current, topic)
        return self._replace(current, topic)

    def set_answer_hidden(self, topic_id: str, text: str, hidden: bool) -> dict:
        """Hide a text answer from the screen (or show it again): the presenter's call.

        The answer is matched in its normal form, as it was counted; its votes stay.
        """
        current = self.topic(topic_id, fresh=True)
        if current["type"] != "text":
            raise RulesConflict("Only a text question has answers to hide")
        answer = normalize_text(text)
        shown = [a for a in current["hidden_answers"] if a != answer]
        topic = {**current, "hidden_answers": [*shown, answer] if hidden else shown,
                 "last_upd": utc_now()}  # fmt: skip
        return self._replace(current, topic)

    def _replace(self, current: Topic, topic: dict) -> dict:
        """Store `topic` over `current` (Conflict if it changed meanwhile) and cache it."""
        self.store.replace_topic(topic, expected_last_upd=current["last_upd"])
        self._topics.put(topic["id"], topic)
        return topic

    def reset_results(self, topic_id: str) -> dict:
        """Empty the topic's results: its votes, ballots and tallies go, together.

        One conditional write raises the topic's generation: from then on its
        results read a new, empty tallies key, and the worker's transaction
        refuses every vote queued before (recorded `rejected`, reason `reset`),
        so nothing of the old results can count into the new ones. Then the old
        generations' items are deleted, a page at a time; if that stops halfway
        (a store error) the results are empty all the same, and `purge_topic`
        finishes it. The topic keeps its state (open stays open).
        """
        current = self.topic(topic_id, fresh=True)
        counted = votes_counted(current, self.counts(topic_id, fresh=True))
        topic = {**current, "generation": generation_of(current) + 1, "last_upd": utc_now()}
        self.store.replace_topic(topic, expected_last_upd=current["last_upd"])
        self._topics.put(topic_id, topic)
        return _cleared(topic_id, counted, self.purge_topic(topic_id))

    def purge_topic(self, topic_id: str) -> Purged:
        """Delete what the topic's earlier generations left (idempotent: safe to rerun)."""
        topic = self.topic(topic_id, fresh=True)
        return self.backend.purge.older_generations(topic_id, generation_of(topic))

    def delete_topic(self, topic_id: str) -> dict:
        """Delete the topic, then its votes, ballots and tallies of every generation.

        The topic goes first, so a vote still queued for it can no longer be
        recorded: the worker's transaction checks the topic exists, and its
        message goes to the dead-letter queue as an unknown topic.
        """
        topic = self.topic(topic_id, fresh=True)
        counted = votes_counted(topic, self.counts(topic_id, fresh=True))
        self.store.delete_topic(topic)
        self._topics.forget(topic_id)
        purged = self.backend.purge.everything(topic_id, generation_of(topic))
        return _cleared(topic_id, counted, purged)

    def topic(self, topic_id: str, fresh: bool = False) -> Topic:
        """The topic, from this process's short cache unless `fresh`. Raises TopicNotFound."""
        topic = self._topics.find(topic_id, lambda: self.store.get_topic(topic_id), fresh)
        if topic is None:
            raise TopicNotFound(topic_id)
        return topic

    def topics(self) -> list[dict]:
        """All topics: open first, newest first."""
        topics = self.store.list_topics()
        topics.sort(key=lambda t: t["created"], reverse=True)
        topics.sort(key=lambda t: not t["is_active"])
        return topics

    def counts(self, topic_id: str, fresh: bool = False) -> dict[str, int]:
        """Votes per counter of the topic's current generation (since its last reset),
        cached per process for RESULTS_CACHE_SECONDS unless `fresh`. A text question's
        answers are the MOST_GIVEN shown ones and one more (is there more?), plus the
        hidden or blocked ones met on the way: two Queries, at any vocabulary."""
        topic = self.topic(topic_id, fresh=fresh)
        generation = generation_of(topic)

        def load() -> dict[str, int]:
            counts = self.store.get_counts(topic_id, generation)
            if topic["type"] == "text":
                shown = shown_answer(topic)
                counts |= self.store.top_answers(topic_id, generation, MOST_GIVEN + 1, shown)
            return counts

        # Keyed by the topic's version too: hiding an answer reads past it at once.
        key = (topic_id, generation, topic["last_upd"])
        return load() if fresh else self._counts.get_or_load(key, load)

    # -- votes ----------------------------------------------------------------

    def cast(self, vote: VoteIn, voter_id: str | None = None, request_id: str | None = None):
        """Check the vote against the topic, then queue it; the 202 comes after SQS said yes."""
        topic = self.topic(vote.topic_id)
        try:
            answer = check_answer(topic, payload_of(vote))
        except (ChoiceNotInTopic, AnswerInvalid):
            # The cached copy may predate a new choice or a changed question: ask once
            # more before refusing.
            topic = self.topic(vote.topic_id, fresh=True)
            answer = check_answer(topic, payload_of(vote))
        queued_at = utc_now()
        if not is_open(topic, queued_at):
            raise TopicClosed(vote.topic_id)
        voter_id = voter_id or vote.voter_id
        limit = topic["vote_limit"]
        if limit != UNLIMITED and not voter_id:
            raise VoterRequired(vote.topic_id)
        if limit == "one_per_voter" and self._ballot(topic, voter_id):
            # The fast answer; the worker's conditional write is the real guard
            # (two votes racing through intake are settled there).
            raise AlreadyVoted(vote.topic_id)
        message = VoteMessage(
            id=new_id(),
            topic_id=vote.topic_id,
            **answer,
            queued_at=queued_at,
            voter_id=voter_id,
            request_id=request_id,
            vote_limit=limit,
            tally_shards=topic.get("tally_shards"),
            generation=generation_of(topic),
            rules=rules_of(topic) if topic["type"] != SINGLE else None,
        )
        body = message.model_dump(exclude_none=True)
        with self.send_timer():
            if self.sender is not None:
                self.sender.send(body)
            else:
                self.queue.send(body)
        return message

    def close(self, timeout: float) -> int:
        """Refuse new votes and send any still pending; how many were left unsent."""
        return self.sender.close(timeout) if self.sender is not None else 0

    def ballot(self, topic_id: str, voter_id: str | None) -> dict | None:
        """This voter's ballot of the topic's current round (vote_id, choice_id, ...), or None."""
        return self._ballot(self.topic(topic_id), voter_id) if voter_id else None

    def _ballot(self, topic: Topic, voter_id: str) -> dict | None:
        """The voter's ballot of the topic's current generation (older ones hold nothing)."""
        ballot = self.store.get_ballot(topic["id"], voter_id)
        if ballot is None or ballot.get("generation", 0) != generation_of(topic):
            return None
        return ballot

    def results_visible(self, topic: dict, voter_id: str | None, is_admin: bool) -> bool:
        """The topic's results_visibility rule for this viewer; admins always see."""
        rule = topic["results_visibility"]
        if is_admin or rule == "always":
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
        """Delete a vote record and take it off its tally (and its voter's ballot)."""
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


def _settings_of(data: TopicIn, current: Topic) -> dict:
    """vote_limit, closes_at, results_visibility, tally_shards, listed: given, else as `current`."""
    closes_at = current["closes_at"]
    if "closes_at" in data.model_fields_set:
        closes_at = iso(data.closes_at) if data.closes_at else None
    settings = {
        "vote_limit": data.vote_limit or current["vote_limit"],
        "results_visibility": data.results_visibility or current["results_visibility"],
        "closes_at": closes_at,
        "tally_shards": data.tally_shards or current["tally_shards"],
        "listed": current["listed"] if data.listed is None else data.listed,
    }
    # The question's settings: given (null: the default), else as `current`.
    for key in QUESTION_SETTINGS:
        given = getattr(data, key)
        if key not in data.model_fields_set:
            settings[key] = current[key]
        else:
            settings[key] = SETTING_DEFAULTS[key] if given is None else given
    settings["blocked_answers"] = list(
        dict.fromkeys(normalize_text(entry) for entry in settings["blocked_answers"])
    )
    return settings


def _check_rules_with(topic: dict, data: TopicIn) -> None:
    """The updated topic's rules: RulesInvalid (422) when the body breaks them by itself,
    RulesConflict (409) when only the stored settings it left out make it break them."""
    try:
        check_rules(topic)
    except RulesInvalid as exc:
        # The body with what it leaves out at its most permissive: does it break a rule
        # by itself, or only with the stored settings it leaves out?
        lenient = with_defaults({"rate_each": bool(topic["choices"])})
        alone = {"choices": topic["choices"], **_settings_of(data, lenient)}
        try:
            check_rules(alone)
        except RulesInvalid:
            raise exc from None
        message = f"{exc.field}: {exc.message} (with the topic's stored settings)"
        raise RulesConflict(message) from exc


def _note_reopening(current: Topic, topic: dict) -> None:
    """A closed topic opening again starts a new open period: `opened_at`.

    The worker counts a vote only if it was queued inside the open period the
    topic is in when the vote is recorded (topics.is_open, and the batch's
    topic ConditionCheck), so a vote a web process took from a stale cache
    while the topic was closed cannot count after a quick reopen.
    """
    if topic["is_active"] and not current["is_active"]:
        topic["opened_at"] = topic["last_upd"]


def _cleared(topic_id: str, counted: int, purged: Purged) -> dict:
    """What a reset or a deletion took with it (schemas.TopicCleared)."""
    return {"id": topic_id, "counted": counted, **asdict(purged)}


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200]
