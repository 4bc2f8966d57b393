"""The embedded local AWS endpoint: moto's server with three contained fixes.

`make run`, the tests and the benchmarks all start the local endpoint through
this module (`embedded.start_moto` runs `python -m local_aws`), so they all
get the same moto. On real AWS none of this is loaded.

Why: moto 5.2.5 does work proportional to everything it stores on paths we
use for every vote, so the embedded mode slowed to a crawl as votes piled up
(docs/architecture.md has the measurements):

1. DynamoDB TransactWriteItems deep-copies every table the transaction
   touches, once per item in the transaction, so it can roll back by swapping
   the copies in. Ten votes per batch against a votes table of 20,000 items
   meant copying 200,000 items per transaction. Fix: an undo journal. Before
   each write the transaction records the previous version of that one item
   (only an Update, which moto changes in place, needs a copy); a cancelled
   transaction puts those items back in reverse order. A write under moto's
   rules touches only the item at its key, so the journal restores exactly the
   state the snapshot would have. Tables with a stream are left to moto's own
   code, because there the snapshot also rolls back stream records.
2. moto's server runs each request on its own thread with nothing ordering
   DynamoDB requests, so a transaction could interleave with other requests
   (and moto's snapshot restore could wipe out writes committed meanwhile).
   Fix: one lock around every DynamoDB request, which makes transactions
   isolated as on AWS. Python runs one thread at a time anyway, so this costs
   no parallelism.
3. SQS recomputes the queue's three approximate counts (three passes over
   every message) on each SendMessage, and on each message a receive returns;
   it also lists every visible message to return ten, and scans the whole queue
   (twice) per receipt handle deleted. Fix: counts only where
   GetQueueAttributes asks for them; a lazy view of visible messages that
   stops once the receive has enough; an index from receipt handle to message
   for deletes and visibility changes.

Three more remove fixed costs that profiling showed on every request or item:

4. The server finds each request's service under one lock, listing moto's
   package directory (about 200 isdir calls) every time. Fix: remember the
   backend per host.
5. Key comparisons (sorting and matching items in Query and Scan) go
   through DynamoType.cast_value, which makes five type checks before
   returning a string's own value. Fix: strings, binary and booleans answer
   at once (the value moto would return anyway).
6. A Scan or Query answer is serialised item by item, value by value,
   through the botocore response shape: about 2.5 ms per item. The items are
   already in DynamoDB's JSON form, so unless one holds binary (the only
   type the serializer transforms, to base64) they are written as JSON
   directly and the rest of the answer goes through moto's serializer.

werkzeug's access log starts switched off (`--access-log` turns it on).

The fixes target moto 5.2.5 exactly (the version pyproject.toml pins): on
any other version `apply()` refuses, so an upgrade is a conscious review, not
a silent change of behaviour. `python -m local_aws --stock` runs moto
unchanged, which the benchmarks use to measure the difference.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import sys
import threading
import weakref
from typing import Any

MOTO_VERSION = "5.2.5"

_applied = False
_apply_lock = threading.Lock()

# Serialises DynamoDB requests (fix 2). Reentrant because the transaction
# calls the backend's own put/update/delete while holding it.
DYNAMODB_LOCK = threading.RLock()

_stock: dict[str, Any] = {}


def applied() -> bool:
    return _applied


def apply() -> None:
    """Install the fixes into moto's classes (idempotent)."""
    global _applied
    import moto

    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(
            f"local_aws fixes moto {MOTO_VERSION}, found {moto.__version__}: review "
            "local_aws.py against the new moto before using it"
        )
    with _apply_lock:
        if _applied:
            return
        _patch_dynamodb()
        _patch_sqs()
        _patch_routing()
        _patch_comparisons()
        _patch_item_results()
        _applied = True


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
        return stock_cast_value.fget(self)

    DynamoType.cast_value = property(cast_value)


