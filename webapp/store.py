"""DynamoDB only: topics, vote records and tallies. No other module talks to DynamoDB.

Tables (names take `TABLE_PREFIX`; schemas live in ddl/*.json):
- topics   PK id. A topic with its choices inline, plus `choice_ids` (a string
           set derived from the choices) so write conditions can test membership.
- votes    PK id, GSI topic_id-created-index (topic_id, created). One record per
           vote the worker recorded, `status` counted or rejected.
- tallies  PK topic_id, SK slot = "<choice_id>#<shard>". `count` per shard;
           a choice's votes are the sum of its shards.
- ballots  PK topic_id, SK voter_id. A voter's standing vote on a topic
           (vote_id, choice_id, queued_at, shard): what makes "one vote per
           voter" a database rule rather than a hope.

Reading a topic with results is one GetItem plus one Query, whatever the
number of votes. Botocore errors never leave this module: they are re-raised
as the domain errors at the bottom of this file.
"""

from __future__ import annotations

import base64
import binascii
import json
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError

DDL_DIR = Path(__file__).resolve().parent.parent / "ddl"
TABLES = ("topics", "votes", "tallies", "ballots")
VOTES_BY_TOPIC = "topic_id-created-index"
# BatchWriteItem takes at most 25 items; throttled parts come back as UnprocessedItems.
BATCH_WRITE_SIZE = 25
BATCH_WRITE_ATTEMPTS = 8
# Items per Scan/Query page when streaming whole tables: bounds memory, and
# keeps each call short on moto, which serialises items slowly.
PAGE_ITEMS = 1000

# Errors that mean "nothing was written, try the same transaction again later".
# botocore's standard mode retries throttling itself; these reach us when its
# attempts run out, and the worker backs off further before giving up.
RETRYABLE_ERRORS = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TransactionInProgressException",
    "InternalServerError",
}

# Cancellation codes that mean "try the same transaction again later".
RETRYABLE_CODES = {
    "TransactionConflict",
    "ThrottlingError",
    "ProvisionedThroughputExceeded",
    "RequestLimitExceeded",
    "ThrottlingException",
}

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def to_item(data: dict) -> dict:
    return {k: _serializer.serialize(v) for k, v in data.items() if v is not None}


def from_item(item: dict) -> dict:
    data = {k: _deserializer.deserialize(v) for k, v in item.items()}
    # Numbers come back as Decimal; every number we store is a whole count.
    return {k: (int(v) if type(v).__name__ == "Decimal" else v) for k, v in data.items()}


def slot(choice_id: str, shard: int) -> str:
    return f"{choice_id}#{shard}"


@dataclass
class VoteWrite:
    """One vote to record: its record, whether it adds to the tally, and voter work.

    `ballot` is the voter's ballot to store; `expect_vote_id` what the stored
    ballot must hold first (None: no ballot yet, "*": anything). `replaces` is
    the ballot this vote supersedes (its vote comes off the tally and its
    record is marked replaced). `policy` is the topic's vote_limit the caller
    assumed; the transaction checks it.
    """

    record: dict
    counted: bool
    shard: int = 0
    ballot: dict | None = None
    expect_vote_id: str | None = "*"
    replaces: dict | None = None
    policy: str = "unlimited"


@dataclass
class BatchOutcome:
    recorded: list[VoteWrite] = field(default_factory=list)
    duplicates: list[VoteWrite] = field(default_factory=list)


