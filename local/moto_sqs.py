"""moto 5.2.5's SQS without rescanning the queue on every send, receive and delete.

Why: moto recomputes the queue's three approximate counts (three passes over
every message) on each SendMessage, and on each message a receive returns; it
also lists every visible message to return ten, and scans the whole queue
(twice) per receipt handle deleted, so the embedded mode's worker slowed as
messages piled up (docs/architecture.md has the measurements). Fix: counts only where
GetQueueAttributes asks for them; a lazy view of visible messages that stops
once the receive has enough; an index from receipt handle to message for
deletes and visibility changes. Applied by `local.moto_server.apply()`; on
real AWS none of this is loaded.
"""

from __future__ import annotations

import json
import weakref
from typing import Any


def patch() -> None:
    """Install the SQS fixes into moto's classes (local.moto_server.apply guards reuse)."""
    _patch_sqs()


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
