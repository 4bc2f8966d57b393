"""What a vote is on its way: the queue message, and the write a batch plans for it.

A vote is accepted at intake as a `VoteMessage` (the SQS body), and the worker
turns each message into one `VoteWrite`: the record to store in the votes
table, whether it adds to a tally, and the voter's ballot work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from .clock import utc_now
from .schemas import Id, VoterId
from .topics import DEFAULT_VOTE_LIMIT, MAX_TALLY_SHARDS, UNLIMITED, VoteLimit

# A queue time as intake stamps it (clock.utc_now), compared as text by the worker.
QueuedAt = Annotated[str, StringConstraints(min_length=1, max_length=64)]
RequestId = Annotated[str, StringConstraints(max_length=200)]


class VoteMessage(BaseModel):
    """The message body carried from intake to the worker through SQS.

    Its fields follow the API's rules (schemas.Id, VoterId), so a message from
    a bad producer is refused by the worker as unparseable, alone, instead of
    reaching DynamoDB as a key it refuses, which would fail its whole batch.
    """

    model_config = ConfigDict(extra="ignore")
    id: Id
    topic_id: Id
    choice_id: Id
    queued_at: QueuedAt
    voter_id: VoterId | None = None
    request_id: RequestId | None = None
    # The topic's vote_limit when the vote was accepted; the worker's
    # transaction checks it still holds.
    vote_limit: VoteLimit = DEFAULT_VOTE_LIMIT
    # The topic's own tally_shards when it has one (else the worker's TALLY_SHARDS):
    # carried here so the worker never reads the topic to pick a shard.
    tally_shards: int | None = Field(default=None, ge=1, le=MAX_TALLY_SHARDS)
    # The topic's generation when the vote was accepted (topics.generation_of): the
    # worker's transaction counts it only while the topic is still at it, so a
    # reset leaves the votes still queued rejected (`reset`), never counted.
    generation: int = Field(default=0, ge=0)


# Statuses of a stored vote record.
COUNTED, REJECTED, REPLACED = "counted", "rejected", "replaced"
# Any stored ballot will do (unlimited topics only remember that a voter voted).
ANY_BALLOT = "*"


@dataclass
class VoteWrite:
    """One vote to record, as a batch's plan decided.

    `status` counted/rejected/replaced, with `reason` when not counted.
    `policy` is the topic's vote_limit the plan assumed; the transaction
    checks it. `ballot` is the voter's ballot to store and `expect_vote_id`
    what the stored ballot must hold first (None: no ballot yet; ANY_BALLOT:
    anything). `replaces` is the stored ballot this vote supersedes: its vote
    comes off the tally and its record is marked replaced.
    """

    vote: VoteMessage
    status: str
    reason: str | None = None
    shard: int = 0
    policy: str = UNLIMITED
    ballot: dict | None = None
    expect_vote_id: str | None = ANY_BALLOT
    replaces: dict | None = None
    created: str = ""

    def __post_init__(self):
        self.created = self.created or utc_now()

    @property
    def vote_id(self) -> str:
        return self.vote.id

    @property
    def counted(self) -> bool:
        return self.status == COUNTED

    @property
    def record(self) -> dict:
        """The votes item (PK id): counted ones remember their tally shard."""
        vote = self.vote
        record = {
            "id": vote.id,
            "topic_id": vote.topic_id,
            "choice_id": vote.choice_id,
            "queued_at": vote.queued_at,
            "created": self.created,
            "status": self.status,
            "reason": self.reason,
            "voter_id": vote.voter_id,
            "shard": self.shard if self.counted else None,
            # Only once the topic was reset: records stay as they were before resets existed.
            "generation": vote.generation or None,
        }
        return {k: v for k, v in record.items() if v is not None}


def ballot_of(vote: VoteMessage) -> dict:
    """The ballots item (PK topic_id, SK voter_id) that makes `vote` the voter's standing one."""
    ballot = {
        "topic_id": vote.topic_id,
        "voter_id": vote.voter_id,
        "vote_id": vote.id,
        "choice_id": vote.choice_id,
        "queued_at": vote.queued_at,
        # A ballot of an older generation is a leftover of a reset: it holds nothing.
        "generation": vote.generation or None,
    }
    return {k: v for k, v in ballot.items() if v is not None}
