"""What a vote is on its way: the queue message, and the write a batch plans for it.

A vote is accepted at intake as a `VoteMessage` (the SQS body), and the worker
turns each message into one `VoteWrite`: the record to store in the votes
table, whether it adds to a tally, and the voter's ballot work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from core.rules.clock import utc_now
from core.rules.fields import Id, Rating, VoterId
from core.rules.question_types import ANSWER_FIELD, VOTERS, counters, payload_of, text_counters
from core.rules.text_answers import MAX_TEXT_LENGTH
from core.rules.topics import DEFAULT_VOTE_LIMIT, MAX_TALLY_SHARDS, UNLIMITED, VoteLimit

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
    # The answer: choice_id for single and game, else the type's one field
    # (question_types.ANSWER_FIELD), as intake checked and normalized it.
    choice_id: Id | None = None
    choice_ids: list[Id] | None = None
    ranking: list[Id] | None = None
    rating: Rating | dict[Id, Rating] | None = None
    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT_LENGTH)] | None = None
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
    # The question's rules when the vote was accepted (question_types.rules_of); absent
    # for single choice. The worker counts with them (`counters`) without reading the
    # topic; rules change only while a topic has no votes, and moving its generation on.
    rules: dict | None = None
    # A quiz answer's open period (the topic's opened_at when it was accepted): its points
    # count from there, and the worker's transaction checks the period is still that one.
    opened_at: QueuedAt | None = None

    @model_validator(mode="after")
    def _one_answer(self):
        # Exactly the answer field its rules' type takes, or the worker could not count
        # it: such a message is refused alone as unparseable, never failing its batch.
        kind = (self.rules or {}).get("type", "single")
        if kind not in ANSWER_FIELD or list(payload_of(self)) != [ANSWER_FIELD[kind]]:
            raise ValueError("a vote message carries the one answer field of its type")
        if kind == "ranking":
            size = self.rules.get("choices")
            if not isinstance(size, int) or not 0 < len(self.ranking) <= size:
                raise ValueError("a ranking's rules state its number of choices")
        if kind == "quiz" and not _scorable(self):
            raise ValueError("a quiz answer names its player, open period and scoring rules")
        return self

    @property
    def payload(self) -> dict:
        return payload_of(self)


def _scorable(vote: VoteMessage) -> bool:
    """A quiz answer carries what the worker scores it by (quiz.quiz_rules), or it is refused
    alone as unparseable rather than scored wrong."""
    rules = vote.rules
    return bool(
        vote.voter_id and vote.opened_at and isinstance(rules.get("event_id"), str)
        and isinstance(rules.get("time_limit"), int) and isinstance(rules.get("correct"), list)
    )  # fmt: skip


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
    anything). `replaces` is the stored ballot this vote supersedes: its
    `counts` come off the tallies and its record is marked replaced.
    `counts` are the tally deltas a counted vote adds ({counter: n},
    question_types.counters); a game's planner adds its rival take to them.
    Record and ballot keep them, so a change or a delete takes off exactly these.
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
    counts: dict[str, int] | None = None
    # A game vote's rival take, set by the game's planner with the rival's deltas in
    # `counts`: {"choice_id": rival, "shard": n}, kept on the record for recount.
    took: dict | None = None
    # A counted quiz answer's score (quiz.plan_scores), kept on its record and ballot;
    # the batch adds it to the player's tallies.
    score: dict | None = None

    def __post_init__(self):
        self.created = self.created or utc_now()
        if self.counts is None and self.counted:
            self.counts = counters(getattr(self.vote, "rules", None), payload_of(self.vote))

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
            **vote.payload,
            "queued_at": vote.queued_at,
            "created": self.created,
            "status": self.status,
            "reason": self.reason,
            "voter_id": vote.voter_id,
            "shard": self.shard if self.counted else None,
            # Only once the topic was reset: a record of generation 0 carries none.
            "generation": vote.generation or None,
            # A single vote's counts are its choice (stored_counts): it stores none.
            "counts": self.counts if self.counted and vote.rules else None,
            "took": self.took if self.counted else None,
            "score": self.score if self.counted else None,
        }
        return {k: v for k, v in record.items() if v is not None}


def ballot_of(vote: VoteMessage) -> dict:
    """The ballots item (PK topic_id, SK voter_id) that makes `vote` the voter's standing one."""
    ballot = {
        "topic_id": vote.topic_id,
        "voter_id": vote.voter_id,
        "vote_id": vote.id,
        **payload_of(vote),
        "queued_at": vote.queued_at,
        # A ballot of an older generation is a leftover of a reset: it holds nothing.
        "generation": vote.generation or None,
    }
    return {k: v for k, v in ballot.items() if v is not None}


def scored(record: dict) -> dict | None:
    """The score a stored vote record added to its quiz player's tallies ({event_id,
    points, correct, ...}, quiz.plan_scores), or None: a rejected answer, or another
    type's vote. A counted quiz answer has one even when wrong (0 points): it is one of
    the player's `answered`."""
    return record.get("score") if record.get("status") == COUNTED else None


def stored_counts(item: dict) -> dict[str, int]:
    """The tally deltas a stored counted vote record or ballot applied: its `counts`, or
    for a single vote (and anything stored before question types) its choice's one.

    A text answer's are made again from its text: its group is its moderation key
    (text_answers), the key `recount --fix` moves every answer's tallies to, so a
    change or a delete takes off exactly what the tallies hold whatever key its
    `counts` name."""
    if "text" in item:
        return {**text_counters(item["text"]), VOTERS: 1}
    counts = item.get("counts")
    return dict(counts) if counts else {item["choice_id"]: 1}
