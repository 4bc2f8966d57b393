"""DynamoDB reads and writes of the app: topics, tallies, vote records and ballots.

Tables (names take `TABLE_PREFIX`; schemas live in ddl/*.json):
- topics   PK id. A topic with its choices inline, plus `choice_ids` (a string
           set derived from the choices) so write conditions can test membership.
- votes    PK id, GSI topic_id-created-index (topic_id, created). One record per
           vote the worker recorded, `status` counted, rejected or replaced.
- tallies  PK topic_id, SK slot = "<counter>#<shard>". `count` per shard; a
           counter's total is the sum of its shards. A single choice's counter is
           its choice id; other question types add more (docs/data.md). After a topic's n-th
           reset its tallies live under PK "<topic_id>#<n>" (tally_slots.tally_key).
- ballots  PK topic_id, SK voter_id. A voter's standing vote on a topic
           (vote_id, its answer, queued_at, shard, generation once reset,
           `counts` it added unless single choice): what
           makes "one vote per voter" a database rule rather than a hope.

Reading a topic with results is one GetItem plus one Query, whatever the
number of votes. The batch transaction lives in batch.py, table admin and
bulk tools in tables.py; botocore errors are translated by errors.py.
"""

from __future__ import annotations

from collections.abc import Callable

from core.aws.codec import (
    answer_counts,
    decode_cursor,
    encode_cursor,
    from_item,
    tally_update,
    topic_from_item,
    topic_item,
)
from core.aws.errors import translated
from core.aws.tables import ANSWERS_BY_COUNT, PAGE_ITEMS, VOTES_BY_TOPIC, TableNames, chunks, pages
from core.rules.errors import AlreadyExists, AnswerScored, BadCursor, Conflict, NotFound
from core.rules.question_types import spelling_parts
from core.rules.tally_slots import ANSWER_SLOTS, cell, choice_totals, parse_slot, slot, tally_key
from core.rules.topics import Topic
from core.rules.votes import scored, stored_counts

# The key of a votes listing's page boundary: topic_id-created-index plus the table's id.
LISTING_CURSOR_KEYS = {"topic_id", "created", "id"}


