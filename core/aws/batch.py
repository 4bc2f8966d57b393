"""The batch transaction: one TransactWriteItems records a planned batch of votes.

Writes, per vote: votes PK id (Put, `attribute_not_exists(id)`: a redelivered
vote fails it), the voter's ballot (ballots PK topic_id SK voter_id, guarded
by what the plan read), a replaced vote's record (votes PK id, counted ->
replaced); per tally slot one ADD (tallies PK topic_id SK "<counter>#<shard>": a
counted vote's counters, question_types.counters, summed over the batch per slot);
and per topic with counted votes a ConditionCheck (topics PK id): open, or
closed after the batch's latest vote was queued (`closed_at`), before its
deadline for that vote, not reopened since its earliest, the vote_limit
the plan assumed, still at the generation its votes were queued in (not reset
since), every voted choice still present. A topic with only refused votes is
checked to exist, so a deleted topic's queued votes never leave records behind.
A game vote's rival take (game.py) comes off the rival's own slot, whose ADD is
conditioned on the slot still holding what the transaction takes from it net of
what it adds (so never below zero). A counted quiz answer adds its score to its player
(aws/players.py), its topic still in the period it scored in (`opened_at`). No topic read.

When the transaction is cancelled, `read_cancellation` says why, item by item.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from botocore.exceptions import ClientError

from core.aws.codec import tally_update, to_item, topic_from_item
from core.aws.errors import (
    BallotChanged,
    TalliesChanged,
    TopicChanged,
    WriteInvalid,
    WriteRetryable,
    error_code,
    translated,
)
from core.aws.players import score_updates
from core.aws.tables import TableNames
from core.rules.errors import StoreUnavailable
from core.rules.game import is_game, shard_of
from core.rules.question_types import choice_ids_of
from core.rules.tally_slots import cell, slot, tally_key
from core.rules.topics import UNLIMITED
from core.rules.votes import ANY_BALLOT, VoteWrite, stored_counts

# DynamoDB's limit of items in one TransactWriteItems.
MAX_TRANSACTION_ITEMS = 100

# Errors that mean "nothing was written, try the same transaction again later".
# botocore's standard mode retries throttling itself; these reach us when its
# attempts run out, and the worker backs off further before giving up.
RETRYABLE_ERRORS = {
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
    "TransactionInProgressException", "InternalServerError",
}  # fmt: skip

# Cancellation codes that mean "try the same transaction again later".
RETRYABLE_CODES = {
    "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded",
    "RequestLimitExceeded", "ThrottlingException",
}  # fmt: skip


@dataclass
class BatchOutcome:
    recorded: list[VoteWrite] = field(default_factory=list)
    duplicates: list[VoteWrite] = field(default_factory=list)


class BatchWriter:
    """Records planned batches. The DynamoDB client is injected."""

    def __init__(self, client, table_prefix: str = ""):
        self.client = client
        self.names = TableNames(table_prefix)

    def record(self, writes: list[VoteWrite]) -> BatchOutcome:
        """Record a planned batch in one transaction, or in several when it holds more
        items than DynamoDB takes in one (`parts`); redeliveries are dropped and reported,
        never counted.

        Raises TopicChanged (with the topic as stored) when a topic check
        fails, so the caller can re-plan, BallotChanged when a voter's ballot
        moved, TalliesChanged when a game's takes no longer fit (with the votes
        settled so far: the caller re-plans without them), WriteRetryable on
        conflicts or throttling, and WriteInvalid when DynamoDB refuses an item as
        malformed; in each case nothing of the failing part was written (earlier
        parts were: their votes are redeliveries when the caller records the batch
        again, so nothing counts twice).
        """
        outcome = BatchOutcome()
        for part in self.parts(writes):
            try:
                done = self._record_part(part)
            except TalliesChanged as exc:
                # The worker re-plans without what earlier parts settled (game.py).
                exc.recorded = outcome.recorded
                exc.duplicates = outcome.duplicates + exc.duplicates
                raise
            outcome.recorded.extend(done.recorded)
            outcome.duplicates.extend(done.duplicates)
        return outcome

    def parts(self, writes: list[VoteWrite]) -> list[list[VoteWrite]]:
        """The batch cut, in plan order, into transactions of at most MAX_TRANSACTION_ITEMS.

        Each holds whole votes: a vote's record Put, its ballot, the record it
        replaces and its tally updates always travel together, so each vote's
        conditional Put guards exactly the counts it adds (exactly once).
        """
        parts: list[list[VoteWrite]] = []
        current: list[VoteWrite] = []
        for write in writes:
            if current and len(self.transaction([*current, write])[0]) > MAX_TRANSACTION_ITEMS:
                parts.append(current)
                current = []
            current.append(write)
        if current:
            parts.append(current)
        return parts

    def _record_part(self, writes: list[VoteWrite]) -> BatchOutcome:
        """One transaction; redeliveries are dropped from it and it is sent again."""
        outcome = BatchOutcome()
        pending = list(writes)
        while pending:
            items, owners = self.transaction(pending)
            retryable = {code: _retryable for code in RETRYABLE_ERRORS}
            retryable["ValidationException"] = lambda exc: WriteInvalid(str(exc))
            try:
                with translated(on_code=retryable):
                    try:
                        self.client.transact_write_items(TransactItems=items)
                    except ClientError as exc:
                        reasons = exc.response.get("CancellationReasons") or []
                        if error_code(exc) != "TransactionCanceledException" or not reasons:
                            raise
                        raise _Cancelled(reasons) from exc
            except _Cancelled as cancelled:
                try:
                    duplicates = read_cancellation(cancelled.reasons, owners)
                except TalliesChanged as exc:
                    raise TalliesChanged(exc.topic_id, outcome.duplicates + exc.duplicates) from exc
                outcome.duplicates.extend(duplicates)
                pending = [w for w in pending if w not in duplicates]
                if any(is_game(w) for w in duplicates) and any(w.took for w in pending):
                    # The game's takes were planned on counts that included the dropped
                    # (already recorded) votes: plan them again without those.
                    raise TalliesChanged(duplicates[0].vote.topic_id, outcome.duplicates) from None
                continue
            outcome.recorded.extend(pending)
            return outcome
        return outcome

    def transaction(self, writes: list[VoteWrite]) -> tuple[list[dict], list]:
        """The items of one batch transaction and, per item, what it stands for.

        An owner is the VoteWrite for its record's Put, else ("ballot", key),
        ("replaced", vote_id), ("topic", topic_id), ("tally", topic_id) or, for a
        game's conditional take, ("take", topic_id).
        """
        items, owners = [], []
        increments: dict[tuple[str, str], int] = {}
        # Tally slots a game vote takes from: their ADD is conditional (_tally_take).
        taken_from: dict[tuple[str, str], str] = {}
        checks: dict[str, dict] = {}
        refused_only: set[str] = set()
        for write in writes:
            items.append(
                {
                    "Put": {
                        "TableName": self.names.votes,
                        "Item": to_item(write.record),
                        "ConditionExpression": "attribute_not_exists(id)",
                    }
                }
            )
            owners.append(write)
            topic_id = write.vote.topic_id
            if write.counted:
                tallies = tally_key(topic_id, write.vote.generation)
                for counter, n in (write.counts or {}).items():
                    key = (tallies, slot(counter, shard_of(write, counter, n)))
                    increments[key] = increments.get(key, 0) + n
                    if write.took and n < 0:
                        taken_from[key] = topic_id
                check = checks.setdefault(
                    topic_id,
                    {"choices": set(), "earliest": "~", "latest": "", "policy": write.policy,
                     "generation": write.vote.generation},
                )  # fmt: skip
                check["choices"] |= choice_ids_of(write.vote.payload)
                check["earliest"] = min(check["earliest"], write.vote.queued_at)
                check["latest"] = max(check["latest"], write.vote.queued_at)
                if write.score is not None:  # a quiz's: the period its points count from
                    check["opened_at"] = write.score["opened_at"]
            else:
                refused_only.add(topic_id)
            if write.ballot is not None:
                items.append(self._ballot_put(write))
                owners.append(("ballot", (topic_id, write.ballot["voter_id"])))
            if write.replaces is not None:
                old = write.replaces
                # A replaced ballot is of the vote's generation (older ones hold nothing).
                tallies = tally_key(topic_id, write.vote.generation)
                for counter, n in stored_counts(old).items():
                    key = (tallies, slot(counter, old.get("shard", 0)))
                    increments[key] = increments.get(key, 0) - n
                items.append(self._mark_replaced(old["vote_id"]))
                owners.append(("replaced", old["vote_id"]))
        for topic_id, check in checks.items():
            items.append(self._topic_check(topic_id, check))
            owners.append(("topic", topic_id))
        for topic_id in sorted(refused_only - set(checks)):
            items.append(self._topic_exists(topic_id))
            owners.append(("topic", topic_id))
        # One Update per tally item: a text answer's item holds its spellings' counts too.
        per_item: dict[tuple[str, str], dict[str, int]] = {}
        for (tallies, slot_key), count in increments.items():
            if count == 0:
                continue  # a voter moved a vote within one slot: nothing to add
            per_item.setdefault((tallies, cell(slot_key)[0]), {})[slot_key] = count
        for (tallies, item_slot), counts in per_item.items():
            count = counts.get(item_slot, 0)
            if count < 0 and (tallies, item_slot) in taken_from:
                items.append(self._tally_take(tallies, item_slot, -count))
                owners.append(("take", taken_from[(tallies, item_slot)]))
                continue
            items.append(self._tally_add(tallies, item_slot, counts))
            owners.append(("tally", tallies))
        scored = score_updates(self.names.players, writes)  # quiz answers' players
        return items + [item for item, _ in scored], owners + [owner for _, owner in scored]

    def _tally_add(self, tallies: str, slot_key: str, count: int | dict[str, int]) -> dict:
        """ADD to tallies PK topic_id SK "<choice>#<shard>" (made at the first vote);
        the PK is the generation's (tally_slots.tally_key). A text answer's item also names
        its tally key in `answers_of`, which puts it in the count-sorted index, and holds
        its spellings' counts (`count` {slot: n}, codec.tally_update)."""
        return {"Update": tally_update(self.names.tallies, tallies, slot_key, count)}

    def _tally_take(self, tallies: str, slot_key: str, count: int) -> dict:
        """A game's takes from a rival's slot, tallies PK topic_id SK "<choice>#<shard>":
        `count` off, only while the slot still holds at least that many (the batch's net
        take), so no slot goes below zero; a failed condition is TalliesChanged."""
        take = self._tally_add(tallies, slot_key, -count)
        take["Update"]["ConditionExpression"] = "#count >= :need"
        take["Update"]["ExpressionAttributeValues"][":need"] = {"N": str(count)}
        return take

    def _topic_check(self, topic_id: str, check: dict) -> dict:
        """ConditionCheck on topics PK id: open, or closed after the batch's latest vote
        was queued (closed_at); before its deadline for that vote; in the same open
        period since its earliest (opened_at), same vote_limit as assumed, at the
        generation the votes were queued in, and every voted choice still present
        (topics.counts_vote is the same rule, vote by vote, for the re-plan)."""
        names = {f":c{i}": {"S": c} for i, c in enumerate(sorted(check["choices"]))}
        condition = " AND ".join(
            [
                # A vote queued before the close counts, as one before a deadline: a
                # topic closed since carries closed_at, after the batch's latest vote.
                "(is_active = :active OR closed_at > :latest)",
                # Topics stored before vote_limit existed are unlimited.
                "(vote_limit = :policy OR attribute_not_exists(vote_limit))"
                if check["policy"] == UNLIMITED
                else "vote_limit = :policy",
                "(attribute_not_exists(closes_at) OR closes_at > :latest)",
                # Reopened since the earliest vote was queued: that vote was
                # queued while closed (or before a close), so it may not count.
                "(attribute_not_exists(opened_at) OR opened_at <= :earliest)",
                # Reset since the votes were queued: they belong to the old results.
                # Topics never reset have no generation (it is 0).
                "(generation = :generation OR attribute_not_exists(generation))"
                if check["generation"] == 0
                else "generation = :generation",
            ]
            + [f"contains(choice_ids, {n})" for n in names]
            + (["opened_at = :opened"] if "opened_at" in check else [])
        )
        values = {
            ":active": {"BOOL": True},
            ":policy": {"S": check["policy"]},
            ":latest": {"S": check["latest"]},
            ":earliest": {"S": check["earliest"]},
            ":generation": {"N": str(check["generation"])},
            **names,
            **({":opened": {"S": check["opened_at"]}} if "opened_at" in check else {}),
        }
        return {
            "ConditionCheck": {
                "TableName": self.names.topics,
                "Key": {"id": {"S": topic_id}},
                "ConditionExpression": condition,
                "ExpressionAttributeValues": values,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def _topic_exists(self, topic_id: str) -> dict:
        """ConditionCheck on topics PK id: the topic still exists (its votes were all refused)."""
        return {
            "ConditionCheck": {
                "TableName": self.names.topics,
                "Key": {"id": {"S": topic_id}},
                "ConditionExpression": "attribute_exists(id)",
            }
        }

    def _ballot_put(self, write: VoteWrite) -> dict:
        """Put on ballots PK topic_id SK voter_id, guarded by what the plan read."""
        # A single vote's ballot names its one count (votes.stored_counts); others keep theirs.
        counts = write.counts if write.vote.rules else None
        item = to_item({**write.ballot, "shard": write.shard, "counts": counts})
        put = {"TableName": self.names.ballots, "Item": item}
        generation = write.vote.generation
        if write.expect_vote_id is None and generation:
            # No ballot of this generation: one left over from before a reset holds nothing.
            put["ConditionExpression"] = (
                "attribute_not_exists(voter_id) OR attribute_not_exists(generation)"
                " OR generation < :generation"
            )
            put["ExpressionAttributeValues"] = {":generation": {"N": str(generation)}}
        elif write.expect_vote_id is None:
            put["ConditionExpression"] = "attribute_not_exists(voter_id)"
        elif write.expect_vote_id != ANY_BALLOT:
            put["ConditionExpression"] = "vote_id = :standing"
            put["ExpressionAttributeValues"] = {":standing": {"S": write.expect_vote_id}}
        return {"Put": put}

    def _mark_replaced(self, vote_id: str) -> dict:
        """Update votes PK id: a counted vote its voter changed becomes `replaced`."""
        return {
            "Update": {
                "TableName": self.names.votes,
                "Key": {"id": {"S": vote_id}},
                "UpdateExpression": "SET #status = :replaced, reason = :why",
                "ConditionExpression": "#status = :counted",
                "ExpressionAttributeNames": {"#status": "status"},
                "ExpressionAttributeValues": {
                    ":replaced": {"S": "replaced"},
                    ":why": {"S": "changed_by_voter"},
                    ":counted": {"S": "counted"},
                },
            }
        }


def read_cancellation(reasons: list[dict], owners: list) -> list[VoteWrite]:
    """Read why a transaction was cancelled, item by item; return the duplicate votes.

    A vote whose Put failed its condition is a redelivery. Raises TopicChanged,
    BallotChanged, TalliesChanged (a game's take, with the duplicates found beside it)
    or WriteRetryable where the batch cannot go on as planned, StoreUnavailable for
    anything unexpected.

    A failed topic check wins over a moved ballot: a reset or close can fail both at
    once (a pre-reset vote's "no ballot yet" guard meets the new generation's ballot),
    and only the topic as stored lets the re-plan refuse the vote. Re-reading the
    ballot instead plans the same write again, every attempt, until the batch is
    given up and, redelivered, dead-lettered: a vote accepted and never recorded.
    """
    duplicates, retryable, moved, ballot = [], [], None, None
    for reason, owner in zip(reasons, owners, strict=False):
        code = reason.get("Code") or "None"
        if code == "None":
            continue
        if code == "ConditionalCheckFailed" and isinstance(owner, VoteWrite):
            duplicates.append(owner)
        elif code == "ConditionalCheckFailed" and owner[0] == "topic":
            item = reason.get("Item")
            raise TopicChanged(owner[1], topic_from_item(item) if item else None)
        elif code == "ConditionalCheckFailed" and owner[0] == "take":
            moved = owner[1]  # read on: the redeliveries beside it are settled too
        elif code == "ConditionalCheckFailed" and owner[0] in ("ballot", "replaced"):
            # Another worker moved this voter's ballot since we read it. Read on:
            # the topic checks come after the votes' items, and they come first.
            ballot = ballot or str(owner[1])
        elif code in RETRYABLE_CODES:
            retryable.append(code)
        else:
            raise StoreUnavailable(f"transaction cancelled: {code} {reason.get('Message')}")
    if ballot is not None:
        raise BallotChanged(ballot)
    if moved is not None:
        raise TalliesChanged(moved, duplicates)
    if retryable and not duplicates:
        raise WriteRetryable(retryable[0])
    return duplicates


def _retryable(exc: ClientError) -> WriteRetryable:
    return WriteRetryable(error_code(exc))


class _Cancelled(Exception):
    """A cancelled transaction, carried out of the translator with its reasons."""

    def __init__(self, reasons: list[dict]):
        super().__init__("transaction cancelled")
        self.reasons = reasons
