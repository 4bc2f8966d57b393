"""DynamoDB reads and writes of an event's audience questions.

Table (name takes `TABLE_PREFIX`; schema in ddl/questions.json):
- questions  PK event_id, SK id. A question: text (as typed), name (optional),
             asker (a voter id, never shown), state, held ("blocked" while the
             block lists hold it), pinned, created, upvotes, rank (qna.rank_of),
             shelf (qna.shelf_of: present while shown or pending) and asked_by
             ("<event_id>#<voter_id>").
  GSI shelf-by-rank     PK shelf, SK rank (ALL): the public list's `top`.
  GSI shelf-by-created  PK shelf, SK created (ALL): `recent`, and the moderation
                        queue (shelf "<event_id>#pending"), oldest first.
  GSI asked-by          PK asked_by, SK created (text, state): a voter's own.

Every list is one Query of at most its page size, whatever the number of
questions; the indexes are sparse, so a dismissed question is in none of the
shelves. Upvotes change `upvotes` and `rank` by ADD in the worker's transaction
(core/aws/upvotes.py); a moderation changes the state, the shelf and, when
pinning, `rank` by ADD too, so neither ever overwrites the other's count.
"""

from __future__ import annotations

from core.aws.codec import from_item, to_item
from core.aws.errors import translated
from core.aws.tables import TableNames, pages
from core.rules.errors import AlreadyExists, Conflict, QuestionNotFound
from core.rules.qna import PINNED

BY_RANK, BY_CREATED, ASKED_BY = "shelf-by-rank", "shelf-by-created", "asked-by"
# What a list shows of a question (qna.public_view), and the moderation queue too.
LISTED = ("event_id", "id", "text", "name", "upvotes", "state", "pinned", "created", "held")


def _listed(item: dict) -> dict:
    """A listed question's typed attributes (strings, whole numbers, booleans) as plain
    values: what from_item gives for these types, without its per-value dispatch."""
    plain = {}
    for name, value in item.items():
        ((kind, raw),) = value.items()
        plain[name] = int(raw) if kind == "N" else raw
    return plain


class QuestionStore:
    """Plain boto3 access to questions. The client is injected."""

    def __init__(self, client, table_prefix: str = ""):
        self.client = client
        self.names = TableNames(table_prefix)

    def put_new(self, question: dict) -> None:
        """Put questions PK event_id SK id, only if new (else AlreadyExists)."""
        taken = {"ConditionalCheckFailedException": lambda _: AlreadyExists(question["id"])}
        with translated(on_code=taken):
            self.client.put_item(
                TableName=self.names.questions,
                Item=to_item(question),
                ConditionExpression="attribute_not_exists(id)",
            )

    def get(self, event_id: str, question_id: str, consistent: bool = False) -> dict | None:
        """GetItem questions PK event_id SK id."""
        with translated():
            answer = self.client.get_item(
                TableName=self.names.questions,
                Key={"event_id": {"S": event_id}, "id": {"S": question_id}},
                ConsistentRead=consistent,
            )
        return from_item(answer["Item"]) if "Item" in answer else None

    def shelf(self, shelf: str, by_rank: bool, newest_first: bool, limit: int) -> list[dict]:
        """Query shelf-by-rank (highest first) or shelf-by-created: at most `limit`, only
        what a list shows (LISTED), read without boto3's deserializer (`_listed`): a list
        read costs what its page holds, whatever the event's number of questions."""
        with translated():
            answer = self.client.query(
                TableName=self.names.questions,
                IndexName=BY_RANK if by_rank else BY_CREATED,
                KeyConditionExpression="shelf = :s",
                ExpressionAttributeValues={":s": {"S": shelf}},
                ProjectionExpression=", ".join(f"#{a}" for a in LISTED),
                ExpressionAttributeNames={f"#{a}": a for a in LISTED},
                ScanIndexForward=not newest_first,
                Limit=limit,
            )
        return [_listed(item) for item in answer.get("Items", [])]

    def asked_by(self, key: str, limit: int) -> list[dict]:
        """Query asked-by PK asked_by, newest first: id, text, state of a voter's own."""
        with translated():
            answer = self.client.query(
                TableName=self.names.questions,
                IndexName=ASKED_BY,
                KeyConditionExpression="asked_by = :k",
                ExpressionAttributeValues={":k": {"S": key}},
                ScanIndexForward=False,
                Limit=limit,
            )
        return [from_item(item) for item in answer.get("Items", [])]

    def of_event(self, event_id: str, page_size: int = 500):
        """Every question of the event (Query PK event_id), a page at a time."""
        kwargs = {
            "TableName": self.names.questions,
            "KeyConditionExpression": "event_id = :e",
            "ExpressionAttributeValues": {":e": {"S": event_id}},
            "ConsistentRead": True,
            "Limit": page_size,
        }
        for item in pages(self.client, "query", kwargs):
            yield from_item(item)

    def moderate(self, seen: dict, new: dict) -> dict:
        """UpdateItem questions PK event_id SK id: SET state, pinned, shelf (or REMOVE it),
        REMOVE held once shown, ADD rank the pin's change (qna.PINNED), under the
        condition that state and pinned are still as `seen` (else Conflict; a
        question gone: QuestionNotFound). Returns the question as stored after it."""
        names = {"#state": "state"}
        values = {
            ":state": {"S": new["state"]},
            ":pinned": {"BOOL": bool(new.get("pinned"))},
            ":seen_state": {"S": seen["state"]},
            ":seen_pinned": {"BOOL": bool(seen.get("pinned"))},
        }
        sets = ["#state = :state", "pinned = :pinned"]
        removes = [] if "held" in new else ["held"]
        if new.get("answered_at") and new["answered_at"] != seen.get("answered_at"):
            sets.append("answered_at = :answered_at")
            values[":answered_at"] = {"S": new["answered_at"]}
        if "shelf" in new:
            sets.append("shelf = :shelf")
            values[":shelf"] = {"S": new["shelf"]}
        else:
            removes.append("shelf")
        expression = "SET " + ", ".join(sets)
        if removes:
            expression += " REMOVE " + ", ".join(removes)
        pin = int(bool(new.get("pinned"))) - int(bool(seen.get("pinned")))
        if pin:
            expression += " ADD #rank :pin"
            names["#rank"] = "rank"
            values[":pin"] = {"N": str(pin * PINNED)}
        failed = {"ConditionalCheckFailedException": lambda _: Conflict(seen["id"])}
        with translated(on_code=failed):
            answer = self.client.update_item(
                TableName=self.names.questions,
                Key={"event_id": {"S": seen["event_id"]}, "id": {"S": seen["id"]}},
                UpdateExpression=expression,
                ConditionExpression=(
                    "attribute_exists(id) AND #state = :seen_state"
                    " AND (pinned = :seen_pinned OR attribute_not_exists(pinned))"
                ),
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        if "Attributes" not in answer:
            raise QuestionNotFound(seen["id"])
        return from_item(answer["Attributes"])
