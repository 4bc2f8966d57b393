"""`make run`'s stack on a Lab, and moto measured alone: shared by the stored-votes benchmarks."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import boto3
from botocore.config import Config

from bench.common import Lab, create_topic, log, post_votes, seed_votes, total_votes, voting_for

BACKLOG = 1_000  # messages waiting in the SQS measurements


class MakeRunStack:
    """A stack as `make run` starts it (gunicorn 2 x 4, one worker) with one topic to vote on."""

    def __init__(self, lab: Lab, name: str):
        self.name = name
        self.lab = lab
        self.env = lab.env(WORKER_WAIT_SECONDS="1")
        self.voting = voting_for(self.env)
        _, self.base = lab.web(self.env, workers=2)
        lab.worker(self.env)
        self.topic = create_topic(self.base)
        self.seeded = 0

    def seed_to(self, stored: int, topic: dict | None = None) -> None:
        """Store votes on the topic (directly, as the worker leaves them) up to `stored` seeded."""
        if stored <= self.seeded:
            return
        start = time.perf_counter()
        seed_votes(self.env, topic or self.topic, stored - self.seeded)
        seconds = time.perf_counter() - start
        log(f"{self.name}: seeded {stored - self.seeded} votes in {seconds:.0f} s")
        self.seeded = stored

    def run(self, votes: int, window: float) -> float:
        """End-to-end votes/s: from the first POST /votes until the worker recorded them all.

        Cut after `window` seconds: then the rate is of the votes recorded by then.
        """
        before = total_votes(self.voting, self.topic["id"])
        start = time.perf_counter()
        statuses = post_votes(self.base, self.topic, votes, concurrency=16)
        if statuses.count(202) != votes:
            raise RuntimeError(f"intake refused votes: {sorted(set(statuses))}")
        total = before
        while total < before + votes and time.perf_counter() - start < window:
            time.sleep(0.1)
            total = total_votes(self.voting, self.topic["id"])
        return (total - before) / (time.perf_counter() - start)


def patient_client(lab: Lab, service: str):
    """A client that waits for moto however long it takes, and never retries."""
    config = Config(read_timeout=900, retries={"mode": "standard", "max_attempts": 1})
    return boto3.client(
        service,
        endpoint_url=lab.endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=config,
    )


def transactions_per_s(lab: Lab, stack: MakeRunStack, seconds: float) -> float:
    """TransactWriteItems/s of the worker's batch shape (10 vote Puts, a check, an ADD).

    At least one transaction, then as many as fit in `seconds` (200 at most).
    """
    client, names = patient_client(lab, "dynamodb"), stack.voting.store.names
    topic_id, choice = stack.topic["id"], stack.topic["choices"][0]["id"]
    done, start = 0, time.perf_counter()
    while done < 1 or (time.perf_counter() - start < seconds and done < 200):
        items = [
            {
                "Put": {
                    "TableName": names.votes,
                    "Item": {
                        "id": {"S": str(uuid.uuid4())},
                        "topic_id": {"S": topic_id},
                        "choice_id": {"S": choice},
                        "created": {"S": "2026-01-01T00:00:00.000000"},
                        "status": {"S": "counted"},
                    },
                    "ConditionExpression": "attribute_not_exists(id)",
                }
            }
            for _ in range(10)
        ]
        items.append(
            {
                "ConditionCheck": {
                    "TableName": names.topics,
                    "Key": {"id": {"S": topic_id}},
                    "ConditionExpression": "is_active = :t",
                    "ExpressionAttributeValues": {":t": {"BOOL": True}},
                }
            }
        )
        items.append(
            {
                "Update": {
                    "TableName": names.tallies,
                    "Key": {"topic_id": {"S": topic_id}, "slot": {"S": f"{choice}#0"}},
                    "UpdateExpression": "ADD #c :n",
                    "ExpressionAttributeNames": {"#c": "count"},
                    "ExpressionAttributeValues": {":n": {"N": "10"}},
                }
            }
        )
        client.transact_write_items(TransactItems=items)
        done += 1
    return done / (time.perf_counter() - start)


def sqs_ops(lab: Lab, seconds: float) -> dict:
    """SendMessage/s and receive+delete cycles/s on a queue with BACKLOG messages waiting.

    moto unchanged takes minutes to queue 10,000 (each send counts the whole
    queue three times), hence 1,000.
    """
    sqs = patient_client(lab, "sqs")
    url = sqs.create_queue(QueueName=f"bench-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    for _ in range(0, BACKLOG, 10):
        entries = [{"Id": str(i), "MessageBody": "v" * 200} for i in range(10)]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    sends, start = 0, time.perf_counter()
    while sends < 2 or (time.perf_counter() - start < seconds and sends < 500):
        sqs.send_message(QueueUrl=url, MessageBody="v" * 200)
        sends += 1
    result = {"sends_per_s": sends / (time.perf_counter() - start)}
    cycles, start = 0, time.perf_counter()
    while cycles < 2 or (time.perf_counter() - start < seconds and cycles < 50):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300)
        handles = [m["ReceiptHandle"] for m in got.get("Messages", [])]
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(handles)],
        )
        cycles += 1
    result["receive_delete_per_s"] = cycles / (time.perf_counter() - start)
    return result


def rss_mb(pid: int) -> float:
    """Resident memory of a process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0