class Store:
    """Plain boto3 access to the three tables. The client is injected."""

    def __init__(self, client, table_prefix: str = ""):
        self.client = client
        self.topics = f"{table_prefix}topics"
        self.votes = f"{table_prefix}votes"
        self.tallies = f"{table_prefix}tallies"
        self.ballots = f"{table_prefix}ballots"

    # -- schema -------------------------------------------------------------

    def create_tables(self) -> list[str]:
        """Create missing tables from ddl/*.json; returns the names it created."""
        created = []
        for base in TABLES:
            spec = json.loads((DDL_DIR / f"{base}.json").read_text())
            spec["TableName"] = getattr(self, base)
            try:
                self.client.create_table(**spec)
                created.append(spec["TableName"])
            except ClientError as exc:
                if _code(exc) != "ResourceInUseException":
                    raise StoreUnavailable(str(exc)) from exc
            except BotoCoreError as exc:  # unreachable endpoint, no credentials
                raise StoreUnavailable(str(exc)) from exc
        try:
            for name in created:
                self.client.get_waiter("table_exists").wait(
                    TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
                )
        except BotoCoreError as exc:  # WaiterError included
            raise StoreUnavailable(str(exc)) from exc
        return created

    def check(self) -> None:
        """Raise StoreUnavailable unless every table answers."""
        try:
            for base in TABLES:
                self.client.describe_table(TableName=getattr(self, base))
        except (ClientError, BotoCoreError) as exc:
            raise StoreUnavailable(str(exc)) from exc

    # -- topics ---------------------------------------------------------------

    def put_new_topic(self, topic: dict) -> None:
        """PK id. Fails with AlreadyExists if the id is taken."""
        item = to_item({**topic, "choice_ids": {c["id"] for c in topic["choices"]}})
        try:
            self.client.put_item(
                TableName=self.topics,
                Item=item,
                ConditionExpression="attribute_not_exists(id)",
            )
        except ClientError as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                raise AlreadyExists(topic["id"]) from exc
            raise _unavailable(exc) from exc

    def replace_topic(self, topic: dict, expected_last_upd: str) -> None:
        """PK id. Replaces the topic if nobody changed it since it was read.

        The `last_upd` condition is an optimistic lock: two admins saving at
        once cannot silently drop each other's choices.
        """
        item = to_item({**topic, "choice_ids": {c["id"] for c in topic["choices"]}})
        try:
            self.client.put_item(
                TableName=self.topics,
                Item=item,
                ConditionExpression="last_upd = :seen",
                ExpressionAttributeValues={":seen": {"S": expected_last_upd}},
            )
        except ClientError as exc:
            if _code(exc) == "ConditionalCheckFailedException":
                raise Conflict(topic["id"]) from exc
            raise _unavailable(exc) from exc

    def get_topic(self, topic_id: str) -> dict | None:
        """PK id. The topic without `choice_ids`, or None."""
        try:
            answer = self.client.get_item(
                TableName=self.topics, Key={"id": {"S": topic_id}}, ConsistentRead=True
            )
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable(exc) from exc
        return _topic(answer["Item"]) if "Item" in answer else None

    def list_topics(self) -> list[dict]:
        """Scan of topics PK id (a poll app holds few); unordered."""
        return [_topic(item) for item in self._pages("scan", {"TableName": self.topics})]

    def get_counts(self, topic_id: str) -> dict[str, int]:
        """Query PK topic_id of tallies: {choice_id: votes}, shards summed."""
        counts: dict[str, int] = {}
        for slot_key, count in self.get_slot_counts(topic_id).items():
            choice_id = slot_key.rsplit("#", 1)[0]
            counts[choice_id] = counts.get(choice_id, 0) + count
        return counts

    def get_slot_counts(self, topic_id: str) -> dict[str, int]:
        """Query PK topic_id of tallies: {"<choice_id>#<shard>": count}, one entry per item."""
        kwargs = {
            "TableName": self.tallies,
            "KeyConditionExpression": "topic_id = :t",
            "ExpressionAttributeValues": {":t": {"S": topic_id}},
            "ConsistentRead": True,
        }
        return {
            row["slot"]: row.get("count", 0)
            for row in (from_item(item) for item in self._pages("query", kwargs))
        }

    def set_choice_tally(
        self, topic_id: str, choice_id: str, seen: dict[str, int], target: int
    ) -> None:
        """Make a choice's tally `target`: shard 0 holds it, its other shards go to 0.

        tallies PK topic_id, SK "<choice_id>#<shard>". Every slot written is
        conditioned on still holding what the caller read (`seen`, slot ->
        count; absent means no item), so a vote counted meanwhile cancels the
        repair (Conflict) instead of being overwritten.
        """
        slots = {key: n for key, n in seen.items() if key.rsplit("#", 1)[0] == choice_id}
        slots.setdefault(slot(choice_id, 0), None)
        items = []
        for key in sorted(slots):
            value = target if key == slot(choice_id, 0) else 0
            update = {
                "TableName": self.tallies,
                "Key": {"topic_id": {"S": topic_id}, "slot": {"S": key}},
                "UpdateExpression": "SET #count = :value, choice_id = :c",
                "ExpressionAttributeNames": {"#count": "count"},
                "ExpressionAttributeValues": {":value": {"N": str(value)}, ":c": {"S": choice_id}},
            }
            if slots[key] is None:
                update["ConditionExpression"] = "attribute_not_exists(slot)"
            else:
                update["ConditionExpression"] = "#count = :seen"
                update["ExpressionAttributeValues"][":seen"] = {"N": str(slots[key])}
            items.append({"Update": update})
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if _code(exc) == "TransactionCanceledException":
                raise Conflict(topic_id) from exc
            raise _unavailable(exc) from exc
        except BotoCoreError as exc:
            raise _unavailable(exc) from exc

    # -- votes ----------------------------------------------------------------

    def get_vote(self, vote_id: str) -> dict | None:
        """PK id of votes."""
        try:
            answer = self.client.get_item(TableName=self.votes, Key={"id": {"S": vote_id}})
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable(exc) from exc
        return from_item(answer["Item"]) if "Item" in answer else None

    def list_votes(self, topic_id: str, limit: int, cursor: str | None) -> tuple[list, str | None]:
        """GSI topic_id-created-index, newest first; cursor is opaque to clients."""
        kwargs = {
            "TableName": self.votes,
            "IndexName": VOTES_BY_TOPIC,
            "KeyConditionExpression": "topic_id = :t",
            "ExpressionAttributeValues": {":t": {"S": topic_id}},
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if cursor:
            start = decode_cursor(cursor)
            if start.get("topic_id", {}).get("S") != topic_id:
                raise BadCursor("cursor belongs to another listing")
            kwargs["ExclusiveStartKey"] = start
        try:
            page = self.client.query(**kwargs)
        except ClientError as exc:
            if _code(exc) == "ValidationException":
                raise BadCursor("cursor is not valid") from exc
            raise _unavailable(exc) from exc
        except BotoCoreError as exc:
            raise _unavailable(exc) from exc
        votes = [from_item(item) for item in page.get("Items", [])]
        last = page.get("LastEvaluatedKey")
        return votes, encode_cursor(last) if last else None

    def record_votes(self, writes: list[VoteWrite]) -> BatchOutcome:
        """One TransactWriteItems for a batch of votes.

        Writes: votes PK id (Put, attribute_not_exists(id)), tallies PK
        topic_id SK "<choice>#<shard>" (ADD count), and a ConditionCheck on
        each topic with counted votes: still active, every voted choice still
        present. A vote already recorded is a redelivery: it is dropped from
        the transaction and reported in `duplicates`, never counted twice.

        Raises TopicChanged (with the topic as stored) when a topic check
        fails, so the caller can reclassify, and WriteRetryable on conflicts
        or throttling; in both cases nothing was written.
        """
        outcome = BatchOutcome()
        pending = list(writes)
        while pending:
            items, owners = self._transaction(pending)
            try:
                self.client.transact_write_items(TransactItems=items)
            except ClientError as exc:
                if _code(exc) in RETRYABLE_ERRORS:
                    raise WriteRetryable(_code(exc)) from exc
                reasons = exc.response.get("CancellationReasons") or []
                if _code(exc) != "TransactionCanceledException" or not reasons:
                    raise _unavailable(exc) from exc
                duplicates = self._sort_cancellation(reasons, owners)
                outcome.duplicates.extend(duplicates)
                pending = [w for w in pending if w not in duplicates]
                continue
            except BotoCoreError as exc:
                raise StoreUnavailable(str(exc)) from exc
            outcome.recorded.extend(pending)
            return outcome
        return outcome

    def _transaction(self, writes: list[VoteWrite]) -> tuple[list[dict], list]:
        """The items of one batch transaction and, per item, what it stands for."""
        items, owners = [], []
        increments: dict[tuple[str, str], int] = {}
        checks: dict[str, dict] = {}
        for write in writes:
            items.append(
                {
                    "Put": {
                        "TableName": self.votes,
                        "Item": to_item(write.record),
                        "ConditionExpression": "attribute_not_exists(id)",
                    }
                }
            )
            owners.append(write)
            topic_id = write.record["topic_id"]
            if write.counted:
                choice_id = write.record["choice_id"]
                key = (topic_id, slot(choice_id, write.shard))
                increments[key] = increments.get(key, 0) + 1
                check = checks.setdefault(
                    topic_id, {"choices": set(), "latest": "", "policy": write.policy}
                )
                check["choices"].add(choice_id)
                check["latest"] = max(check["latest"], write.record["queued_at"])
            if write.ballot is not None:
                items.append(self._ballot_put(write))
                owners.append(("ballot", (topic_id, write.ballot["voter_id"])))
            if write.replaces is not None:
                old = write.replaces
                key = (topic_id, slot(old["choice_id"], old.get("shard", 0)))
                increments[key] = increments.get(key, 0) - 1
                items.append(self._mark_replaced(old["vote_id"]))
                owners.append(("replaced", old["vote_id"]))
        for topic_id, check in checks.items():
            items.append(self._topic_check(topic_id, check))
            owners.append(("topic", topic_id))
        for (topic_id, slot_key), count in increments.items():
            if count == 0:
                continue  # a voter moved a vote within one slot: nothing to add
            items.append(
                {
                    "Update": {
                        "TableName": self.tallies,
                        "Key": {"topic_id": {"S": topic_id}, "slot": {"S": slot_key}},
                        "UpdateExpression": "ADD #count :n SET choice_id = :c",
                        "ExpressionAttributeNames": {"#count": "count"},
                        "ExpressionAttributeValues": {
                            ":n": {"N": str(count)},
                            ":c": {"S": slot_key.rsplit("#", 1)[0]},
                        },
                    }
                }
            )
            owners.append(("tally", topic_id))
        return items, owners

    def _topic_check(self, topic_id: str, check: dict) -> dict:
        """ConditionCheck on topics PK id: open for the batch's latest vote, same
        vote_limit as assumed, and every voted choice still present."""
        names = {f":c{i}": {"S": c} for i, c in enumerate(sorted(check["choices"]))}
        condition = " AND ".join(
            [
                "is_active = :active",
                # Topics stored before vote_limit existed are unlimited.
                "(vote_limit = :policy OR attribute_not_exists(vote_limit))"
                if check["policy"] == "unlimited"
                else "vote_limit = :policy",
                "(attribute_not_exists(closes_at) OR closes_at > :latest)",
            ]
            + [f"contains(choice_ids, {n})" for n in names]
        )
        values = {
            ":active": {"BOOL": True},
            ":policy": {"S": check["policy"]},
            ":latest": {"S": check["latest"]},
            **names,
        }
        return {
            "ConditionCheck": {
                "TableName": self.topics,
                "Key": {"id": {"S": topic_id}},
                "ConditionExpression": condition,
                "ExpressionAttributeValues": values,
                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
            }
        }

    def _ballot_put(self, write: VoteWrite) -> dict:
        """Put on ballots PK topic_id SK voter_id, guarded by what the caller read."""
        put = {"TableName": self.ballots, "Item": to_item({**write.ballot, "shard": write.shard})}
        if write.expect_vote_id is None:
            put["ConditionExpression"] = "attribute_not_exists(voter_id)"
        elif write.expect_vote_id != "*":
            put["ConditionExpression"] = "vote_id = :standing"
            put["ExpressionAttributeValues"] = {":standing": {"S": write.expect_vote_id}}
        return {"Put": put}

    def _mark_replaced(self, vote_id: str) -> dict:
        """Update votes PK id: a counted vote its voter changed becomes `replaced`."""
        return {
            "Update": {
                "TableName": self.votes,
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

    def get_ballots(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict]:
        """BatchGetItem on ballots PK topic_id SK voter_id: {(topic, voter): ballot}."""
        found: dict[tuple[str, str], dict] = {}
        unique = list(dict.fromkeys(keys))
        for chunk in _chunks(unique, 100):
            request = {
                self.ballots: {
                    "Keys": [{"topic_id": {"S": t}, "voter_id": {"S": v}} for t, v in chunk],
                    "ConsistentRead": True,
                }
            }
            while request:
                try:
                    answer = self.client.batch_get_item(RequestItems=request)
                except (ClientError, BotoCoreError) as exc:
                    raise _unavailable(exc) from exc
                for item in answer.get("Responses", {}).get(self.ballots, []):
                    ballot = from_item(item)
                    found[(ballot["topic_id"], ballot["voter_id"])] = ballot
                request = answer.get("UnprocessedKeys") or None
        return found

    def get_ballot(self, topic_id: str, voter_id: str) -> dict | None:
        """GetItem on ballots PK topic_id SK voter_id."""
        return self.get_ballots([(topic_id, voter_id)]).get((topic_id, voter_id))

    @staticmethod
    def _sort_cancellation(reasons: list[dict], owners: list) -> list[VoteWrite]:
        """Read why a transaction was cancelled; return the duplicate votes.

        Raises TopicChanged or WriteRetryable where the batch cannot go on as it is.
        """
        duplicates, retryable = [], []
        for reason, owner in zip(reasons, owners, strict=False):
            code = reason.get("Code") or "None"
            if code == "None":
                continue
            if code == "ConditionalCheckFailed" and isinstance(owner, VoteWrite):
                duplicates.append(owner)
            elif code == "ConditionalCheckFailed" and owner[0] == "topic":
                item = reason.get("Item")
                raise TopicChanged(owner[1], _topic(item) if item else None)
            elif code == "ConditionalCheckFailed" and owner[0] in ("ballot", "replaced"):
                # Another worker moved this voter's ballot since we read it.
                raise BallotChanged(str(owner[1]))
            elif code in RETRYABLE_CODES:
                retryable.append(code)
            else:
                raise StoreUnavailable(f"transaction cancelled: {code} {reason.get('Message')}")
        if retryable and not duplicates:
            raise WriteRetryable(retryable[0])
        return duplicates

    def delete_vote(self, vote_id: str) -> dict:
        """Delete votes PK id, atomically with what it contributed.

        If it was counted, its tally slot (tallies PK topic_id SK
        "<choice>#<shard>") goes down by one; if it is the voter's standing
        ballot (ballots PK topic_id SK voter_id), the ballot goes too, so the
        voter may vote again. The vote's status is a condition: a vote changed
        meanwhile (counted -> replaced) cancels the delete instead of
        decrementing the wrong tally.
        """
        vote = self.get_vote(vote_id)
        if vote is None:
            raise NotFound(vote_id)
        items = [
            {
                "Delete": {
                    "TableName": self.votes,
                    "Key": {"id": {"S": vote_id}},
                    "ConditionExpression": "#status = :status",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {":status": {"S": vote["status"]}},
                }
            }
        ]
        if vote.get("status") == "counted":
            items.append(
                {
                    "Update": {
                        "TableName": self.tallies,
                        "Key": {
                            "topic_id": {"S": vote["topic_id"]},
                            "slot": {"S": slot(vote["choice_id"], vote.get("shard", 0))},
                        },
                        "UpdateExpression": "ADD #count :minus",
                        "ConditionExpression": "#count > :zero",
                        "ExpressionAttributeNames": {"#count": "count"},
                        "ExpressionAttributeValues": {":minus": {"N": "-1"}, ":zero": {"N": "0"}},
                    }
                }
            )
        voter_id = vote.get("voter_id")
        ballot = self.get_ballot(vote["topic_id"], voter_id) if voter_id else None
        if ballot and ballot.get("vote_id") == vote_id:
            items.append(
                {
                    "Delete": {
                        "TableName": self.ballots,
                        "Key": {
                            "topic_id": {"S": vote["topic_id"]},
                            "voter_id": {"S": vote["voter_id"]},
                        },
                        "ConditionExpression": "vote_id = :id",
                        "ExpressionAttributeValues": {":id": {"S": vote_id}},
                    }
                }
            )
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if _code(exc) == "TransactionCanceledException":
                if self.get_vote(vote_id) is None:
                    raise NotFound(vote_id) from exc  # deleted first by someone else
                raise Conflict(vote_id) from exc
            raise _unavailable(exc) from exc
        return vote

    def shard_for_batch(self, shards: int) -> int:
        """A random shard: spreads a hot topic's writes over `shards` items."""
        return random.randrange(max(1, shards))

    # -- export, import and snapshots: every table in TABLES, any key shape ---

    def table_name(self, base: str) -> str:
        """The full name of table `base` (one of TABLES) under this store's prefix."""
        if base not in TABLES:
            raise NotFound(f"no table {base!r}")
        return getattr(self, base)

    @staticmethod
    def key_attributes(base: str) -> dict[str, str]:
        """The primary key of table `base` as ddl/<base>.json declares it: {name: "S"|"N"|"B"}."""
        spec = json.loads((DDL_DIR / f"{base}.json").read_text())
        types = {a["AttributeName"]: a["AttributeType"] for a in spec["AttributeDefinitions"]}
        return {k["AttributeName"]: types[k["AttributeName"]] for k in spec["KeySchema"]}

    def scan_items(self, base: str, topic_id: str | None = None, page_size: int = PAGE_ITEMS):
        """Scan of table `base`: every item, any key shape, as DynamoDB typed attributes.

        Yields item by item while reading page by page, so a caller can stream
        a table of any size: a page is at most `page_size` items and 1 MB. With
        `topic_id`, only that topic's items: in topics the item with PK id =
        topic_id, in every other table the items whose `topic_id` attribute is
        it (a filtered Scan: it still reads the whole table).
        """
        kwargs = {"TableName": self.table_name(base), "ConsistentRead": True}
        if page_size:
            kwargs["Limit"] = page_size
        if topic_id is not None:
            kwargs.update(
                FilterExpression="#t = :t",
                ExpressionAttributeNames={"#t": "id" if base == "topics" else "topic_id"},
                ExpressionAttributeValues={":t": {"S": topic_id}},
            )
        yield from self._pages("scan", kwargs)

    def topic_votes(self, topic_id: str, attributes=None, page_size: int = PAGE_ITEMS):
        """GSI topic_id-created-index (topic_id, created), oldest first: the topic's
        vote records as dicts, one page (`page_size` items, at most 1 MB) at a time.

        With `attributes`, only those are read (a ProjectionExpression): less
        to send and to parse when a caller needs a few fields of many votes.
        """
        kwargs = {
            "TableName": self.votes,
            "IndexName": VOTES_BY_TOPIC,
            "KeyConditionExpression": "topic_id = :t",
            "ExpressionAttributeValues": {":t": {"S": topic_id}},
            "ScanIndexForward": True,
        }
        if attributes:
            # Names, not words: `status` and friends are DynamoDB reserved words.
            names = {f"#a{i}": name for i, name in enumerate(attributes)}
            kwargs.update(ProjectionExpression=", ".join(names), ExpressionAttributeNames=names)
        if page_size:
            kwargs["Limit"] = page_size
        for item in self._pages("query", kwargs):
            yield from_item(item)

    def is_empty(self, base: str) -> bool:
        """Scan Limit 1 of table `base` (any key shape): True when it holds no item."""
        try:
            page = self.client.scan(TableName=self.table_name(base), Limit=1)
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable(exc) from exc
        return not page.get("Items") and "LastEvaluatedKey" not in page

    def put_items(self, base: str, items, sleep=time.sleep) -> int:
        """BatchWriteItem PutRequests of typed items into table `base`, 25 per call.

        Any key shape; an item with the key of an existing item replaces it.
        UnprocessedItems (DynamoDB throttling part of a batch) are sent again
        with jittered exponential backoff, up to BATCH_WRITE_ATTEMPTS calls per
        batch, then StoreUnavailable. Returns the number of items written.
        """
        name = self.table_name(base)
        written = 0
        for chunk in _chunks(items, BATCH_WRITE_SIZE):
            pending = [{"PutRequest": {"Item": item}} for item in chunk]
            for attempt in range(1, BATCH_WRITE_ATTEMPTS + 1):
                try:
                    answer = self.client.batch_write_item(RequestItems={name: pending})
                except (ClientError, BotoCoreError) as exc:
                    raise _unavailable(exc) from exc
                pending = answer.get("UnprocessedItems", {}).get(name, [])
                if not pending:
                    break
                if attempt == BATCH_WRITE_ATTEMPTS:
                    raise StoreUnavailable(
                        f"{len(pending)} items for {name} still unprocessed after "
                        f"{BATCH_WRITE_ATTEMPTS} BatchWriteItem calls"
                    )
                sleep(min(5.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.5))
            written += len(chunk)
        return written

    def _pages(self, operation: str, kwargs: dict):
        """Items of a paginated Scan or Query, one page in memory at a time."""
        try:
            while True:
                page = getattr(self.client, operation)(**kwargs)
                yield from page.get("Items", [])
                if "LastEvaluatedKey" not in page:
                    return
                kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable(exc) from exc


def _chunks(items, size: int):
    """Lists of up to `size` from any iterable, without reading it all first."""
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _topic(item: dict) -> dict:
    topic = from_item(item)
    topic.pop("choice_ids", None)
    return topic


def _code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def _unavailable(exc: Exception) -> StoreUnavailable:
    return StoreUnavailable(str(exc))


def encode_cursor(key: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode()


def decode_cursor(cursor: str) -> dict:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeError) as exc:
        raise BadCursor("cursor is not valid") from exc
    if not isinstance(key, dict) or not all(
        isinstance(v, dict) and set(v) == {"S"} and isinstance(v["S"], str) for v in key.values()
    ):
        raise BadCursor("cursor is not valid")
    return key


class StoreError(Exception):
    """Base of the store's errors."""


class StoreUnavailable(StoreError):
    """DynamoDB could not be reached or refused the request."""


class NotFound(StoreError):
    """No item with that key."""


class AlreadyExists(StoreError):
    """An item with that key exists already."""


class Conflict(StoreError):
    """The item changed since it was read."""


class BadCursor(StoreError):
    """A pagination cursor that this store did not hand out."""


class WriteRetryable(StoreError):
    """A transaction cancelled by a conflict or throttling: nothing written, try again."""


class BallotChanged(StoreError):
    """A voter's ballot changed since it was read: read it again and re-plan."""


class TopicChanged(StoreError):
    """A topic check failed inside a batch: the topic closed, lost a choice, or is gone."""

    def __init__(self, topic_id: str, topic: dict | None):
        super().__init__(topic_id)
        self.topic_id = topic_id
        self.topic = topic
