"""The events service: a presenter moving the room through its questions, over the store.

What an event is and how moving on changes its questions' states is in
core/rules/events.py; this service reads events (cached per process), writes them
under their version lock, and opens and closes the questions' topics in the same
transaction as the event (a click changes both or neither), so that the topic's
is_active (which intake and the worker's transaction check) decides what counts.

A question waits closed and unlisted (Topics.hold_for_event) from the moment it
joins an event, however it came: no vote counts before the presenter reaches it,
which opens it; it stays unlisted after the talk (the topic form can list it).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable

from core.aws.events import EventStore
from core.rules.clock import new_id, utc_now
from core.rules.errors import (
    CodeTaken,
    Conflict,
    EventEnded,
    EventNotFound,
    NoCurrentQuestion,
    QuestionNotOnScreen,
    TopicNotFound,
)
from core.rules.events import (
    LOBBY,
    MAX_QUESTIONS,
    ResultsShown,
    check_index,
    current,
    has_ended,
    new_question,
    stored_settings,
)
from core.rules.formats.quiz import is_quiz
from core.rules.join_codes import new_code, normalized
from core.rules.topics import Topic
from core.schemas.topics import TopicIn
from core.services import audit
from core.services.cache import TTLCache
from core.services.event_codes import EventCodes
from core.services.topics import Topics
from core.services.voting import Voting
from core.settings import Settings

# Codes are drawn at random from 887 million: a clash is rare, five in a row
# would mean something else is wrong.
CODE_ATTEMPTS = 5
# A question made for an event (new, or a copy) waits like one added: closed, unlisted.
WAITING = {"is_active": False, "listed": False}


class Events:
    """The rules of events over their store and the topics and voting services."""

    def __init__(self, store: EventStore, topics: Topics, voting: Voting, settings: Settings):
        self.store = store
        self.topics = topics
        self.voting = voting
        # The audience polls an event every second from every phone: one read
        # per event per second per process, whatever the number of phones.
        self._events = TTLCache(settings.results_cache_seconds)
        self._codes = EventCodes(store)
        self.idle_days = settings.event_idle_days
        # Told of every change made through this process (the web's event streams).
        self.on_change: Callable[[str], None] | None = None

    # -- reading --------------------------------------------------------------

    def event(self, event_id: str, fresh: bool = False, read_after: float | None = None) -> dict:
        """The event, from this process's short cache unless `fresh`. Raises EventNotFound.

        With `read_after` (a `time.monotonic()` moment), a copy whose read started then
        or later, one read per event at a time shared by every caller that waits for one."""
        event = self._events.find(event_id, lambda: self.store.get_event(event_id), fresh,
                                  since=read_after)  # fmt: skip
        if event is None:
            raise EventNotFound(event_id)
        return event

    def by_code(self, typed: str | None) -> dict:
        """The event a typed join code names (any case, separators ignored), cached;
        EventNotFound when none does (services.event_codes), EventEnded when it has
        ended (archived: its organisers reach it by id)."""
        code = normalized(typed)
        if code is None:
            raise EventNotFound(typed)
        event_id = self._codes.event_id(code)
        if event_id is None:
            raise EventNotFound(code)
        event = self.event(event_id)
        if has_ended(event, utc_now(), self.idle_days):
            raise EventEnded(code)
        return event

    def events(self) -> list[dict]:
        """All events, newest first."""
        return sorted(self.store.list_events(), key=lambda e: e["created"], reverse=True)

    def on_screen(self, event: dict, voter_id: str | None = None, is_admin: bool = False):
        """(current question, its topic, its counts or None) as this viewer may see them.

        Counts only once the presenter revealed them, for everyone, the
        projector included; then the topic's own results rule still applies to
        the audience. No current question (or its topic gone): (None, None, None).
        Every read is cached per process (event, topic, tallies).
        """
        question = current(event)
        if question is None:
            return None, None, None
        try:
            topic = self.topics.get(question["topic_id"])
        except TopicNotFound:
            return None, None, None
        shown = question["results"] == "shown"
        counts = None
        if shown and self.voting.results_visible(topic, voter_id, is_admin):
            counts = self.topics.counts(topic["id"])
        return question, topic, counts

    def topic_on_screen(self, event: dict, topic_id: str | None) -> Topic:
        """The topic of the question the room is on, when `topic_id` names it; else
        QuestionNotOnScreen (the presenter moved on while the voter's form was shown).

        `event` is the caller's copy, usually this process's cached one. A refusal is
        confirmed on a copy of the event read after this call began, shared by the
        votes waiting for one (one read per event at a time), so a vote for the
        question the presenter just moved to is never refused from a copy read before
        the move. Whether that topic takes the vote is Voting.cast's to say.
        """
        asked = time.monotonic()
        topic = self._current_topic(event)
        if topic is None or topic_id != topic["id"]:
            try:
                event = self.event(event["id"], read_after=asked)
            except EventNotFound:
                raise QuestionNotOnScreen(event["id"]) from None
            topic = self._current_topic(event)
            if topic is None or topic_id != topic["id"]:
                raise QuestionNotOnScreen(event["id"])
        return topic

    def _current_topic(self, event: dict) -> Topic | None:
        """The topic of the event's current question (cached), or None (lobby, topic gone)."""
        question = current(event)
        if question is None:
            return None
        try:
            return self.topics.get(question["topic_id"])
        except TopicNotFound:
            return None

    def questions(self, event: dict) -> list[dict]:
        """The event's questions with their topics (None where a topic is gone)."""
        listed = []
        for index, question in enumerate(event["questions"]):
            try:
                topic = self.topics.get(question["topic_id"])
            except TopicNotFound:
                topic = None
            listed.append({"index": index, **question, "topic": topic})
        return listed

    # -- creating and deleting ----------------------------------------------------

    def create(self, title: str, topic_ids: list[str] = (), results: ResultsShown = "hidden",
               **settings):  # fmt: skip
        """A new event with a fresh join code; existing topics become its questions,
        waiting (closed and unlisted). `settings`: `qna`, whether it takes audience
        questions (core/rules/formats/qna.py), and `teams`, those a quiz's players pick from."""
        for topic_id in topic_ids:
            self.topics.get(topic_id, fresh=True)  # TopicNotFound before anything is written
        for topic_id in dict.fromkeys(topic_ids):
            self.topics.hold_for_event(topic_id, held=results == "hidden")
        return self._create(title, [new_question(t, results) for t in topic_ids], settings)

    def _create(self, title: str, questions: list[dict], settings: dict) -> dict:
        now = utc_now()
        event = {
            "id": new_id(),
            "title": title,
            "created": now,
            "last_upd": now,
            "version": 1,
            "position": LOBBY,
            "questions": questions[:MAX_QUESTIONS],
            "owner": audit.actor().id,
            **stored_settings(settings),
        }
        for attempt in range(1, CODE_ATTEMPTS + 1):
            event["code"] = new_code()
            try:
                self.store.put_new_event(event)
                break
            except CodeTaken:
                if attempt == CODE_ATTEMPTS:
                    raise
        self._remember(event)
        audit.record("event.create", event["id"])
        return event

    def duplicate(self, event_id: str) -> dict:
        """A copy with a new code, before its first question: each question a new
        topic (same content, no votes, closed), its results hidden or shown as before."""
        source = self.event(event_id, fresh=True)
        copies = []
        for question in source["questions"]:
            try:
                topic = self.topics.get(question["topic_id"], fresh=True)
            except TopicNotFound:
                continue  # a question whose topic is gone has nothing to copy
            data = TopicIn.model_validate({**topic, **WAITING})
            copy = self.topics.create(data, held=question["results"] == "hidden")
            copies.append(new_question(copy["id"], question["results"]))
        settings = {"qna": source.get("qna", "off"), "teams": source.get("teams", ())}
        return self._create(f"{source['title']} (copy)"[:300], copies, settings)

    def delete(self, event_id: str) -> dict:
        """Delete the event and free its code; its topics (and their votes) stay."""
        event = self.event(event_id, fresh=True)
        self.store.delete_event(event)
        self._events.forget(event_id)
        self._codes.forget(event["code"])
        audit.record("event.delete", event_id)
        for question in event["questions"]:  # no presenter holds their results any more
            with contextlib.suppress(TopicNotFound, Conflict):  # gone, or changed meanwhile
                self.topics.release_results(question["topic_id"])
        return event

    def rename(self, event_id: str, title: str, **settings) -> dict:
        """A new title and, of `qna` and `teams` (as `create`'s), those given; when
        `expires_at` is given, the event's end (ISO; None: EVENT_IDLE_DAYS idle)."""
        ends = {"expires_at": settings.pop("expires_at")} if "expires_at" in settings else None

        def edit(event):
            event["title"] = title
            for name, value in settings.items():
                if value is not None:
                    event.pop(name, None)
                    event.update(stored_settings({name: value}))
            if ends is not None:
                event.pop("expires_at", None)
                event.update({k: v for k, v in ends.items() if v})

        return self.change(event_id, edit)

    # -- driving the room ---------------------------------------------------------

    def go_to(self, event_id: str, position: int) -> dict:
        """Make `position` current (LOBBY or a question index): a waiting question opens,
        an open question left behind closes."""
        event = self.event(event_id, fresh=True)
        if position != LOBBY:
            check_index(event["questions"], position)
        if position == event["position"]:
            return event
        leaving, arriving = current(event), None
        if position != LOBBY:
            arriving = event["questions"][position]
        topics = []
        if leaving and leaving["state"] == "open":
            topics.append(self.topics.activated(leaving["topic_id"], False))
        if arriving and arriving["state"] == "waiting":
            held = arriving["results"] == "hidden"
            topics.append(self.topics.activated(arriving["topic_id"], True, event_id, held))

        def move(event):
            if leaving and leaving["state"] == "open":
                event["questions"][leaving["index"]]["state"] = "closed"
            if arriving and arriving["state"] == "waiting":
                event["questions"][position]["state"] = "open"
            event["position"] = position
            event["moved_at"] = utc_now()  # the presenter console's timer counts from it

        return self.change(event_id, move, seen=event, topics=topics)

    def step(self, event_id: str, delta: int) -> dict:
        """Next (+1) or previous (-1), staying within the lobby and the last question."""
        event = self.event(event_id, fresh=True)
        last = len(event["questions"]) - 1
        return self.go_to(event_id, max(LOBBY, min(last, event["position"] + delta)))

    def set_open(self, event_id: str, open_: bool) -> dict:
        """Open or close voting on the current question (the topic's is_active)."""
        event = self.event(event_id, fresh=True)
        question = current(event)
        if question is None:
            raise NoCurrentQuestion(event_id)
        topics = [self.topics.activated(question["topic_id"], open_, event_id)]
        state = "open" if open_ else "closed"
        index = question["index"]
        return self.change(event_id, lambda e: e["questions"][index].update(state=state),
                           seen=event, topics=topics)  # fmt: skip

    def set_results(self, event_id: str, shown: bool) -> dict:
        """Reveal or hide the current question's results, on phones and projector alike.

        Revealing a quiz question still open closes it in the same write: its answer is
        shown, so it takes no more answers (an answer queued before counts)."""
        event = self.event(event_id, fresh=True)
        question = current(event)
        if question is None:
            raise NoCurrentQuestion(event_id)
        results = "shown" if shown else "hidden"
        # The topic carries the hold, so every read of its results asks one rule
        # (Voting.results_visible); written with the event, together or not at all.
        changes = {"results": results}
        topics = self.topics_held_back(question["topic_id"], not shown)
        if topics and shown and question["state"] == "open" and is_quiz(topics[0][0]):
            topics = [self.topics.activated(question["topic_id"], False, held=False)]
            changes["state"] = "closed"
        index = question["index"]
        return self.change(event_id, lambda e: e["questions"][index].update(changes),
                           seen=event, topics=topics)  # fmt: skip

    # -- writing ----------------------------------------------------------------

    def change(
        self, event_id: str, mutate, seen: dict | None = None,
        topics: list[tuple[Topic, dict]] = (),
    ) -> dict:  # fmt: skip
        """Apply `mutate` to a copy of the event and store it under the version lock.

        `topics` ([(topic as read, topic changed)], Topics.activated) are stored in the
        same transaction, each under its own lock: all of it, or Conflict and nothing.
        """
        current = seen or self.event(event_id, fresh=True)
        event = {**current, "questions": [dict(q) for q in current["questions"]]}
        mutate(event)
        event["version"] = current["version"] + 1
        event["last_upd"] = utc_now()
        changed = [(new, read["last_upd"]) for read, new in topics]
        self.store.replace_event(event, expected_version=current["version"], topics=changed)
        for topic, _ in changed:
            self.topics.remember(topic)
        self._remember(event)
        audit.record("event.update", event_id, version=event["version"])
        if self.on_change is not None:
            self.on_change(event_id)
        return event

    def topics_held_back(self, topic_id: str, held: bool) -> list[tuple[Topic, dict]]:
        """[(the topic as read, held back or not)] for `change`; [] when the topic is gone."""
        try:
            return [self.topics.held_back(topic_id, held)]
        except TopicNotFound:
            return []

    def _remember(self, event: dict) -> None:
        self._events.put(event["id"], event)
        self._codes.remember(event["code"], event["id"])
