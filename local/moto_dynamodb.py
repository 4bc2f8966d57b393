"""moto 5.2.5's DynamoDB without the costs that grow with the data stored.

Why: these are the DynamoDB paths every vote takes, and moto does work on them
proportional to everything it stores, so the embedded mode slowed to a crawl
as votes piled up (docs/architecture.md has the measurements). Applied by
`local.moto_server.apply()`; on real AWS none of this is loaded.

1. TransactWriteItems deep-copies every table the transaction touches, once
   per item in the transaction, so it can roll back by swapping the copies in.
   Ten votes per batch against a votes table of 20,000 items meant copying
   200,000 items per transaction. Fix: an undo journal. Before each write the
   transaction records the previous version of that one item (only an Update,
   which moto changes in place, needs a copy); a cancelled transaction puts
   those items back in reverse order. A write under moto's rules touches only
   the item at its key, so the journal restores exactly the state the snapshot
   would have. Tables with a stream are left to moto's own code, because there
   the snapshot also rolls back stream records.
2. moto's server runs each request on its own thread with nothing ordering
   DynamoDB requests, so a transaction could interleave with other requests
   (and moto's snapshot restore could wipe out writes committed meanwhile).
   Fix: one lock around every DynamoDB request, which makes transactions
   isolated as on AWS. Python runs one thread at a time anyway, so this costs
   no parallelism.
5. Key comparisons (sorting and matching items in Query and Scan) go through
   DynamoType.cast_value, which makes five type checks before returning a
   string's own value. Fix: strings, binary and booleans answer at once (the
   value moto would return anyway).
6. A Scan, Query or BatchGetItem answer is serialised item by item, value by
   value, through the botocore response shape: about 2.5 ms per item, and 1.4 ms
   for a GetItem of one topic (the item a web process reads most), with the
   Attributes a write returns likewise. The items are already
   in DynamoDB's JSON form, so unless one holds binary (the only type the
   serializer transforms, to base64) they are written as JSON directly and the
   rest of the answer goes through moto's serializer.
8. Projecting an item (a ProjectionExpression, or a KEYS_ONLY index) turns it
   into plain JSON and back, and re-measures the whole item as each attribute
   goes in: about 0.1 ms per item, twice per item of an index Query with a
   projection. Fix: when every projected path is a top-level attribute, the
   projected item takes those attributes' values directly, shared rather than
   copied (moto projects only copies or items bound for the answer). Sorting
   (every Query sorts the whole table, then its matches) compares DynamoType
   objects through their operators; it now sorts by their values, the same
   order.
The Query's own fixes, 9 to 11 (only the items a Query may answer with, from
sorted views kept until the next write; less work per item returned), are
local/moto_query.py; this module counts the writes that end what those keep
(`writes()`) and says when a read is being served (`reading()`).

(Fixes 3, 4 and 7 are local/moto_sqs.py and local/moto_server.py's routing and server.)
"""

from __future__ import annotations

import copy
import json
import threading
from decimal import Decimal
from typing import Any

# The request lock: serialises DynamoDB requests. Reentrant because the transaction
# calls the backend's own put/update/delete while holding it.
DYNAMODB_LOCK = threading.RLock()

# moto's own methods, saved as each patch replaces them.
_stock: dict[str, Any] = {}

# DynamoDB requests that change nothing stored. Every other request, unknown
# ones included, counts as a write: what local/moto_query.py keeps (sorted
# views, measured sizes) lasts only as long as no write happened since.
READ_ACTIONS = frozenset({
    "BatchGetItem", "DescribeContinuousBackups", "DescribeEndpoints", "DescribeLimits",
    "DescribeTable", "DescribeTimeToLive", "GetItem", "ListTables", "ListTagsOfResource",
    "Query", "Scan", "TransactGetItems",
})  # fmt: skip
_writes = 0
_reading = False


def writes() -> int:
    """How many DynamoDB requests that may have changed data were served so far."""
    return _writes


def reading() -> bool:
    """Is a read request being served (nothing stored changes until it ends)?"""
    return _reading


def patch() -> None:
    """Install the DynamoDB fixes into moto's classes (local.moto_server.apply guards reuse)."""
    _patch_dynamodb()
    _patch_comparisons()
    _patch_item_results()
    _patch_projections()
    _patch_sorting()


# -- Key comparisons ------------------------------------------------------------------


# Types whose cast_value is the raw value in moto: its property only reaches
# that answer after five is_*() checks (number, set, list, map, null).
_RAW_TYPES = frozenset({"S", "B", "BOOL"})


