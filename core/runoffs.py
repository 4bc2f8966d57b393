"""A ranking's instant runoff, computed on demand from its stored vote records and kept on
the topic as `runoff`: the operator command (`flask --app webapp runoff`) and the admin
API (POST /topics/{id}/runoff) both call `Runoffs.compute`. Never computed on reads.

Only a closed topic's: its rankings are final then. The records are read a page at a
time from the votes' topic_id index; the maths is runoff.py's.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from .clock import utc_now
from .errors import VotingError
from .question_types import VOTERS
from .runoff import instant_runoff
from .topics import generation_of, is_open
from .voting import Voting


class RunoffRefused(VotingError):
    """The topic cannot have its runoff computed now (answered 409 with the reason)."""


class RunoffRound(BaseModel):
    counts: dict[str, int] = Field(description="Votes of each choice still in the race.")
    exhausted: int = Field(description="Ballots whose ranked choices are all eliminated.")
    eliminated: list[str] = Field(description="The choice that goes; empty in the last round.")


class RunoffOut(BaseModel):
    """Answer of POST /topics/{id}/runoff, stored on the topic as `runoff`."""

    winner: str | None = Field(description="null when no ballot ranks a choice.")
    rounds: list[RunoffRound]
    ballots: int = Field(description="Counted rankings the runoff was computed from.")
    computed: str


class Runoffs:
    """Computes and stores runoffs, over the Voting service and its store."""

    def __init__(self, voting: Voting):
        self.voting = voting

    def compute(self, topic_id: str) -> dict:
        """The topic's runoff from its counted vote records, stored on the topic.

        TopicNotFound, or RunoffRefused when the topic is not a ranking, is still
        open, or its vote records are not all readable yet (the index catching up).
        """
        voting = self.voting
        topic = voting.topic(topic_id, fresh=True)
        if topic.get("type") != "ranking":
            raise RunoffRefused("Only a ranking question has an instant runoff")
        if is_open(topic, utc_now()):
            raise RunoffRefused("Close the topic first: the runoff counts its final rankings")
        generation = generation_of(topic)
        fields = ("status", "ranking", "generation")
        rankings = [
            record["ranking"]
            for record in voting.store.topic_votes(topic_id, attributes=fields)
            if record.get("status") == "counted" and record.get("generation", 0) == generation
        ]
        # The index is eventually consistent: every counted voter must be in it.
        voters = voting.store.get_counts(topic_id, generation).get(VOTERS, 0)
        if len(rankings) != voters:
            raise RunoffRefused(
                f"{len(rankings)} of {voters} counted rankings are readable yet; try again soon"
            )
        choices = [choice["id"] for choice in topic["choices"]]
        runoff = {**instant_runoff(choices, rankings), "computed": utc_now()}
        stored = {**topic, "runoff": runoff, "last_upd": utc_now()}
        voting.store.replace_topic(stored, expected_last_upd=topic["last_upd"])
        voting.topic(topic_id, fresh=True)  # this process's cache shows it at once
        return runoff
