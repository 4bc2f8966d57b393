"""The worker benchmark's baseline: the least a consumer must do per batch.

Receive up to 10 messages, one TransactWriteItems with the same items
worker.py writes for unlimited votes (a conditional Put of each vote record,
a ConditionCheck on the topic, one ADD per tally slot), one
DeleteMessageBatch. No validation, retries, logging, metrics or heartbeat.
Configured by the same environment as worker.py; SIGTERM stops it.

    python -m bench.bare_worker
"""

from __future__ import annotations

import json
import signal
import threading
from datetime import UTC, datetime

from core.aws.clients import clients_for
from core.settings import Settings


def main() -> None:
    settings = Settings.from_env()
    clients = clients_for(settings)
    sqs, ddb = clients.sqs, clients.dynamodb
    url = sqs.get_queue_url(QueueName=settings.full_queue_name)["QueueUrl"]
    votes, tallies, topics = (settings.table_name(t) for t in ("votes", "tallies", "topics"))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while not stop.is_set():
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=settings.worker_wait_seconds
        ).get("Messages", [])
        if not messages:
            continue
        now = datetime.now(UTC).replace(tzinfo=None).isoformat(timespec="microseconds")
        items, slots, checks = [], {}, {}
        for message in messages:
            vote = json.loads(message["Body"])
            record = {
                "id": {"S": vote["id"]},
                "topic_id": {"S": vote["topic_id"]},
                "choice_id": {"S": vote["choice_id"]},
                "queued_at": {"S": vote["queued_at"]},
                "created": {"S": now},
                "status": {"S": "counted"},
                "shard": {"N": "0"},
            }
            items.append(
                {
                    "Put": {
                        "TableName": votes,
                        "Item": record,
                        "ConditionExpression": "attribute_not_exists(id)",
                    }
                }
            )
            key = (vote["topic_id"], f"{vote['choice_id']}#0")
            slots[key] = slots.get(key, 0) + 1
            checks.setdefault(vote["topic_id"], set()).add(vote["choice_id"])
        for topic_id, choices in checks.items():
            names = {f":c{i}": {"S": c} for i, c in enumerate(sorted(choices))}
            condition = " AND ".join(
                ["is_active = :active"] + [f"contains(choice_ids, {n})" for n in names]
            )
            items.append(
                {
                    "ConditionCheck": {
                        "TableName": topics,
                        "Key": {"id": {"S": topic_id}},
                        "ConditionExpression": condition,
                        "ExpressionAttributeValues": {":active": {"BOOL": True}, **names},
                    }
                }
            )
        for (topic_id, slot), count in slots.items():
            items.append(
                {
                    "Update": {
                        "TableName": tallies,
                        "Key": {"topic_id": {"S": topic_id}, "slot": {"S": slot}},
                        "UpdateExpression": "ADD #count :n SET choice_id = :c",
                        "ExpressionAttributeNames": {"#count": "count"},
                        "ExpressionAttributeValues": {
                            ":n": {"N": str(count)},
                            ":c": {"S": slot.rsplit("#", 1)[0]},
                        },
                    }
                }
            )
        ddb.transact_write_items(TransactItems=items)
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
            ],
        )


if __name__ == "__main__":
    main()