def _patch_comparisons() -> None:
    from moto.dynamodb.models.dynamo_type import DynamoType

    stock_cast_value = DynamoType.cast_value
    _stock["cast_value"] = stock_cast_value

    def cast_value(self):
        if self.type in _RAW_TYPES:
            return self.value
        if self.type == "N":
            return Decimal(self.value)  # what moto's property returns, sooner
        return stock_cast_value.fget(self)

    DynamoType.cast_value = property(cast_value)


# -- Answers holding items: Scan, Query, BatchGetItem, GetItem, a write's Attributes ---


# The answer fields that hold items in DynamoDB's wire form (at most one per answer).
ITEM_FIELDS = ("Items", "Responses", "Item", "Attributes")


def _plain(value: Any) -> bool:
    """True when `value` holds only what JSON carries as is (no binary as bytes)."""
    if isinstance(value, dict):
        return all(_plain(v) for v in value.values())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, (str, bool))


def _patch_item_results() -> None:
    from moto.core.responses import ActionResult
    from moto.dynamodb.responses import DynamoResult

    stock_execute = DynamoResult.execute_result
    _stock["execute_result"] = stock_execute

    def execute_result(self, context):
        result = self.result
        # A Query's or Scan's "Items", a BatchGetItem's "Responses" ({table: items}),
        # a GetItem's "Item", the "Attributes" a write returns.
        field = next((f for f in ITEM_FIELDS if isinstance(result, dict)
                      and result.get(f)), None)  # fmt: skip
        if field is None or not _plain(result[field]):
            return stock_execute(self, context)
        # Items are already in DynamoDB's wire form ({"S": ...}, {"N": "1"}, ...),
        # which the serializer would copy value by value through the response
        # shape: milliseconds per item. Only binary values need its base64.
        rest = ActionResult({key: value for key, value in result.items() if key != field})
        status, headers, body = rest.execute_result(context)
        answer = json.loads(body)
        answer[field] = result[field]
        return status, headers, json.dumps(answer)

    DynamoResult.execute_result = execute_result


# -- Projections and sorting ------------------------------------------------------------


def _patch_projections() -> None:
    from moto.dynamodb.models.dynamo_type import Item, LimitedSizeDict

    stock_project = Item.project
    _stock["project"] = stock_project

    def project(self, projection_expressions: list[list[str]]):
        names = [path[0] for path in projection_expressions if len(path) == 1]
        if len(names) != len(projection_expressions) or any("[" in name for name in names):
            return stock_project(self, projection_expressions)  # nested paths: moto's way
        projected = Item.__new__(Item)
        projected.hash_key, projected.range_key = self.hash_key, self.range_key
        projected.attrs = LimitedSizeDict()
        # dict.update skips LimitedSizeDict's size check: a projection only shrinks.
        # The values are shared, not copied: moto projects only items that are
        # copies already (Query and Scan copy their results first) or that go
        # straight into the answer (GetItem), and nothing changes a projection.
        kept = {name: self.attrs[name] for name in dict.fromkeys(names) if name in self.attrs}
        dict.update(projected.attrs, kept)
        return projected

    Item.project = project


def _patch_sorting() -> None:
    from moto.dynamodb.models.table import Table

    _stock["sorted_items"] = Table.sorted_items
    _stock["all_items"] = Table.all_items

    def sorted_items(self, hash_key_attrs, range_key_attrs, items):
        names = self._generate_attr_to_sort_by(hash_key_attrs, range_key_attrs)
        items.sort(key=lambda item: tuple(item.attrs[name].cast_value for name in names))
        return items

    def all_items(self):
        if not self.range_key_attr:
            return sorted(self.items.values(), key=lambda item: item.hash_key.cast_value)
        return sorted(
            (item for partition in self.items.values() for item in partition.values()),
            key=lambda item: (item.hash_key.cast_value, item.range_key.cast_value),
        )

    Table.sorted_items = sorted_items
    Table.all_items = all_items


# -- Transactions and the request lock -------------------------------------------


def _patch_dynamodb() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    _stock["transact_write_items"] = DynamoDBBackend.transact_write_items
    _stock["call_action"] = DynamoHandler.call_action
    DynamoDBBackend.transact_write_items = transact_write_items

    stock_call_action = DynamoHandler.call_action

    def call_action(self):
        global _writes, _reading
        with DYNAMODB_LOCK:
            if self._get_action() not in READ_ACTIONS:
                _writes += 1  # before the request: a write that fails half way still counts
                return stock_call_action(self)
            _reading = True
            try:
                return stock_call_action(self)
            finally:
                _reading = False

    DynamoHandler.call_action = call_action


def stock_transact_write_items(backend, transact_items: list[dict[str, Any]]) -> None:
    """moto's own TransactWriteItems (whole-table snapshots), for comparisons."""
    from moto.dynamodb.models import DynamoDBBackend

    original = _stock.get("transact_write_items", DynamoDBBackend.transact_write_items)
    return original(backend, transact_items)


