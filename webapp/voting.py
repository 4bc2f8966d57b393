"""What the API and the pages both do: topics in, votes out to the queue, results back.

Views parse requests and map the errors below to HTTP; this module holds the
rules once so the JSON API and the HTML forms cannot drift apart.
"""

from __future__ import annotations

from .cache import TTLCache
from .config import Settings
from .metrics import timed_send
from .models import (
    QueuedVote,
    TopicIn,
    VoteIn,
    iso,
    merge_choices,
    new_id,
    utc_now,
)
from .policy import is_open
from .queue import VoteQueue
from .store import Store


class Voting:
    def __init__(self, store: Store, queue: VoteQueue, settings: Settings):
        self.store = store
        self.queue = queue
        self.settings = settings
        self._topics = TTLCache(settings.topic_cache_seconds)
        self._counts = TTLCache(settings.results_cache_seconds)

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
            **_settings_of(data, {}),
        }
        self.store.put_new_topic(topic)
        self._topics.put(topic["id"], topic)
        return topic

    def update_topic(self, topic_id: str, data: TopicIn) -> dict:
        """Replace title, is_active and choices; known choice ids keep their votes."""
        current = self.topic(topic_id, fresh=True)
        topic = {
            **current,
            "title": data.title,
            "is_active": data.is_active,
            "choices": merge_choices(current["choices"], data.choices),
            "last_upd": utc_now(),
            **_settings_of(data, current),
        }
        self.store.replace_topic(topic, expected_last_upd=current["last_upd"])
        self._topics.put(topic_id, topic)
        return topic

    def set_active(self, topic_id: str, active: bool) -> dict:
        current = self.topic(topic_id, fresh=True)
        topic = {**current, "is_active": active, "last_upd": utc_now()}
        self.store.replace_topic(topic, expected_last_upd=current["last_upd"])
        self._topics.put(topic_id, topic)
        return topic

    def topic(self, topic_id: str, fresh: bool = False) -> dict:
        """The topic, from this process's short cache unless `fresh`. Raises TopicNotFound."""
        load = lambda: self.store.get_topic(topic_id)  # noqa: E731
        topic = load() if fresh else self._topics.get_or_load(topic_id, load)
        if topic is None:
            self._topics.forget(topic_id)
            raise TopicNotFound(topic_id)
        return topic

    def topics(self) -> list[dict]:
        """All topics: open first, newest first."""
        topics = self.store.list_topics()
        topics.sort(key=lambda t: t["created"], reverse=True)
        topics.sort(key=lambda t: not t["is_active"])
        return topics

    def counts(self, topic_id: str) -> dict[str, int]:
        """Votes per choice id, cached per process for RESULTS_CACHE_SECONDS."""
        return self._counts.get_or_load(topic_id, lambda: self.store.get_counts(topic_id))

    # -- votes ----------------------------------------------------------------

    def cast(self, vote: VoteIn, voter_id: str | None = None, request_id: str | None = None):
        """Check the vote against the topic, then queue it; the 202 comes after SQS said yes."""
        topic = self.topic(vote.topic_id)
        if vote.choice_id not in {c["id"] for c in topic["choices"]}:
            # The cached copy may predate a new choice: ask once more before refusing.
            topic = self.topic(vote.topic_id, fresh=True)
            if vote.choice_id not in {c["id"] for c in topic["choices"]}:
                raise ChoiceNotInTopic(vote.choice_id)
        queued_at = utc_now()
        if not is_open(topic, queued_at):
            raise TopicClosed(vote.topic_id)
        voter_id = voter_id or vote.voter_id
        limit = topic.get("vote_limit", "unlimited")
        if limit != "unlimited" and not voter_id:
            raise VoterRequired(vote.topic_id)
        if limit == "one_per_voter" and self.store.get_ballot(vote.topic_id, voter_id):
            # The fast answer; the worker's conditional write is the real guard
            # (two votes racing through intake are settled there).
            raise AlreadyVoted(vote.topic_id)
        message = QueuedVote(
            id=new_id(),
            topic_id=vote.topic_id,
            choice_id=vote.choice_id,
            queued_at=queued_at,
            voter_id=voter_id,
            request_id=request_id,
            vote_limit=limit,
            tally_shards=topic.get("tally_shards"),
        )
        with timed_send():
            self.queue.send(message.model_dump(exclude_none=True))
        return message


    def has_voted(self, topic_id: str, voter_id: str | None) -> bool:
        """Whether this voter has a recorded ballot on the topic (any policy)."""
        return bool(voter_id) and self.store.get_ballot(topic_id, voter_id) is not None

    def results_visible(self, topic: dict, voter_id: str | None, is_admin: bool) -> bool:
        """The topic's results_visibility rule for this viewer; admins always see."""
        rule = topic.get("results_visibility", "always")
        if is_admin or rule == "always":
            return True
        if rule == "after_close":
            return not is_open(topic, utc_now())
        return self.has_voted(topic["id"], voter_id)


def _settings_of(data: TopicIn, current: dict) -> dict:
    """vote_limit, closes_at, results_visibility, tally_shards: given, else as stored."""
    given = data.model_fields_set
    closes_at = current.get("closes_at")
    if "closes_at" in given:
        closes_at = iso(data.closes_at) if data.closes_at else None
    return {
        "vote_limit": data.vote_limit or current.get("vote_limit", "unlimited"),
        "results_visibility": data.results_visibility
        or current.get("results_visibility", "always"),
        "closes_at": closes_at,
        "tally_shards": data.tally_shards or current.get("tally_shards"),
    }


class VotingError(Exception):
    """Base of the refusals a voter or admin can cause."""


class TopicNotFound(VotingError):
    """No topic with that id."""


class ChoiceNotInTopic(VotingError):
    """The choice id is not one of the topic's choices."""


class TopicClosed(VotingError):
    """The topic does not take votes now."""


class VoterRequired(VotingError):
    """The topic allows one vote per voter, and the vote names no voter."""


class AlreadyVoted(VotingError):
    """This voter's vote on a one-per-voter topic is already recorded."""
