"""The topics service: questions created, edited, opened and closed, reset and deleted, and
their results read back, over the store and this process's caches.

Views and the other services call this, never the store. Every write is
conditional on the version read (`last_upd`), so two admins cannot overwrite
each other; reads come from a short per-process cache unless asked `fresh`
(or for a copy read after a given moment, `read_after`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict

from core.aws.backend import Backend
from core.aws.purge import Purged
from core.rules.clock import iso, new_id, utc_now
from core.rules.errors import (
    RulesConflict,
    RulesInvalid,
    RulesLocked,
    TopicNotFound,
    VotesWouldBeDropped,
)
from core.rules.formats.quiz import can_reopen, is_quiz
from core.rules.question_types import check_rules, rules_of, votes_counted
from core.rules.results import MOST_GIVEN, shown_answer
from core.rules.text_answers import moderation_key, typed_answer
from core.rules.topics import (
    QUESTION_SETTINGS,
    SETTING_DEFAULTS,
    Topic,
    generation_of,
    merge_choices,
    results_held,
    voted_choices_removed,
    with_defaults,
    with_results_held,
)
from core.schemas.topics import TopicIn
from core.services import audit
from core.services.cache import TTLCache
from core.settings import Settings


class Topics:
    """The rules of topics over the store: what views call to change or read a topic."""

    def __init__(self, backend: Backend, settings: Settings):
        self.backend = backend
        self.store = backend.store
        self._topics = TTLCache(settings.topic_cache_seconds)
        # Never served past its age: a stale tally delays a vote on the projector by a poll.
        self._counts = TTLCache(settings.results_cache_seconds, serve_stale=False)

    def create(self, data: TopicIn, held: bool = False) -> dict:
        """A new topic; `held` (its results held back) when it is made for an event whose presenter
        hides its results."""
        now = utc_now()
        topic = {
            "id": new_id(),
            "created": now,
            "last_upd": now,
            "is_active": data.is_active,
            "title": data.title,
            "choices": merge_choices([], [c.model_copy(update={"id": None}) for c in data.choices]),
            **_settings_of(data, with_defaults({})),
            "owner": audit.actor().id,
        }
        if topic["is_active"]:
            topic["opened_at"] = now  # created open: its first open period starts now
        topic = with_results_held(topic, held)
        check_rules(topic)
        self.store.put_new_topic(topic)
        self._topics.put(topic["id"], topic)
        audit.record("topic.create", topic["id"])
        return topic

    def update(
        self, topic_id: str, data: TopicIn, drop_votes: bool | Collection[str] = False
    ) -> dict:
        """Replace title, is_active and choices; known choice ids keep their votes.

        Removing a choice that has votes drops them from the results, so it
        needs `drop_votes`: True for any choice, or the ids of the choices
        the admin confirmed. Otherwise raises VotesWouldBeDropped.
        """
        current = self.get(topic_id, fresh=True)
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
        _note_open_period(current, topic)
        self.store.replace_topic(topic, expected_last_upd=current["last_upd"])
        self._topics.put(topic_id, topic)
        audit.record("topic.update", topic_id)
        return topic

    def set_active(self, topic_id: str, active: bool) -> dict:
        current, topic = self.activated(topic_id, active)
        return self._replace(current, topic)

    def activated(
        self, topic_id: str, active: bool, event_id: str | None = None, held: bool | None = None
    ) -> tuple[Topic, dict]:
        """(the topic as stored now, the topic opened or closed, and held back or not
        when `held` says): not stored, for a caller that writes it together with
        something else (Events, with its event), then hands it to `remember`.

        An event opening a quiz question not yet asked in one (`event_id`) binds it to
        that event, whose players answer it, and starts its clock now."""
        current = self.get(topic_id, fresh=True)
        topic = {**current, "is_active": active, "last_upd": utc_now()}
        if held is not None:
            topic = with_results_held(topic, held)
        _note_open_period(current, topic)
        if active and event_id and is_quiz(current) and not current.get("event_id"):
            topic["event_id"], topic["opened_at"] = event_id, topic["last_upd"]
        return current, topic

    def held_back(self, topic_id: str, held: bool) -> tuple[Topic, dict]:
        """(the topic as stored now, the topic with its results held back or not): not
        stored, like `activated`."""
        current = self.get(topic_id, fresh=True)
        return current, {**with_results_held(current, held), "last_upd": utc_now()}

    def remember(self, topic: dict) -> None:
        """This process's cache holds `topic`, as just stored by another service."""
        self._topics.put(topic["id"], topic)

    def release_results(self, topic_id: str) -> dict:
        """The topic's results no longer held back (its event is gone)."""
        current = self.get(topic_id, fresh=True)
        if not results_held(current):
            return current
        return self._replace(current, {**with_results_held(current, False), "last_upd": utc_now()})

    def hold_for_event(self, topic_id: str, held: bool) -> dict:
        """Closed and unlisted: a question waiting in an event takes no vote by any way in
        and stays off the home page until the presenter reaches it (Events.go_to opens it;
        it stays unlisted after: an event's questions belong to the event). Its results
        are held back when its question hides them."""
        current = self.get(topic_id, fresh=True)
        waiting = not current["is_active"] and not current["listed"]
        if waiting and results_held(current) == held:
            return current
        topic = {**with_results_held(current, held), "is_active": False,
                 "listed": False, "last_upd": utc_now()}  # fmt: skip
        _note_open_period(current, topic)
        return self._replace(current, topic)

    def set_answer_hidden(self, topic_id: str, text: str, hidden: bool) -> dict:
        """Hide a text answer from the screen (or show it again): the presenter's call.

        The answer is matched by its moderation key, as it was counted, so every
        look-alike spelling of it goes (or comes back) with it; its votes stay. The
        list keeps the answer as the presenter gave it.
        """
        current = self.get(topic_id, fresh=True)
        if current["type"] != "text":
            raise RulesConflict("Only a text question has answers to hide")
        answer = typed_answer(text)
        key = moderation_key(answer)
        shown = [a for a in current["hidden_answers"] if moderation_key(a) != key]
        topic = {**current, "hidden_answers": [*shown, answer] if hidden else shown,
                 "last_upd": utc_now()}  # fmt: skip
        return self._replace(current, topic)

    def _replace(self, current: Topic, topic: dict) -> dict:
        """Store `topic` over `current` (Conflict if it changed meanwhile) and cache it."""
        self.store.replace_topic(topic, expected_last_upd=current["last_upd"])
        self._topics.put(topic["id"], topic)
        audit.record("topic.update", topic["id"])
        return topic

    def reset(self, topic_id: str) -> dict:
        """Empty the topic's results: its votes, ballots and tallies go, together.

        One conditional write raises the topic's generation: from then on its
        results read a new, empty tallies key, and the worker's transaction
        refuses every vote queued before (recorded `rejected`, reason `reset`),
        so nothing of the old results can count into the new ones. Then the old
        generations' items are deleted, a page at a time; if that stops halfway
        (a store error) the results are empty all the same, and `purge_topic`
        finishes it. The topic keeps its state (open stays open).
        """
        current = self.get(topic_id, fresh=True)
        counted = votes_counted(current, self.counts(topic_id, fresh=True))
        _keep_scored_answers(current, counted)
        topic = {**current, "generation": generation_of(current) + 1, "last_upd": utc_now()}
        self.store.replace_topic(topic, expected_last_upd=current["last_upd"])
        self._topics.put(topic_id, topic)
        audit.record("topic.reset", topic_id)
        return _cleared(topic_id, counted, self.purge(topic_id))

    def purge(self, topic_id: str) -> Purged:
        """Delete what the topic's earlier generations left (idempotent: safe to rerun)."""
        topic = self.get(topic_id, fresh=True)
        return self.backend.purge.older_generations(topic_id, generation_of(topic))

    def delete(self, topic_id: str) -> dict:
        """Delete the topic, then its votes, ballots and tallies of every generation.

        The topic goes first, so a vote still queued for it can no longer be
        recorded: the worker's transaction checks the topic exists, and its
        message goes to the dead-letter queue as an unknown topic.
        """
        topic = self.get(topic_id, fresh=True)
        counted = votes_counted(topic, self.counts(topic_id, fresh=True))
        _keep_scored_answers(topic, counted)
        self.store.delete_topic(topic)
        self._topics.forget(topic_id)
        audit.record("topic.delete", topic_id)
        purged = self.backend.purge.everything(topic_id, generation_of(topic))
        return _cleared(topic_id, counted, purged)

    def get(self, topic_id: str, fresh: bool = False, read_after: float | None = None) -> Topic:
        """The topic, from this process's short cache unless `fresh`. Raises TopicNotFound.

        With `read_after` (a `time.monotonic()` moment), a copy whose read started then
        or later, one read per topic at a time shared by every caller that waits for
        one: what a refusal decided on a cached copy is confirmed with."""
        topic = self._topics.find(
            topic_id, lambda: self.store.get_topic(topic_id), fresh, since=read_after
        )
        if topic is None:
            raise TopicNotFound(topic_id)
        return topic

    def all(self) -> list[dict]:
        """All topics: open first, newest first."""
        topics = self.store.list_topics()
        topics.sort(key=lambda t: t["created"], reverse=True)
        topics.sort(key=lambda t: not t["is_active"])
        return topics

    def counts(self, topic_id: str, fresh: bool = False) -> dict[str, int]:
        """Votes per counter of the topic's current generation (since its last reset),
        cached per process for RESULTS_CACHE_SECONDS unless `fresh`. A text question's
        answers are the MOST_GIVEN shown ones and one more (is there more?), plus the
        hidden or blocked ones met on the way, and their spellings: two Queries and one
        BatchGetItem, at any vocabulary."""
        topic = self.get(topic_id, fresh=fresh)
        generation = generation_of(topic)

        def load() -> dict[str, int]:
            counts = self.store.get_counts(topic_id, generation)
            if topic["type"] == "text":
                shown = shown_answer(topic)
                top = self.store.top_answers(topic_id, generation, MOST_GIVEN + 1, shown)
                counts |= top
                if top:  # their spellings: which one each answer is shown as
                    counts |= self.store.answer_spellings(topic_id, generation, list(top))
            return counts

        # Keyed by the topic's version too: hiding an answer reads past it at once.
        key = (topic_id, generation, topic["last_upd"])
        return load() if fresh else self._counts.get_or_load(key, load)


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
    if is_quiz(settings):
        settings["vote_limit"] = "one_per_voter"  # one answer per player
    # Kept as typed, one entry per moderation key (text_answers: what they block).
    entries = {}
    for entry in map(typed_answer, settings["blocked_answers"]):
        if moderation_key(entry):
            entries.setdefault(moderation_key(entry), entry)
    settings["blocked_answers"] = list(entries.values())
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