class Store:
    """Plain boto3 access to the app's items. The client is injected."""

    def __init__(self, client, table_prefix: str = ""):
        self.client = client
        self.names = TableNames(table_prefix)

    # -- topics ---------------------------------------------------------------

    def put_new_topic(self, topic: dict) -> None:
        """PK id. Fails with AlreadyExists if the id is taken."""
        self._put_topic(topic, "attribute_not_exists(id)", {}, AlreadyExists)

    def replace_topic(self, topic: dict, expected_last_upd: str) -> None:
        """PK id. Replaces the topic if nobody changed it since it was read.

        The `last_upd` condition is an optimistic lock: two admins saving at
        once cannot silently drop each other's choices.
        """
        seen = {":seen": {"S": expected_last_upd}}
        self._put_topic(topic, "last_upd = :seen", seen, Conflict)

    def _put_topic(self, topic: dict, condition: str, values: dict, refused) -> None:
        """PutItem on topics PK id under `condition`; `refused(topic id)` when it fails."""
        extra = {"ExpressionAttributeValues": values} if values else {}
        failed = {"ConditionalCheckFailedException": lambda _: refused(topic["id"])}
        with translated(on_code=failed):
            self.client.put_item(
                TableName=self.names.topics,
                Item=topic_item(topic),
                ConditionExpression=condition,
                **extra,
            )

    def delete_topic(self, topic: dict) -> None:
        """DeleteItem topics PK id, only if nobody changed it since it was read
        (`last_upd`, else Conflict) and it is still there (else NotFound)."""
        gone = {"ConditionalCheckFailedException": lambda _: self._why_not_gone(topic["id"])}
        with translated(on_code=gone):
            self.client.delete_item(
                TableName=self.names.topics,
                Key={"id": {"S": topic["id"]}},
                ConditionExpression="last_upd = :seen",
                ExpressionAttributeValues={":seen": {"S": topic["last_upd"]}},
            )

    def _why_not_gone(self, topic_id: str) -> Exception:
        return NotFound(topic_id) if self.get_topic(topic_id) is None else Conflict(topic_id)

    def get_topic(self, topic_id: str) -> Topic | None:
        """PK id. The topic (every setting present), or None."""
        with translated():
            answer = self.client.get_item(
                TableName=self.names.topics, Key={"id": {"S": topic_id}}, ConsistentRead=True
            )
        return topic_from_item(answer["Item"]) if "Item" in answer else None

    def list_topics(self) -> list[Topic]:
        """Scan of topics PK id (a poll app holds few); unordered."""
        scan = {"TableName": self.names.topics}
        return [topic_from_item(item) for item in pages(self.client, "scan", scan)]

    # -- tallies --------------------------------------------------------------

    def get_counts(
        self, topic_id: str, generation: int = 0, answers: bool = False
    ) -> dict[str, int]:
        """Query PK tally_key(topic_id, generation) of tallies: {counter: total}, shards
        summed. `generation` is the topic's (topics.generation_of): its current results.
        Text answers' counters only with `answers` (all of them: see top_answers)."""
        return choice_totals(self.get_slot_counts(topic_id, generation, answers))

    def get_slot_counts(
        self, topic_id: str, generation: int = 0, answers: bool = False
    ) -> dict[str, int]:
        """Query PK tally_key(topic_id, generation) of tallies: {"<counter>#<shard>":
        count}, one entry per item, and with `answers` one per spelling of each text
        answer too. Without `answers`, the Query stops before the text answers' slots
        (SK < "~"): a results read costs the same at any vocabulary."""
        values = {":t": {"S": tally_key(topic_id, generation)}}
        kwargs = {
            "TableName": self.names.tallies,
            "KeyConditionExpression": "topic_id = :t",
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
        }
        if not answers:
            values[":answers"] = {"S": ANSWER_SLOTS}
            kwargs["KeyConditionExpression"] += " AND #s < :answers"
            # Only what a count needs: less to send and to parse per item.
            kwargs["ProjectionExpression"] = "#s, #c"
            kwargs["ExpressionAttributeNames"] = {"#s": "slot", "#c": "count"}
        counts: dict[str, int] = {}
        for item in pages(self.client, "query", kwargs):
            # An answer's item holds its spellings' counts too (tally_slots.cell).
            counts |= answer_counts(item)
        return counts

    def top_answers(
        self, topic_id: str, generation: int, wanted: int, counts_toward: Callable[[str], bool]
    ) -> dict[str, int]:
        """The text answers given most: {"text:<answer>": count}, read from the tallies
        GSI answers-by-count (PK answers_of = the tally key, SK count, highest first)
        until `wanted` of them pass `counts_toward` (the caller's test on the counter:
        not hidden, not blocked); the others met on the way are in the answer too.

        A GSI read is eventually consistent: on AWS an answer's newest votes can take a
        moment to show. Answers whose count is back to 0 (their votes changed) end it.
        """
        kwargs = {
            "TableName": self.names.tallies,
            "IndexName": ANSWERS_BY_COUNT,
            "KeyConditionExpression": "answers_of = :t",
            "ExpressionAttributeValues": {":t": {"S": tally_key(topic_id, generation)}},
            "ProjectionExpression": "#s, #c",
            "ExpressionAttributeNames": {"#s": "slot", "#c": "count"},
            "ScanIndexForward": False,
            # Pages of `wanted`: a hidden or blocked answer on top costs another page.
            "Limit": wanted,
        }
        found: dict[str, int] = {}
        kept = 0
        for item in pages(self.client, "query", kwargs):
            count = int(item["count"]["N"])
            if count <= 0:
                break
            counter = parse_slot(item["slot"]["S"])[0]
            found[counter] = count
            kept += counts_toward(counter)
            if kept >= wanted:
                break  # before the generator asks for another page
        return found

    def answer_spellings(
        self, topic_id: str, generation: int, counters: list[str]
    ) -> dict[str, int]:
        """The spellings of these text answers ({"text:<key>": ...} counters, as
        top_answers found them): {"spelt:<key>\x1f<spelling>": count}, from one
        BatchGetItem of their tally items (PK tally_key, SK "~text:<key>#0"; 100 a call).

        The count-sorted index keeps keys only, so the spellings (attributes of the
        answer's item) are read here: one request for a results read's shown answers."""
        tallies = tally_key(topic_id, generation)
        keys = [{"topic_id": {"S": tallies}, "slot": {"S": slot(c, 0)}} for c in counters]
        found: dict[str, int] = {}
        for chunk in chunks(keys, 100):
            request = {self.names.tallies: {"Keys": chunk}}
            while request:
                with translated():
                    answer = self.client.batch_get_item(RequestItems=request)
                for item in answer.get("Responses", {}).get(self.names.tallies, []):
                    found |= answer_counts(item)
                request = answer.get("UnprocessedKeys") or None
        return {c: n for c, n in choice_totals(found).items() if spelling_parts(c)}

    def set_choice_tally(
        self, topic_id: str, choice_id: str, seen: dict[str, int], target: int,
        generation: int = 0,
    ) -> None:  # fmt: skip
        """Make a choice's tally `target`: shard 0 holds it, its other shards go to 0.

        tallies PK tally_key(topic_id, generation), SK "<choice_id>#<shard>". Every slot written is
        conditioned on still holding what the caller read (`seen`, slot ->
        count; absent means no item), so a vote counted meanwhile cancels the
        repair (Conflict) instead of being overwritten.
        """
        slots = {key: n for key, n in seen.items() if parse_slot(key)[0] == choice_id}
        slots.setdefault(slot(choice_id, 0), None)
        tallies = tally_key(topic_id, generation)
        items = []
        for key in sorted(slots):
            value = target if key == slot(choice_id, 0) else 0
            update = tally_update(self.names.tallies, tallies, key, value, add=False)
            if slots[key] is None:
                update["ConditionExpression"] = "attribute_not_exists(#count)"
            else:
                update["ConditionExpression"] = "#count = :seen"
                update["ExpressionAttributeValues"][":seen"] = {"N": str(slots[key])}
            items.append({"Update": update})
        moved = {"TransactionCanceledException": lambda _: Conflict(topic_id)}
        with translated(on_code=moved):
            self.client.transact_write_items(TransactItems=items)

    # -- votes ----------------------------------------------------------------

    def get_vote(self, vote_id: str) -> dict | None:
        """PK id of votes."""
        with translated():
            answer = self.client.get_item(TableName=self.names.votes, Key={"id": {"S": vote_id}})
        return from_item(answer["Item"]) if "Item" in answer else None

    def list_votes(self, topic_id: str, limit: int, cursor: str | None) -> tuple[list, str | None]:
        """GSI topic_id-created-index, newest first; cursor is opaque to clients."""
        kwargs = {**self._votes_of(topic_id, oldest_first=False), "Limit": limit}
        if cursor:
            start = decode_cursor(cursor)
            if start.get("topic_id", {}).get("S") != topic_id:
                raise BadCursor("cursor belongs to another listing")
            # Exactly the key this listing hands out (the index's and the table's),
            # so a forged cursor is the client's error, never a store failure.
            if set(start) != LISTING_CURSOR_KEYS or not all(v["S"] for v in start.values()):
                raise BadCursor("cursor is not valid")
            kwargs["ExclusiveStartKey"] = start
        invalid = {"ValidationException": lambda _: BadCursor("cursor is not valid")}
        with translated(on_code=invalid):
            page = self.client.query(**kwargs)
        votes = [from_item(item) for item in page.get("Items", [])]
        last = page.get("LastEvaluatedKey")
        return votes, encode_cursor(last) if last else None

    def topic_votes(self, topic_id: str, attributes=None, page_size: int = PAGE_ITEMS):
        """GSI topic_id-created-index (topic_id, created), oldest first: the topic's
        vote records as dicts, one page (`page_size` items, at most 1 MB) at a time.

        With `attributes`, only those are read (a ProjectionExpression): less
        to send and to parse when a caller needs a few fields of many votes.
        """
        kwargs = self._votes_of(topic_id, oldest_first=True)
        if attributes:
            # Names, not words: `status` and friends are DynamoDB reserved words.
            names = {f"#a{i}": name for i, name in enumerate(attributes)}
            kwargs.update(ProjectionExpression=", ".join(names), ExpressionAttributeNames=names)
        if page_size:
            kwargs["Limit"] = page_size
        for item in pages(self.client, "query", kwargs):
            yield from_item(item)

    def _votes_of(self, topic_id: str, oldest_first: bool) -> dict:
        """A Query of GSI topic_id-created-index (topic_id, created) for one topic."""
        return {
            "TableName": self.names.votes,
            "IndexName": VOTES_BY_TOPIC,
            "KeyConditionExpression": "topic_id = :t",
            "ExpressionAttributeValues": {":t": {"S": topic_id}},
            "ScanIndexForward": oldest_first,
        }

    def delete_vote(self, vote_id: str) -> dict:
        """Delete votes PK id, atomically with what it contributed.

        If it was counted, its tally slot (tallies PK topic_id SK
        "<choice>#<shard>") goes down by one; if it is the voter's standing
        ballot (ballots PK topic_id SK voter_id), the ballot goes too, so the
        voter may vote again. The vote's status is a condition: a vote changed
        meanwhile (counted -> replaced) cancels the delete instead of
        decrementing the wrong tally.

        A quiz answer that scored (votes.scored) is refused, AnswerScored: its points
        are in its player's tallies and it is final. Nothing is written. Its score is
        written only with its record, so the status condition keeps what was read true.
        """
        vote = self.get_vote(vote_id)
        if vote is None:
            raise NotFound(vote_id)
        if scored(vote):
            raise AnswerScored(vote_id)
        items = [
            {
                "Delete": {
                    "TableName": self.names.votes,
                    "Key": {"id": {"S": vote_id}},
                    "ConditionExpression": "#status = :status",
                    "ExpressionAttributeNames": {"#status": "status"},
                    "ExpressionAttributeValues": {":status": {"S": vote["status"]}},
                }
            }
        ]
        if vote.get("status") == "counted":
            tallies = tally_key(vote["topic_id"], vote.get("generation", 0))
            # One Update per item: a text answer's item holds its spelling's count too.
            per_item: dict[str, dict[str, int]] = {}
            for counter, n in stored_counts(vote).items():
                slot_key = slot(counter, vote.get("shard", 0))
                per_item.setdefault(cell(slot_key)[0], {})[slot_key] = n
            for item_slot, counts in per_item.items():
                items.append(self._take_off(tallies, item_slot, counts))
        voter_id = vote.get("voter_id")
        ballot = self.get_ballot(vote["topic_id"], voter_id) if voter_id else None
        if ballot and ballot.get("vote_id") == vote_id:
            key = {"topic_id": {"S": vote["topic_id"]}, "voter_id": {"S": voter_id}}
            items.append(
                {
                    "Delete": {
                        "TableName": self.names.ballots,
                        "Key": key,
                        "ConditionExpression": "vote_id = :id",
                        "ExpressionAttributeValues": {":id": {"S": vote_id}},
                    }
                }
            )
        # Cancelled: deleted first by someone else (404), or changed meanwhile (409).
        raced = {"TransactionCanceledException": lambda _: self._why_not_deleted(vote_id)}
        with translated(on_code=raced):
            self.client.transact_write_items(TransactItems=items)
        return vote

    def _take_off(self, tallies: str, item_slot: str, counts: dict[str, int]) -> dict:
        """Update tallies PK tallies SK item_slot: take a deleted vote's counts off
        ({slot: n}, the item's own and its spellings'), its own never below 0 (a game's
        negative delta, its rival take, is given back unconditionally)."""
        update = tally_update(
            self.names.tallies, tallies, item_slot, {k: -n for k, n in counts.items()}
        )
        own = counts.get(item_slot, 0)
        if own > 0:
            update["ConditionExpression"] = "#count >= :need"
            update["ExpressionAttributeValues"][":need"] = {"N": str(own)}
        return {"Update": update}

    def _why_not_deleted(self, vote_id: str) -> Exception:
        return NotFound(vote_id) if self.get_vote(vote_id) is None else Conflict(vote_id)

    # -- ballots ----------------------------------------------------------------

    def get_ballots(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict]:
        """BatchGetItem on ballots PK topic_id SK voter_id: {(topic, voter): ballot}."""
        found: dict[tuple[str, str], dict] = {}
        for chunk in chunks(dict.fromkeys(keys), 100):
            request = {
                self.names.ballots: {
                    "Keys": [{"topic_id": {"S": t}, "voter_id": {"S": v}} for t, v in chunk],
                    "ConsistentRead": True,
                }
            }
            while request:
                with translated():
                    answer = self.client.batch_get_item(RequestItems=request)
                for item in answer.get("Responses", {}).get(self.names.ballots, []):
                    ballot = from_item(item)
                    found[(ballot["topic_id"], ballot["voter_id"])] = ballot
                request = answer.get("UnprocessedKeys") or None
        return found

    def get_ballot(self, topic_id: str, voter_id: str) -> dict | None:
        """GetItem on ballots PK topic_id SK voter_id."""
        return self.get_ballots([(topic_id, voter_id)]).get((topic_id, voter_id))