# -- Scan and Query answers -----------------------------------------------------------


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
        items = result.get("Items") if isinstance(result, dict) else None
        if not items or not _plain(items):
            return stock_execute(self, context)
        # Items are already in DynamoDB's wire form ({"S": ...}, {"N": "1"}, ...),
        # which the serializer would copy value by value through the response
        # shape: milliseconds per item. Only binary values need its base64.
        rest = ActionResult({key: value for key, value in result.items() if key != "Items"})
        status, headers, body = rest.execute_result(context)
        answer = json.loads(body)
        answer["Items"] = items
        return status, headers, json.dumps(answer)

    DynamoResult.execute_result = execute_result


# -- Routing --------------------------------------------------------------------


def _patch_routing() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    stock_backend_for_host = DomainDispatcherApplication.get_backend_for_host
    _stock["get_backend_for_host"] = stock_backend_for_host

    def get_backend_for_host(self, host):
        # Only called under the dispatcher's own lock, so the dict needs no other.
        known = self.__dict__.setdefault("_local_aws_backends", {})
        if host not in known:
            known[host] = stock_backend_for_host(self, host)
        return known[host]

    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host


# -- DynamoDB -------------------------------------------------------------------


def _patch_dynamodb() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    _stock["transact_write_items"] = DynamoDBBackend.transact_write_items
    _stock["call_action"] = DynamoHandler.call_action
    DynamoDBBackend.transact_write_items = transact_write_items

    stock_call_action = DynamoHandler.call_action

    def call_action(self):
        with DYNAMODB_LOCK:
            return stock_call_action(self)

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


# -- SQS ------------------------------------------------------------------------

_COUNT_NAMES = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesDelayed",
    "ApproximateNumberOfMessagesNotVisible",
)

# Receipt handle -> the message it was issued for. Weak, so a deleted message
# (and its handles) disappears from the index with the message itself.
_by_handle: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


class _VisibleMessages:
    """Queue.messages as a lazy view: visible, undelayed messages in queue order.

    moto builds this list in full (reading the clock twice per message) and
    then a receive takes the first ten. Iterating stops when the caller does;
    `bool()` stops at the first visible message; `len()` still counts them all.
    """

    def __init__(self, queue):
        self._queue = queue

    def __iter__(self):
        from moto.core.utils import unix_time_millis

        now = unix_time_millis()
        for message in self._queue._messages:
            # The same tests as Message.visible and Message.delayed, one clock read.
            if now > message.visible_at and not now < message.delayed_until:
                yield message

    def __bool__(self) -> bool:
        return next(iter(self), None) is not None

    def __len__(self) -> int:
        return sum(1 for _ in self)


def _counts(queue) -> dict[str, int]:
    """The three approximate counts in one pass with one clock read."""
    from moto.core.utils import unix_time_millis

    now = unix_time_millis()
    visible = delayed = not_visible = 0
    for message in queue._messages:
        is_delayed = now < message.delayed_until
        is_visible = now > message.visible_at
        delayed += is_delayed
        not_visible += not is_visible
        visible += is_visible and not is_delayed
    return dict(zip(_COUNT_NAMES, (visible, delayed, not_visible), strict=True))


