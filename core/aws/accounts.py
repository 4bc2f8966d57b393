"""DynamoDB reads and writes of organiser accounts, their API tokens, sign-in sessions
and failed sign-ins: one table, `users` (name takes TABLE_PREFIX; ddl/users.json).

Items, by their key `pk` (each has a `kind`):
- user#<id>        an account: id, email, role, created, last_upd, disabled, and
                   password_hash (argon2id; none for a single-sign-on-only account).
- email#<key>      {user_id}: the email's own item, written with attribute_not_exists
                   in the same transaction as its user, so no two accounts share an
                   email in any case (the key is the case-folded email).
- token#<id>       an API token: user_id, name, hash (SHA-256 of the token), created,
                   last_used. The token itself is never stored.
- session#<hash>   a signed-in browser: user_id ("operator" for the break-glass
                   sign-in), created, expires_at, and for the operator a fingerprint
                   of the secrets it signed in with. Keyed by the SHA-256 of the
                   session id, so the table does not hold live session ids.
- failures#<scope>#<key>  recent failed sign-ins of an account or an address: times
                   (epoch milliseconds), version (an optimistic lock), expires_at.

GSI `by-user` (PK user_id, SK kind): every item of one account (its user and email
items, tokens, sessions), for listing tokens and for ending sessions. `expires_at`
is the table's TTL attribute (core/aws/tables.py): DynamoDB deletes expired
sessions and failure records in its own time; readers check expiry themselves.
"""

from __future__ import annotations

from core.aws.codec import from_item, to_item
from core.aws.errors import translated
from core.aws.tables import TableNames, pages
from core.rules.errors import AlreadyExists, Conflict, EmailTaken

BY_USER = "by-user"
TIME_TO_LIVE = "expires_at"


def _plain(item: dict) -> dict:
    """A stored item without its key and kind: what the service works with."""
    found = from_item(item)
    found.pop("pk", None)
    found.pop("kind", None)
    return found


