"""DynamoDB reads and writes of events and their join codes.

Tables (names take `TABLE_PREFIX`; schemas live in ddl/*.json):
- events       PK id. An event: title, code, position (-1 before the first
               question), `questions` (a list of maps: topic_id, state,
               results), created, last_upd, version (a
               counter every change increments).
- event_codes  PK code. {code, event_id}: the join code's own item. It is
               written with attribute_not_exists(code) in the same
               transaction as the event, so two events can never share a
               code, however many are created at once.

An event is replaced whole under a `version` condition (an optimistic
lock, as topics have with last_upd; a counter, because two clicks can share
a timestamp), so two presenters' clicks cannot silently undo
each other. A click that opens or closes questions writes the event and
those topics (topics PK id, under their `last_upd`) in one transaction.
"""

from __future__ import annotations

from core.aws.codec import from_item, to_item, topic_item
from core.aws.errors import translated
from core.aws.tables import TableNames, pages
from core.rules.errors import AlreadyExists, CodeTaken, Conflict, NotFound


def _cancelled_by(exc, event_id: str, code: str) -> Exception:
    """Which conditional Put of a cancelled create failed: the code's (1) or the event's (0)."""
    reasons = exc.response.get("CancellationReasons", [])
    failed = [i for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"]
    if 1 in failed:
        return CodeTaken(code)
    if 0 in failed:
        return AlreadyExists(event_id)
    return Conflict(event_id)  # cancelled for another reason (a conflict): try again


class EventStore:
    """Plain boto3 access to events and join codes. The client is injected."""

    def __init__(self, client, table_prefix: str = ""):
        self.client = client
        self.names = TableNames(table_prefix)

    def put_new_event(self, event: dict) -> None:
        """Put events PK id and event_codes PK code together, both only if new.

        CodeTaken if the code is held by another event (pick another and
        retry), AlreadyExists if the event id is.
        """
        items = [
            {
                "Put": {
                    "TableName": self.names.events,
                    "Item": to_item(event),
                    "ConditionExpression": "attribute_not_exists(id)",
                }
            },
            {
                "Put": {
                    "TableName": self.names.event_codes,
                    "Item": to_item({"code": event["code"], "event_id": event["id"]}),
                    "ConditionExpression": "attribute_not_exists(code)",
                }
            },
        ]
        refused = {
            "TransactionCanceledException": lambda exc: _cancelled_by(
                exc, event["id"], event["code"]
            )
        }
        with translated(on_code=refused):
            self.client.transact_write_items(TransactItems=items)

    def replace_event(
        self, event: dict, expected_version: int, topics: list[tuple[dict, str]] = ()
    ) -> None:
        """Put events PK id, only if its `version` is still what the caller read (else
        Conflict).

        With `topics` ([(topic, the last_upd it was read at)]), each topic is Put on topics
        PK id in the same TransactWriteItems, each only if its `last_upd` is still the one
        read: the event and its questions' topics change together or not at all, so a
        presenter's click answered 409 has changed nothing.
        """
        if not topics:
            failed = {"ConditionalCheckFailedException": lambda _: Conflict(event["id"])}
            with translated(on_code=failed):
                self.client.put_item(**self._versioned_put(event, expected_version))
            return
        items = [{"Put": self._versioned_put(event, expected_version)}]
        for topic, seen in topics:
            items.append(
                {
                    "Put": {
                        "TableName": self.names.topics,
                        "Item": topic_item(topic),
                        "ConditionExpression": "last_upd = :seen",
                        "ExpressionAttributeValues": {":seen": {"S": seen}},
                    }
                }
            )
        # Cancelled: a condition failed (someone changed the event or a topic since it was
        # read) or another transaction held an item; either way nothing was written.
        refused = {"TransactionCanceledException": lambda _: Conflict(event["id"])}
        with translated(on_code=refused):
            self.client.transact_write_items(TransactItems=items)

    def _versioned_put(self, event: dict, expected_version: int) -> dict:
        """A Put of events PK id conditioned on its `version` still being `expected_version`."""
        return {
            "TableName": self.names.events,
            "Item": to_item(event),
            "ConditionExpression": "#v = :seen",
            "ExpressionAttributeNames": {"#v": "version"},
            "ExpressionAttributeValues": {":seen": {"N": str(expected_version)}},
        }

    def get_event(self, event_id: str) -> dict | None:
        """GetItem events PK id (consistent): the event, or None."""
        with translated():
            answer = self.client.get_item(
                TableName=self.names.events, Key={"id": {"S": event_id}}, ConsistentRead=True
            )
        return from_item(answer["Item"]) if "Item" in answer else None

    def event_id_for(self, code: str) -> str | None:
        """GetItem event_codes PK code: the id of the event holding the code, or None."""
        with translated():
            answer = self.client.get_item(
                TableName=self.names.event_codes, Key={"code": {"S": code}}, ConsistentRead=True
            )
        return answer["Item"]["event_id"]["S"] if "Item" in answer else None

    def list_events(self) -> list[dict]:
        """Scan of events PK id (a deployment holds few); unordered."""
        scan = {"TableName": self.names.events}
        return [from_item(item) for item in pages(self.client, "scan", scan)]

    def delete_event(self, event: dict) -> None:
        """Delete events PK id and its event_codes PK code together (the code is free again).

        Conditioned on `version`, so a change made meanwhile cancels the
        delete (Conflict) instead of being lost with it.
        """
        items = [
            {
                "Delete": {
                    "TableName": self.names.events,
                    "Key": {"id": {"S": event["id"]}},
                    "ConditionExpression": "#v = :seen",
                    "ExpressionAttributeNames": {"#v": "version"},
                    "ExpressionAttributeValues": {":seen": {"N": str(event["version"])}},
                }
            },
            {
                "Delete": {
                    "TableName": self.names.event_codes,
                    "Key": {"code": {"S": event["code"]}},
                    "ConditionExpression": "event_id = :id",
                    "ExpressionAttributeValues": {":id": {"S": event["id"]}},
                }
            },
        ]
        raced = {"TransactionCanceledException": lambda _: self._why_not_deleted(event["id"])}
        with translated(on_code=raced):
            self.client.transact_write_items(TransactItems=items)

    def _why_not_deleted(self, event_id: str) -> Exception:
        return NotFound(event_id) if self.get_event(event_id) is None else Conflict(event_id)