def transact_write_items(self, transact_items: list[dict[str, Any]]) -> None:
    """moto 5.2.5's TransactWriteItems with an undo journal instead of table copies.

    The checks, the order of operations and the cancellation reasons are
    moto's (moto/dynamodb/models/__init__.py, Apache-2.0); only the way a
    cancelled transaction is undone differs.
    """
    from moto.dynamodb.comparisons import get_filter_expression
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    with DYNAMODB_LOCK:
        touched = {op.get("TableName") for item in transact_items for op in item.values()}
        if any(
            name in self.tables and self.tables[name].stream_shard is not None for name in touched
        ):
            # With a stream, moto's snapshot also rolls back the stream records.
            return stock_transact_write_items(self, transact_items)

        journal: list[tuple[str, dict[str, Any], Any, Any]] = []
        target_items: set[tuple[str, str]] = set()

        def check_unicity(table_name: str, key: dict[str, Any]) -> None:
            item = (str(table_name), str(dict(sorted(key.items()))))
            if item in target_items:
                raise MultipleTransactionsException()
            target_items.add(item)

        errors: list[tuple[Any, Any, Any]] = []
        for item in transact_items:
            original_item = None
            if len(list(item.keys())) > 1:
                _undo(self, journal)
                raise TransactWriteSingleOpException
            try:
                op_type, op = next(iter(item.items()))
                if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                    raise ValueError("Unsupported transaction operation")

                table_name = op["TableName"]
                condition_expression = op.get("ConditionExpression")
                names = op.get("ExpressionAttributeNames")
                values = op.get("ExpressionAttributeValues")
                on_failure = op.get("ReturnValuesOnConditionCheckFailure")

                if op_type == "Put":
                    attrs = op["Item"]
                    table = self.get_table(table_name)
                    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                    if table.range_key_attr is not None:
                        key[table.range_key_attr] = attrs[table.range_key_attr]
                else:
                    key = op["Key"]

                check_unicity(table_name, key)

                current = self.get_item(table_name, key)
                if condition_expression is not None:
                    condition_op = get_filter_expression(condition_expression, names, values)
                    if not condition_op.expr(current):
                        if on_failure == "ALL_OLD" and current:
                            original_item = current.to_json()["Attributes"]
                        raise ConditionalCheckFailed(item=original_item)

                if op_type != "ConditionCheck":
                    # Put and Delete replace or drop the stored Item and leave
                    # it intact; Update changes its attributes in place, so
                    # those are copied (the attributes only: every Item moto
                    # creates, copies included, stays in a class-level list).
                    saved = (
                        copy.deepcopy(current.attrs) if op_type == "Update" and current else None
                    )
                    journal.append((table_name, key, current, saved))

                if op_type == "Put":
                    self.put_item(
                        table_name,
                        op["Item"],
                        condition_expression=condition_expression,
                        expression_attribute_names=names,
                        expression_attribute_values=values,
                    )
                elif op_type == "Delete":
                    self.delete_item(
                        table_name,
                        key,
                        condition_expression=condition_expression,
                        expression_attribute_names=names,
                        expression_attribute_values=values,
                    )
                elif op_type == "Update":
                    self.update_item(
                        table_name,
                        key,
                        update_expression=op["UpdateExpression"],
                        condition_expression=condition_expression,
                        expression_attribute_names=names,
                        expression_attribute_values=values,
                    )
                errors.append((None, None, None))
            except (MultipleTransactionsException, MockValidationException):
                _undo(self, journal)
                raise
            except ConditionalCheckFailed as e:
                errors.append(("ConditionalCheckFailed", str(e.message), original_item))
            except Exception as e:  # noqa: BLE001 - moto reports any failure as a reason
                errors.append((type(e).__name__, str(e), original_item))

        if any(code is not None for code, _, _ in errors):
            _undo(self, journal)
            raise TransactionCanceledException(errors)


def _undo(backend, journal: list[tuple[str, dict[str, Any], Any, Any]]) -> None:
    """Put every journalled item back as it was, newest write first."""
    for table_name, key, previous, saved_attrs in reversed(journal):
        table = backend.get_table(table_name)
        hash_value, range_value = backend.get_keys_value(table, key)
        if previous is None:
            table.delete_item(hash_value, range_value)
            if range_value is not None and not table.items.get(hash_value, True):
                del table.items[hash_value]  # no empty partition left behind
            continue
        if saved_attrs is not None:
            previous.attrs = saved_attrs
        if range_value is not None:
            table.items[hash_value][range_value] = previous
        else:
            table.items[hash_value] = previous