class AccountStore:
    """Plain boto3 access to the users table. The client is injected."""

    def __init__(self, client, table_prefix: str = ""):
        self.client = client
        self.table = TableNames(table_prefix).users

    # -- users -----------------------------------------------------------------------

    def put_new_user(self, user: dict, key: str) -> None:
        """Put user#<id> and email#<key> together, each only if new: EmailTaken when
        another account holds the email (in any case), AlreadyExists for the id."""
        items = [
            self._new({"pk": f"user#{user['id']}", "kind": "user", "user_id": user["id"],
                       **user}),  # fmt: skip
            self._new({"pk": f"email#{key}", "kind": "email", "user_id": user["id"]}),
        ]

        def cancelled(exc):
            reasons = exc.response.get("CancellationReasons", [])
            failed = [i for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"]
            if 1 in failed:
                return EmailTaken(key)
            return AlreadyExists(user["id"]) if 0 in failed else Conflict(user["id"])

        with translated(on_code={"TransactionCanceledException": cancelled}):
            self.client.transact_write_items(TransactItems=items)

    def _new(self, item: dict) -> dict:
        return {"Put": {"TableName": self.table, "Item": to_item(item),
                        "ConditionExpression": "attribute_not_exists(pk)"}}  # fmt: skip

    def replace_user(self, user: dict, expected_last_upd: str) -> None:
        """Put user#<id> if nobody changed it since it was read (else Conflict)."""
        failed = {"ConditionalCheckFailedException": lambda _: Conflict(user["id"])}
        with translated(on_code=failed):
            self.client.put_item(
                TableName=self.table,
                Item=to_item({"pk": f"user#{user['id']}", "kind": "user", "user_id": user["id"],
                              **user}),  # fmt: skip
                ConditionExpression="last_upd = :seen",
                ExpressionAttributeValues={":seen": {"S": expected_last_upd}},
            )

    def get_user(self, user_id: str) -> dict | None:
        """GetItem user#<id> (consistent): the account, or None."""
        item = self._get(f"user#{user_id}")
        if item is None:
            return None
        item.pop("user_id", None)
        return item

    def user_id_for_email(self, key: str) -> str | None:
        """GetItem email#<key>: the id of the account holding the email, or None."""
        item = self._get(f"email#{key}")
        return item["user_id"] if item else None

    def list_users(self) -> list[dict]:
        """Scan for kind = user (a deployment holds few accounts); unordered."""
        scan = {
            "TableName": self.table,
            "ConsistentRead": True,
            "FilterExpression": "#k = :user",
            "ExpressionAttributeNames": {"#k": "kind"},
            "ExpressionAttributeValues": {":user": {"S": "user"}},
        }
        users = [_plain(item) for item in pages(self.client, "scan", scan)]
        for user in users:
            user.pop("user_id", None)
        return users

    def delete_user(self, user: dict, key: str) -> None:
        """Delete user#<id> (if unchanged since read, else Conflict) and its email#<key>."""
        items = [
            {"Delete": {"TableName": self.table, "Key": {"pk": {"S": f"user#{user['id']}"}},
                        "ConditionExpression": "last_upd = :seen",
                        "ExpressionAttributeValues": {":seen": {"S": user["last_upd"]}}}},
            {"Delete": {"TableName": self.table, "Key": {"pk": {"S": f"email#{key}"}}}},
        ]  # fmt: skip
        raced = {"TransactionCanceledException": lambda _: Conflict(user["id"])}
        with translated(on_code=raced):
            self.client.transact_write_items(TransactItems=items)

    def items_of(self, user_id: str, kind: str) -> list[dict]:
        """Query by-user PK user_id, SK kind: the account's tokens or sessions (with `pk`)."""
        query = {
            "TableName": self.table,
            "IndexName": BY_USER,
            "KeyConditionExpression": "user_id = :u AND #k = :kind",
            "ExpressionAttributeNames": {"#k": "kind"},
            "ExpressionAttributeValues": {":u": {"S": user_id}, ":kind": {"S": kind}},
        }
        return [from_item(item) for item in pages(self.client, "query", query)]

    def delete_keys(self, keys: list[str]) -> None:
        """DeleteItem each pk (no item is no error)."""
        with translated():
            for pk in keys:
                self.client.delete_item(TableName=self.table, Key={"pk": {"S": pk}})

    # -- tokens ----------------------------------------------------------------------

    def put_token(self, token: dict) -> None:
        """Put token#<id>, only if new."""
        failed = {"ConditionalCheckFailedException": lambda _: AlreadyExists(token["id"])}
        with translated(on_code=failed):
            self.client.put_item(
                TableName=self.table,
                Item=to_item({"pk": f"token#{token['id']}", "kind": "token", **token}),
                ConditionExpression="attribute_not_exists(pk)",
            )

    def get_token(self, token_id: str) -> dict | None:
        """GetItem token#<id> (consistent): the token (its hash, never the token), or None."""
        return self._get(f"token#{token_id}")

    def delete_token(self, token_id: str) -> dict | None:
        """DeleteItem token#<id>: the token that was deleted, or None if there was none."""
        with translated():
            answer = self.client.delete_item(
                TableName=self.table, Key={"pk": {"S": f"token#{token_id}"}},
                ReturnValues="ALL_OLD",
            )  # fmt: skip
        return _plain(answer["Attributes"]) if "Attributes" in answer else None

    def touch_token(self, token_id: str, now: str, stale_before: str) -> None:
        """UpdateItem token#<id> SET last_used, only if it is unset or older than
        `stale_before`: at most one write per token per period, however busy."""
        condition = ("attribute_exists(pk) AND "
                     "(attribute_not_exists(last_used) OR last_used < :stale)")  # fmt: skip
        failed = {"ConditionalCheckFailedException": lambda _: Conflict(token_id)}
        try:
            with translated(on_code=failed):
                self.client.update_item(
                    TableName=self.table,
                    Key={"pk": {"S": f"token#{token_id}"}},
                    UpdateExpression="SET last_used = :now",
                    ConditionExpression=condition,
                    ExpressionAttributeValues={":now": {"S": now}, ":stale": {"S": stale_before}},
                )
        except Conflict:
            pass  # used recently already (or revoked meanwhile): nothing to note

    # -- sessions --------------------------------------------------------------------

    def put_session(self, key: str, session: dict) -> None:
        """Put session#<key> (the session id's hash), only if new."""
        failed = {"ConditionalCheckFailedException": lambda _: AlreadyExists(key)}
        with translated(on_code=failed):
            self.client.put_item(
                TableName=self.table,
                Item=to_item({"pk": f"session#{key}", "kind": "session", **session}),
                ConditionExpression="attribute_not_exists(pk)",
            )

    def get_session(self, key: str) -> dict | None:
        """GetItem session#<key> (consistent): the session, or None."""
        return self._get(f"session#{key}")

    def delete_session(self, key: str) -> None:
        self.delete_keys([f"session#{key}"])

    # -- failed sign-ins -------------------------------------------------------------

    def get_failures(self, scope: str, key: str) -> tuple[list[float], int]:
        """GetItem failures#<scope>#<key> (consistent): (times, version); ([], 0) if none."""
        item = self._get(f"failures#{scope}#{key}")
        if item is None:
            return [], 0
        return [t / 1000 for t in item.get("times", [])], int(item.get("version", 0))

    def put_failures(self, scope: str, key: str, times: list[float], version: int,
                     expires_at: int) -> None:  # fmt: skip
        """Put failures#<scope>#<key> with `times` as version+1, only if its version is
        still `version` (0: no item yet); else Conflict (read again and retry)."""
        item = {"pk": f"failures#{scope}#{key}", "kind": "failures", "version": version + 1,
                "times": [int(t * 1000) for t in times], TIME_TO_LIVE: expires_at}  # fmt: skip
        if version:
            condition = {"ConditionExpression": "version = :seen",
                         "ExpressionAttributeValues": {":seen": {"N": str(version)}}}  # fmt: skip
        else:
            condition = {"ConditionExpression": "attribute_not_exists(pk)"}
        failed = {"ConditionalCheckFailedException": lambda _: Conflict(key)}
        with translated(on_code=failed):
            self.client.put_item(TableName=self.table, Item=to_item(item), **condition)

    # -- shared ----------------------------------------------------------------------

    def _get(self, pk: str) -> dict | None:
        with translated():
            answer = self.client.get_item(
                TableName=self.table, Key={"pk": {"S": pk}}, ConsistentRead=True
            )
        return _plain(answer["Item"]) if "Item" in answer else None

