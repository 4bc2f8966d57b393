"""A ranking's instant runoff, computed on demand from its stored vote records and kept on
the topic as `runoff`: the operator command (`flask --app webapp runoff`) and the admin
API (POST /topics/{id}/runoff) both call `Runoffs.compute`. Never computed on reads.

Only a closed topic's: its rankings are final then. The records are read a page at a
time from the votes' topic_id index; the maths is core/rules/instant_runoff.py's.
"""

from __future__ import annotations

from core.rules.clock import utc_now
from core.rules.errors import VotingError
from core.rules.instant_runoff import instant_runoff
from core.rules.question_types import VOTERS
from core.rules.topics import generation_of, is_open
from core.services import audit
from core.services.topics import Topics


class RunoffRefused(VotingError):
    """The topic cannot have its runoff computed now (answered 409 with the reason)."""


class Runoffs:
    """Computes and stores runoffs, over the topics service and its store."""

    def __init__(self, topics: Topics):
        self.topics = topics
        self.store = topics.store

    def compute(self, topic_id: str) -> dict:
        """The topic's runoff from its counted vote records, stored on the topic.

        TopicNotFound, or RunoffRefused when the topic is not a ranking, is still
        open, or its vote records are not all readable yet (the index catching up).
        """
        topic = self.topics.get(topic_id, fresh=True)
        if topic.get("type") != "ranking":
            raise RunoffRefused("Only a ranking question has an instant runoff")
        if is_open(topic, utc_now()):
            raise RunoffRefused("Close the topic first: the runoff counts its final rankings")
        generation = generation_of(topic)
        fields = ("status", "ranking", "generation")
        rankings = [
            record["ranking"]
            for record in self.store.topic_votes(topic_id, attributes=fields)
            if record.get("status") == "counted" and record.get("generation", 0) == generation
        ]
        # The index is eventually consistent: every counted voter must be in it.
        voters = self.store.get_counts(topic_id, generation).get(VOTERS, 0)
        if len(rankings) != voters:
            raise RunoffRefused(
                f"{len(rankings)} of {voters} counted rankings are readable yet; try again soon"
            )
        choices = [choice["id"] for choice in topic["choices"]]
        # Stamped with the results it counted: shown only while they are the topic's
        # (results.current_runoff), so a reset or a reopen leaves it stale.
        runoff = {
            **instant_runoff(choices, rankings), "computed": utc_now(),
            "generation": generation, "opened_at": topic.get("opened_at"),
        }  # fmt: skip
        stored = {**topic, "runoff": runoff, "last_upd": utc_now()}
        self.store.replace_topic(stored, expected_last_upd=topic["last_upd"])
        audit.record("topic.runoff", topic_id)
        self.topics.get(topic_id, fresh=True)  # this process's cache shows it at once
        return runoff
