"""The tables themselves: names, creation from ddl/*.json, health checks, and bulk tools.

The bulk tools work on any table and any key shape, as DynamoDB typed items:
export and import (core/services/backups.py) and `make run`'s snapshots use them.
Table names take `TABLE_PREFIX`; schemas live in ddl/*.json, the single
source for AWS, the tests and `make run`.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

from core.aws.errors import translated
from core.rules.errors import AlreadyExists, NotFound, StoreUnavailable

DDL_DIR = Path(__file__).resolve().parent.parent.parent / "ddl"
# Order matters to imports and restores: topics before the records that name them.
TABLES = ("topics", "votes", "tallies", "ballots", "events", "event_codes", "users", "counters",
          "questions", "upvotes", "players")
# The tables whose items expire: {table: its TTL attribute} (epoch seconds). Not part
# of CreateTable's input (ddl/*.json), so set by `create` once the table exists.
TIME_TO_LIVE = {"users": "expires_at", "counters": "expires_at"}
VOTES_BY_TOPIC = "topic_id-created-index"
# The tallies GSI over text answers only (ddl/tallies.json): PK `answers_of` (the tally
# key, set on answer items alone), SK `count`, so the most given come first.
ANSWERS_BY_COUNT = "answers-by-count"
# BatchWriteItem takes at most 25 items; throttled parts come back as UnprocessedItems.
BATCH_WRITE_SIZE = 25
BATCH_WRITE_ATTEMPTS = 8
# Items per Scan/Query page when streaming whole tables: bounds memory, and
# keeps each call short on moto, which serialises items slowly.
PAGE_ITEMS = 1000


class TableNames:
    """The tables' names under a prefix: `.topics`, `.votes`, `.tallies`, `.ballots`,
    `.events`, `.event_codes`, `.users`, `.counters`, `.players`."""

    def __init__(self, prefix: str = ""):
        self.prefix = prefix
        for base in TABLES:
            setattr(self, base, f"{prefix}{base}")

    def of(self, base: str) -> str:
        """The full name of table `base` (one of TABLES)."""
        if base not in TABLES:
            raise NotFound(f"no table {base!r}")
        return getattr(self, base)


def pages(client, operation: str, kwargs: dict):
    """Items of a paginated Scan or Query, one page in memory at a time."""
    with translated():
        while True:
            page = getattr(client, operation)(**kwargs)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def chunks(items, size: int):
    """Lists of up to `size` from any iterable, without reading it all first."""
    chunk = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class Tables:
    """Table administration and table-generic bulk reads and writes. The client is injected."""

    def __init__(self, client, table_prefix: str = ""):
        self.client = client
        self.names = TableNames(table_prefix)

    def create(self, wait: bool = True) -> list[str]:
        """Create the missing tables of TABLES from ddl/*.json; returns the names it created.

        `wait`: until each created table is ACTIVE, as DynamoDB makes them in the
        background. The local endpoint makes them at once (the tests' stacks skip it).
        """
        created = []
        for base in TABLES:
            spec = json.loads((DDL_DIR / f"{base}.json").read_text())
            name = spec["TableName"] = self.names.of(base)
            try:
                exists = {"ResourceInUseException": lambda _, name=name: AlreadyExists(name)}
                with translated(on_code=exists):
                    self.client.create_table(**spec)
                created.append(name)
            except AlreadyExists:
                # Made by ddl/stack.yaml or an earlier run, perhaps by an older version.
                self._add_missing_indexes(spec)
        with translated():
            for name in created if wait else ():
                self.client.get_waiter("table_exists").wait(
                    TableName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60}
                )
            for base, attribute in TIME_TO_LIVE.items():
                if self.names.of(base) in created:
                    self.client.update_time_to_live(
                        TableName=self.names.of(base),
                        TimeToLiveSpecification={"AttributeName": attribute, "Enabled": True},
                    )
        return created

    def _add_missing_indexes(self, spec: dict) -> None:
        """UpdateTable: create the GSIs ddl/ declares that the existing table lacks (a table
        made before the index was added to ddl/). DynamoDB fills the index in the
        background; reads of it fail until then, for that index's feature only."""
        with translated():
            table = self.client.describe_table(TableName=spec["TableName"])["Table"]
        present = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
        for index in spec.get("GlobalSecondaryIndexes", []):
            if index["IndexName"] in present:
                continue
            with translated():
                self.client.update_table(
                    TableName=spec["TableName"],
                    AttributeDefinitions=spec["AttributeDefinitions"],
                    GlobalSecondaryIndexUpdates=[{"Create": index}],
                )

    def check(self) -> None:
        """Raise StoreUnavailable unless every table answers."""
        with translated():
            for base in TABLES:
                self.client.describe_table(TableName=self.names.of(base))

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
        it or, for tallies after a reset, "<topic_id>#<generation>" (a filtered
        Scan: it still reads the whole table).
        """
        kwargs = {"TableName": self.names.of(base), "ConsistentRead": True}
        if page_size:
            kwargs["Limit"] = page_size
        if topic_id is not None and base == "topics":
            kwargs.update(
                FilterExpression="#t = :t",
                ExpressionAttributeNames={"#t": "id"},
                ExpressionAttributeValues={":t": {"S": topic_id}},
            )
        elif topic_id is not None:
            # A reset topic's tallies live under "<topic_id>#<generation>" (tally_slots.tally_key).
            kwargs.update(
                FilterExpression="#t = :t OR begins_with(#t, :generations)",
                ExpressionAttributeNames={"#t": "topic_id"},
                ExpressionAttributeValues={
                    ":t": {"S": topic_id}, ":generations": {"S": f"{topic_id}#"}
                },
            )
        yield from pages(self.client, "scan", kwargs)

    def is_empty(self, base: str) -> bool:
        """Scan Limit 1 of table `base` (any key shape): True when it holds no item."""
        with translated():
            page = self.client.scan(TableName=self.names.of(base), Limit=1)
        return not page.get("Items") and "LastEvaluatedKey" not in page

    def put_items(self, base: str, items, sleep=time.sleep) -> int:
        """BatchWriteItem PutRequests of typed items into table `base`, 25 per call.

        Any key shape; an item with the key of an existing item replaces it.
        Returns the number of items written (see `_write_batches` for throttling).
        """
        requests = ({"PutRequest": {"Item": item}} for item in items)
        return self._write_batches(base, requests, sleep)

    def delete_keys(self, base: str, keys, sleep=time.sleep) -> int:
        """BatchWriteItem DeleteRequests of typed keys from table `base`, 25 per call.

        Unconditional, and a key with no item is no error, so deleting again is
        harmless. Returns the number of keys sent.
        """
        requests = ({"DeleteRequest": {"Key": key}} for key in keys)
        return self._write_batches(base, requests, sleep)

    def _write_batches(self, base: str, requests, sleep) -> int:
        """BatchWriteItem of `requests` into table `base`, 25 per call.

        UnprocessedItems (DynamoDB throttling part of a batch) are sent again
        with jittered exponential backoff, up to BATCH_WRITE_ATTEMPTS calls per
        batch, then StoreUnavailable.
        """
        name = self.names.of(base)
        written = 0
        for chunk in chunks(requests, BATCH_WRITE_SIZE):
            pending = chunk
            for attempt in range(1, BATCH_WRITE_ATTEMPTS + 1):
                with translated():
                    answer = self.client.batch_write_item(RequestItems={name: pending})
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
