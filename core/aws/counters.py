"""DynamoDB counters every web process shares: the rate limits' hits.

- counters  PK key. {key, hits (N), expires_at (N, epoch seconds: the table's TTL)}:
            one item per limit, client and window ("<limit key>#<window start>"),
            gone a minute after its window ends.

An ADD is atomic, so processes counting the same key never lose each other's hits.
"""

from __future__ import annotations

from core.aws.errors import translated


class Counters:
    """Atomic counters in the counters table. The client is injected."""

    def __init__(self, client, table_prefix: str = ""):
        self.client = client
        self.table = f"{table_prefix}counters"

    def add(self, key: str, amount: int, expires_at: int) -> int:
        """UpdateItem counters PK key: ADD hits, SET expires_at; the count after the add."""
        with translated():
            answer = self.client.update_item(
                TableName=self.table,
                Key={"key": {"S": key}},
                UpdateExpression="ADD hits :n SET expires_at = :ttl",
                ExpressionAttributeValues={
                    ":n": {"N": str(amount)},
                    ":ttl": {"N": str(expires_at)},
                },
                ReturnValues="UPDATED_NEW",
            )
        return int(answer["Attributes"]["hits"]["N"])
