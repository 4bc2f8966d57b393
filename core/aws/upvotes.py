"""The upvotes of audience questions: a voter's standing upvote, and the transaction that
records a batch of upvote messages exactly once.

Table (name takes `TABLE_PREFIX`; schema in ddl/upvotes.json):
- upvotes  PK question_id, SK entry. Two kinds of item share a question's partition:
           entry = a voter id: that voter's standing upvote {up, at (the queue
           time of the message that last changed it), vote_id, event_id};
           entry = "#<message id>" (voter ids never hold "#"): the record of one
           upvote or withdrawal message {kind, voter_id, queued_at, created,
           status counted|rejected, reason}.

One TransactWriteItems per batch (qna.plan_upvotes decides it), per message:
- Put the record, `attribute_not_exists(entry)`: a redelivered message fails it
  and is dropped from the batch, never counted twice;
per voter and question the batch touches:
- Put the standing upvote (changed), or ConditionCheck it (unchanged), under the
  condition that it is still as the plan read it (absent, or `at` unchanged);
per question with a net change:
- Update questions ADD upvotes, rank (qna.RANK_STEP per upvote), only if the
  question exists.
At most 10 messages a batch: 30 items, under DynamoDB's 100.
"""

from __future__ import annotations

from botocore.exceptions import ClientError

from core.aws.codec import from_item, to_item
from core.aws.errors import WriteRetryable, error_code, translated
from core.aws.tables import TableNames, chunks
from core.rules.errors import StoreError, StoreUnavailable
from core.rules.qna import RANK_STEP, StandingChange, UpvoteWrite

RETRYABLE_CODES = {
    "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded",
    "RequestLimitExceeded", "ThrottlingException",
}  # fmt: skip
RETRYABLE_ERRORS = {
    "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
    "TransactionInProgressException", "InternalServerError",
}  # fmt: skip


class StandingMoved(StoreError):
    """A voter's standing upvote changed since the plan read it: read again, re-plan."""


class QuestionGone(StoreError):
    """A question the batch upvotes no longer exists."""

    def __init__(self, question_id: str):
        super().__init__(question_id)
        self.question_id = question_id


class UpvoteStore:
    """Standing upvotes and the batch transaction. The client is injected."""

    def __init__(self, client, table_prefix: str = ""):
        self.client = client
        self.names = TableNames(table_prefix)

    def standing(self, question_id: str, voter_id: str) -> dict | None:
        """GetItem upvotes PK question_id SK entry=voter_id (intake's fast check)."""
        return self.standings([(question_id, voter_id)]).get((question_id, voter_id))

    def standings(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict]:
        """BatchGetItem upvotes PK question_id SK entry=voter_id, consistent:
        {(question_id, voter_id): item}."""
        found: dict[tuple[str, str], dict] = {}
        for chunk in chunks(dict.fromkeys(keys), 100):
            request = {
                self.names.upvotes: {
                    "Keys": [{"question_id": {"S": q}, "entry": {"S": v}} for q, v in chunk],
                    "ConsistentRead": True,
                }
            }
            while request:
                with translated():
                    answer = self.client.batch_get_item(RequestItems=request)
                for item in answer.get("Responses", {}).get(self.names.upvotes, []):
                    standing = from_item(item)
                    found[(standing["question_id"], standing["entry"])] = standing
                request = answer.get("UnprocessedKeys") or None
        return found

    def record(
        self, writes: list[UpvoteWrite], changes: list[StandingChange],
        deltas: dict[tuple[str, str], int],
    ) -> list[UpvoteWrite]:  # fmt: skip
        """One transaction for the planned batch. Returns the writes found already
        recorded (redeliveries): the caller re-plans without them and calls again.
        Nothing else written then. Raises StandingMoved, QuestionGone, WriteRetryable
        (conflicts, throttling) or StoreUnavailable; nothing is written in each case."""
        items, owners = [], []
        for write in writes:
            items.append({"Put": {
                "TableName": self.names.upvotes, "Item": to_item(write.record),
                "ConditionExpression": "attribute_not_exists(entry)",
            }})  # fmt: skip
            owners.append(write)
        for change in changes:
            items.append(self._standing(change))
            owners.append(("standing", change.question_id))
        for (event_id, question_id), delta in sorted(deltas.items()):
            items.append({"Update": {
                "TableName": self.names.questions,
                "Key": {"event_id": {"S": event_id}, "id": {"S": question_id}},
                "UpdateExpression": "ADD upvotes :n, #rank :r",
                "ConditionExpression": "attribute_exists(id)",
                "ExpressionAttributeNames": {"#rank": "rank"},
                "ExpressionAttributeValues": {
                    ":n": {"N": str(delta)}, ":r": {"N": str(delta * RANK_STEP)},
                },
            }})  # fmt: skip
            owners.append(("question", question_id))
        retryable = {code: lambda exc: WriteRetryable(error_code(exc)) for code in RETRYABLE_ERRORS}
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
            return _read_cancellation(cancelled.reasons, owners)
        return []

    def _standing(self, change: StandingChange) -> dict:
        """Put (changed) or ConditionCheck (unchanged) upvotes PK question_id SK voter_id,
        only while it is as the plan read it."""
        key = {"question_id": {"S": change.question_id}, "entry": {"S": change.voter_id}}
        guard: dict = {"ConditionExpression": "attribute_not_exists(entry)"}
        if change.read is not None:
            guard = {
                "ConditionExpression": "#at = :at",
                "ExpressionAttributeNames": {"#at": "at"},
                "ExpressionAttributeValues": {":at": {"S": change.read.get("at", "")}},
            }
        if change.up is None:
            return {"ConditionCheck": {"TableName": self.names.upvotes, "Key": key, **guard}}
        item = {
            "question_id": change.question_id, "entry": change.voter_id, "up": change.up,
            "at": change.at, "vote_id": change.vote_id, "event_id": change.event_id,
        }  # fmt: skip
        return {"Put": {"TableName": self.names.upvotes, "Item": to_item(item), **guard}}


def _read_cancellation(reasons: list[dict], owners: list) -> list[UpvoteWrite]:
    """The redeliveries of a cancelled transaction, or why it cannot go on as planned."""
    duplicates, retryable, moved, gone = [], [], False, None
    for reason, owner in zip(reasons, owners, strict=False):
        code = reason.get("Code") or "None"
        if code == "None":
            continue
        if code == "ConditionalCheckFailed" and isinstance(owner, UpvoteWrite):
            duplicates.append(owner)
        elif code == "ConditionalCheckFailed" and owner[0] == "question":
            gone = gone or owner[1]
        elif code == "ConditionalCheckFailed":
            moved = True
        elif code in RETRYABLE_CODES:
            retryable.append(code)
        else:
            raise StoreUnavailable(f"transaction cancelled: {code} {reason.get('Message')}")
    if duplicates:
        return duplicates  # re-planned without them first: the rest may then go through
    if gone:
        raise QuestionGone(gone)
    if moved:
        raise StandingMoved("a standing upvote changed")
    if retryable:
        raise WriteRetryable(retryable[0])
    raise StoreUnavailable("transaction cancelled without a reason")


class _Cancelled(Exception):
    def __init__(self, reasons: list[dict]):
        super().__init__("transaction cancelled")
        self.reasons = reasons