def _note_open_period(current: Topic, topic: dict) -> None:
    """A closed topic opening again starts a new open period (`opened_at`); an open topic
    closing ends it (`closed_at`). Both are the changing write's `last_upd`.

    The worker counts a vote only if it was queued inside the open period the topic
    is in when the vote is recorded, or before the close that ended it
    (topics.counts_vote, and the batch's topic ConditionCheck): a vote answered 202
    just before a close counts, and a vote a web process took from a stale cache
    while the topic was closed does not, even after a quick reopen.

    A quiz question that was asked is not opened again (quiz.can_reopen): its answer
    may be public already.
    """
    if not can_reopen(current, topic):
        raise RulesConflict(
            "This quiz question was asked: it is not asked again (duplicate the event to"
            " play again)"
        )
    if topic["is_active"] and not current["is_active"]:
        topic["opened_at"] = topic["last_upd"]
    elif current["is_active"] and not topic["is_active"]:
        topic["closed_at"] = topic["last_upd"]


def _keep_scored_answers(topic: Topic, counted: int) -> None:
    """A quiz question whose answers scored keeps them: its players' scores hold their
    points (duplicate the event to play again)."""
    if is_quiz(topic) and counted:
        raise RulesConflict(
            "This quiz question's answers are in its players' scores: it keeps them"
            " (duplicate the event to play again)"
        )


def _cleared(topic_id: str, counted: int, purged: Purged) -> dict:
    """What a reset or a deletion took with it (schemas.TopicCleared)."""
    return {"id": topic_id, "counted": counted, **asdict(purged)}
