"""Clearing a topic's results: what a reset's older generations left, or all of a
deleted topic's, in bounded pages.

Keys (schemas in ddl/*.json):
- votes    PK id, found through GSI topic_id-created-index (topic_id, created);
           a record's `generation` is absent before the topic's first reset.
- ballots  PK topic_id, SK voter_id; `generation` as on the records.
- tallies  PK tally_key(topic_id, generation) (core/rules/tally_slots.py), SK "<choice_id>#<shard>".

Nothing here decides what counts. By the time a purge runs, the topic's
generation was raised (or the topic deleted) in the topics table, and the
worker's transaction refuses every vote of an older generation (batch.py), so
what a purge deletes can no longer change, except a ballot a voter of the new
generation overwrites, which is why ballots are deleted under a condition.
Every step is idempotent (a key already gone is no error): a purge cut short
by a store error is simply run again, and nothing reads the old generations
meanwhile (results read the current tallies key; planning ignores old ballots).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.aws.codec import from_item
from core.aws.errors import translated
from core.aws.tables import VOTES_BY_TOPIC, TableNames, Tables, pages
from core.rules.tally_slots import tally_key

# Items per Query page: what one purge holds in memory at a time.
PURGE_PAGE = 100
# Vote records kept by a reset: votes that were still queued, refused for it.
RESET_REASON = "reset"


@dataclass
class Purged:
    """How many items a purge deleted (or found already gone), per table."""

    votes: int = 0
    ballots: int = 0
    tallies: int = 0


class Purge:
    """Deletes a topic's old or all results. The DynamoDB client is injected."""

    def __init__(self, client, table_prefix: str = ""):
        self.client = client
        self.names = TableNames(table_prefix)
        self.tables = Tables(client, table_prefix)

    def older_generations(self, topic_id: str, generation: int) -> Purged:
        """After a reset to `generation`: delete the tallies, ballots and vote records of
        every older one. Records refused as `reset` stay: they tell their voters why."""
        return Purged(
            votes=self._votes(topic_id, lambda v: _older(v, generation) and not _refused(v)),
            ballots=self._old_ballots(topic_id, generation),
            tallies=sum(self._tallies(topic_id, g) for g in range(generation)),
        )

    def everything(self, topic_id: str, generation: int) -> Purged:
        """After the topic's deletion: every record, ballot and tally of generations
        0..`generation` (the topic's last)."""
        ballots = self._keys("ballots", topic_id, ("topic_id", "voter_id"))
        return Purged(
            votes=self._votes(topic_id, lambda _: True),
            ballots=self.tables.delete_keys("ballots", ballots),
            tallies=sum(self._tallies(topic_id, g) for g in range(generation + 1)),
        )

    def _votes(self, topic_id: str, doomed) -> int:
        """Delete the records of GSI topic_id-created-index for `topic_id` that `doomed` picks."""
        kwargs = {
            "TableName": self.names.votes,
            "IndexName": VOTES_BY_TOPIC,
            "KeyConditionExpression": "topic_id = :t",
            "ExpressionAttributeValues": {":t": {"S": topic_id}},
            # Names, not words: some attribute names are DynamoDB reserved words.
            "ProjectionExpression": "#i, #g, #r",
            "ExpressionAttributeNames": {"#i": "id", "#g": "generation", "#r": "reason"},
            "Limit": PURGE_PAGE,
        }
        keys = (
            {"id": item["id"]}
            for item in pages(self.client, "query", kwargs)
            if doomed(from_item(item))
        )
        return self.tables.delete_keys("votes", keys)

    def _tallies(self, topic_id: str, generation: int) -> int:
        """Delete every item of tallies PK tally_key(topic_id, generation)."""
        return self.tables.delete_keys(
            "tallies", self._keys("tallies", tally_key(topic_id, generation), ("topic_id", "slot"))
        )

    def _keys(self, base: str, partition: str, key: tuple[str, str]):
        """The typed keys of every item under PK topic_id = `partition` of table `base`."""
        kwargs = {
            "TableName": self.names.of(base),
            "KeyConditionExpression": "topic_id = :t",
            "ExpressionAttributeValues": {":t": {"S": partition}},
            "ProjectionExpression": "#a, #b",
            "ExpressionAttributeNames": {"#a": key[0], "#b": key[1]},
            "Limit": PURGE_PAGE,
        }
        return ({k: item[k] for k in key} for item in pages(self.client, "query", kwargs))

    def _old_ballots(self, topic_id: str, generation: int) -> int:
        """Delete ballots PK topic_id of generations before `generation`, each only if it
        is still old: a voter of the new generation may have replaced it meanwhile."""
        kwargs = {
            "TableName": self.names.ballots,
            "KeyConditionExpression": "topic_id = :t",
            "ExpressionAttributeValues": {":t": {"S": topic_id}},
            "ProjectionExpression": "#t, #v, #g",
            "ExpressionAttributeNames": {"#t": "topic_id", "#v": "voter_id", "#g": "generation"},
            "Limit": PURGE_PAGE,
        }
        deleted = 0
        replaced = {"ConditionalCheckFailedException": lambda _: _StillCurrent()}
        for item in pages(self.client, "query", kwargs):
            if not _older(from_item(item), generation):
                continue
            try:
                with translated(on_code=replaced):
                    self.client.delete_item(
                        TableName=self.names.ballots,
                        Key={"topic_id": item["topic_id"], "voter_id": item["voter_id"]},
                        ConditionExpression="attribute_not_exists(#g) OR #g < :g",
                        ExpressionAttributeNames={"#g": "generation"},
                        ExpressionAttributeValues={":g": {"N": str(generation)}},
                    )
                deleted += 1
            except _StillCurrent:
                pass  # a vote of the new generation took this voter's ballot: it stays
        return deleted


def _older(item: dict, generation: int) -> bool:
    return item.get("generation", 0) < generation


def _refused(record: dict) -> bool:
    return record.get("reason") == RESET_REASON


class _StillCurrent(Exception):
    """A ballot the purge meant to delete belongs to the current generation now."""