def _patch_sqs() -> None:
    from moto.core.utils import camelcase_to_underscores, unix_time_millis
    from moto.sqs.exceptions import InvalidParameterValue
    from moto.sqs.models import Message, Queue, SQSBackend

    stock_get_queue_attributes = SQSBackend.get_queue_attributes
    stock_mark_received = Message.mark_received
    stock_delete_message = Queue.delete_message
    stock_change_visibility = SQSBackend.change_message_visibility

    def attributes(self) -> dict[str, Any]:
        """moto's Queue.attributes without the three counts.

        SendMessage reads this dict for ContentBasedDeduplication alone;
        GetQueueAttributes (below) adds the counts when they are asked for.
        """
        result: dict[str, Any] = {}
        names = [a for a in self.BASE_ATTRIBUTES if a not in _COUNT_NAMES]
        if self.fifo_queue:
            names += self.FIFO_ATTRIBUTES
        if self.kms_master_key_id:
            names += self.KMS_ATTRIBUTES
        for name in names:
            result[name] = getattr(self, camelcase_to_underscores(name))
        if self.policy:
            result["Policy"] = self.policy
        if self.redrive_policy:
            result["RedrivePolicy"] = json.dumps(self.redrive_policy)
        for name, value in result.items():
            if isinstance(value, bool):
                result[name] = str(value).lower()
        return result

    def get_queue_attributes(self, queue_name: str, attribute_names: list[str]):
        result = stock_get_queue_attributes(self, queue_name, attribute_names)
        wanted = [n for n in _COUNT_NAMES if "All" in attribute_names or n in attribute_names]
        if wanted:
            counts = _counts(self.get_queue(queue_name))
            result.update({name: counts[name] for name in wanted})
        return result

    def mark_received(self, visibility_timeout=None):
        stock_mark_received(self, visibility_timeout)
        _by_handle[self.receipt_handle] = self

    def delete_message(self, receipt_handle: str) -> None:
        message = _by_handle.get(receipt_handle)
        if message is None or receipt_handle in self.deleted_messages:
            return stock_delete_message(self, receipt_handle)
        with self._messages_lock:
            if message not in self._messages:  # a handle of another queue
                return stock_delete_message(self, receipt_handle)
            # Copy, then swap, as moto does: receives on other threads may be
            # iterating the old list.
            remaining = list(self._messages)
            remaining.remove(message)
            self.pending_messages.discard(message)
            self.deleted_messages.update(message.all_receipt_handles)
            self._messages = remaining

    def change_message_visibility(self, queue_name, receipt_handle, visibility_timeout):
        queue = self.get_queue(queue_name)
        message = _by_handle.get(receipt_handle)
        if message is None or message not in queue._messages:
            return stock_change_visibility(self, queue_name, receipt_handle, visibility_timeout)
        # moto's body from here on, minus its scan for the message.
        given = unix_time_millis() + int(visibility_timeout) * 1000
        if given - message.sent_timestamp > 43200 * 1000:
            raise InvalidParameterValue(
                f"Value {visibility_timeout} for parameter VisibilityTimeout is invalid. "
                "Reason: Total VisibilityTimeout for the message is beyond the limit "
                "[43200 seconds]"
            )
        message.change_visibility(visibility_timeout)
        if message.visible and message in queue.pending_messages:
            queue.pending_messages.remove(message)

    Queue.attributes = property(attributes)
    Queue.messages = property(_VisibleMessages)
    Queue.delete_message = delete_message
    Message.mark_received = mark_received
    SQSBackend.get_queue_attributes = get_queue_attributes
    SQSBackend.change_message_visibility = change_message_visibility
    SQSBackend.is_message_valid_based_on_retention_period = _retention_ok


def _retention_ok(self, queue_name: str, message) -> bool:
    """moto's retention check, reading the one attribute it needs.

    moto fetches it through get_queue_attributes, i.e. with the three counts,
    once for every message a receive returns.
    """
    from moto.core.utils import unix_time

    retention = int(self.get_queue(queue_name).message_retention_period)
    return retention + message.sent_timestamp / 1000 > unix_time()


# -- entry point -------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=(
            "The embedded local AWS endpoint: moto's server (same options as "
            "`python -m moto.server`) with local_aws's fixes applied."
        ),
        add_help=False,
    )
    parser.add_argument(
        "--stock", action="store_true", help="run moto unchanged (for before/after benchmarks)"
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="log every request (werkzeug's access log; off by default: it costs moto about "
        "a tenth of its CPU and floods make run's console)",
    )
    args, rest = parser.parse_known_args(argv if argv is not None else sys.argv[1:])
    if not args.stock:
        apply()
    if not args.access_log:
        # werkzeug keeps a level set before its first request; errors still show.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from moto.server import main as moto_main

    # moto falls back to sys.argv when given no arguments: keep --stock out of it.
    sys.argv = [sys.argv[0], *rest]
    moto_main(rest)


if __name__ == "__main__":
    main()
