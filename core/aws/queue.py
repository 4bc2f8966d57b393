"""SQS only: create the votes queue and its DLQ, send, receive, delete, redrive.

The queue URL is looked up once per process and kept. Botocore errors are
re-raised as QueueUnavailable (errors.py) so callers never handle botocore types.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from botocore.exceptions import ClientError

from core.aws.errors import translated
from core.rules.errors import AlreadyExists, QueueUnavailable

MAX_BATCH = 10  # SQS's limit for receive, send and delete batches
MAX_BATCH_BYTES = 256 * 1024  # SQS's limit for the bodies of one SendMessageBatch
# How long `dlq show` hides what it received, so the next receive finds others;
# released at once when done (a crash leaves them hidden only this long).
PEEK_HIDE_SECONDS = 30


@dataclass
class Message:
    """One received message: its body, receipt handle and delivery facts."""

    message_id: str
    receipt_handle: str
    body: str
    receive_count: int
    sent_timestamp_ms: int


class VoteQueue:
    """The votes queue. The SQS client is injected."""

    def __init__(self, client, name: str, dlq_name: str | None = None):
        self.client = client
        self.name = name
        self.dlq_name = dlq_name or f"{name}-dlq"
        self._url: str | None = None

    # -- provisioning ---------------------------------------------------------

    def create(self, visibility_timeout: int = 30, max_receive_count: int = 5) -> str:
        """Create (or find) the DLQ and the queue with its redrive policy. Idempotent."""
        # Exists with other attributes (an operator tuned it): keep theirs.
        exists = lambda _: AlreadyExists(self.name)  # noqa: E731
        tuned = {"QueueAlreadyExists": exists, "AWS.SimpleQueueService.QueueAlreadyExists": exists}
        try:
            with translated(QueueUnavailable, on_code=tuned):
                dlq_url = self.client.create_queue(
                    QueueName=self.dlq_name,
                    Attributes={"MessageRetentionPeriod": str(14 * 24 * 3600)},
                )["QueueUrl"]
                dlq_arn = self.client.get_queue_attributes(
                    QueueUrl=dlq_url, AttributeNames=["QueueArn"]
                )["Attributes"]["QueueArn"]
                redrive = {
                    "deadLetterTargetArn": dlq_arn,
                    "maxReceiveCount": str(max_receive_count),
                }
                self._url = self.client.create_queue(
                    QueueName=self.name,
                    Attributes={
                        "VisibilityTimeout": str(visibility_timeout),
                        "ReceiveMessageWaitTimeSeconds": "20",
                        "RedrivePolicy": json.dumps(redrive),
                    },
                )["QueueUrl"]
        except AlreadyExists:
            self._url = self.url
        return self._url

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = self._lookup(self.name)
        return self._url

    def _lookup(self, name: str) -> str:
        with translated(QueueUnavailable):
            return self.client.get_queue_url(QueueName=name)["QueueUrl"]

    def check(self) -> None:
        """Raise QueueUnavailable unless the queue answers."""
        with translated(QueueUnavailable):
            self.client.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])

    def message_counts(self, dead_letters: bool = False) -> dict[str, int]:
        """Approximate message counts (SQS's own estimate): waiting and in flight."""
        url = self._lookup(self.dlq_name) if dead_letters else self.url
        with translated(QueueUnavailable):
            attributes = self.client.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )["Attributes"]
        return {
            "waiting": int(attributes.get("ApproximateNumberOfMessages", 0)),
            "in_flight": int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
        }

    # -- messages -------------------------------------------------------------

    def send(self, body: dict) -> str:
        """Send one message as JSON; returns its MessageId once SQS has stored it."""
        return self.send_raw(json.dumps(body))

    def send_batch(self, bodies: list[str]) -> list[str | QueueUnavailable]:
        """SendMessageBatch of up to MAX_BATCH bodies, sent as given.

        One answer per body, in order: its MessageId once SQS has stored it,
        or a QueueUnavailable for an entry SQS reports as failed (the others
        of the batch are stored regardless). A failure of the whole call
        raises QueueUnavailable.
        """
        entries = [{"Id": str(i), "MessageBody": body} for i, body in enumerate(bodies)]
        with translated(QueueUnavailable):
            answer = self.client.send_message_batch(QueueUrl=self.url, Entries=entries)
        outcome: list[str | QueueUnavailable] = [
            QueueUnavailable("SQS did not report this entry") for _ in bodies
        ]
        for stored in answer.get("Successful", []):
            outcome[int(stored["Id"])] = stored["MessageId"]
        for failed in answer.get("Failed", []):
            reason = f"{failed.get('Code', 'Failed')}: {failed.get('Message', '')}"
            outcome[int(failed["Id"])] = QueueUnavailable(reason)
        return outcome

    def receive(self, wait_seconds: int = 20, max_messages: int = MAX_BATCH) -> list[Message]:
        """Long-poll for up to `max_messages` messages."""
        with translated(QueueUnavailable):
            answer = self.client.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=max_messages,
                WaitTimeSeconds=wait_seconds,
                MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
            )
        return [_message(m) for m in answer.get("Messages", [])]

    def delete(self, messages: list[Message]) -> list[Message]:
        """DeleteMessageBatch; returns the messages SQS failed to delete."""
        if not messages:
            return []
        by_id = {str(i): m for i, m in enumerate(messages)}
        entries = [{"Id": i, "ReceiptHandle": m.receipt_handle} for i, m in by_id.items()]
        with translated(QueueUnavailable):
            answer = self.client.delete_message_batch(QueueUrl=self.url, Entries=entries)
        return [by_id[f["Id"]] for f in answer.get("Failed", [])]

    def extend(self, messages: list[Message], timeout: int) -> None:
        """ChangeMessageVisibilityBatch: keep messages hidden while still working on them."""
        if not messages:
            return
        entries = [
            {"Id": str(i), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": timeout}
            for i, m in enumerate(messages)
        ]
        with translated(QueueUnavailable):
            self.client.change_message_visibility_batch(QueueUrl=self.url, Entries=entries)

    # -- used by the embedded mode's snapshot (local/snapshot.py) -------------

    def send_raw(self, body: str) -> str:
        """Send a body exactly as given (a saved message, which may not even be JSON)."""
        with translated(QueueUnavailable):
            return self.client.send_message(QueueUrl=self.url, MessageBody=body)["MessageId"]


class DeadLetters:
    """The votes DLQ: look at what failed, and move it back to the votes queue."""

    def __init__(self, queue: VoteQueue):
        self.queue = queue
        self.client = queue.client

    @property
    def url(self) -> str:
        return self.queue._lookup(self.queue.dlq_name)

    def _arn(self, url: str) -> str:
        attributes = self.client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return attributes["Attributes"]["QueueArn"]

    def peek(self, limit: int = 10) -> list[Message]:
        """Up to `limit` messages, left in the DLQ.

        Each receive hides what it got (a short visibility timeout), so the next
        one brings new messages, until `limit` or an empty answer; then every
        message seen is made visible again at once.
        """
        seen: dict[str, Message] = {}
        empty_answers = 0
        with translated(QueueUnavailable):
            try:
                # SQS samples its servers: an empty answer is retried a few times.
                while len(seen) < limit and empty_answers < 3:
                    answer = self.client.receive_message(
                        QueueUrl=self.url,
                        MaxNumberOfMessages=min(MAX_BATCH, limit - len(seen)),
                        VisibilityTimeout=PEEK_HIDE_SECONDS,
                        MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
                    )
                    fresh = [m for m in answer.get("Messages", []) if m["MessageId"] not in seen]
                    empty_answers = 0 if fresh else empty_answers + 1
                    for m in fresh:
                        seen[m["MessageId"]] = _message(m)
            finally:
                self._release(list(seen.values()))
        return list(seen.values())[:limit]

    def _release(self, messages: list[Message]) -> None:
        """ChangeMessageVisibilityBatch to 0: messages peeked at are back in the DLQ."""
        for start in range(0, len(messages), MAX_BATCH):
            entries = [
                {"Id": str(i), "ReceiptHandle": m.receipt_handle, "VisibilityTimeout": 0}
                for i, m in enumerate(messages[start : start + MAX_BATCH])
            ]
            self.client.change_message_visibility_batch(QueueUrl=self.url, Entries=entries)

    def redrive(self) -> tuple[str, int]:
        """Move every DLQ message back to the votes queue.

        SQS's own StartMessageMoveTask where the endpoint has it (it runs in
        the background: returns ("task", 0)); otherwise a receive, send,
        delete loop (returns ("copied", n)). The loop sends before it deletes,
        so a crash can only duplicate a message, which the worker's
        conditional write absorbs.
        """
        with translated(QueueUnavailable):
            dlq_url, main_url = self.url, self.queue.url
            try:
                self.client.start_message_move_task(
                    SourceArn=self._arn(dlq_url), DestinationArn=self._arn(main_url)
                )
                return "task", 0
            except ClientError:
                # No move API at this endpoint (moto answers 500, older SQS
                # clones InvalidAction): the copy loop below works everywhere.
                pass
            moved = 0
            while True:
                answer = self.client.receive_message(
                    QueueUrl=dlq_url, MaxNumberOfMessages=10, VisibilityTimeout=60
                )
                messages = answer.get("Messages", [])
                if not messages:
                    return "copied", moved
                sent = self.client.send_message_batch(
                    QueueUrl=main_url,
                    Entries=[
                        {"Id": str(i), "MessageBody": m["Body"]} for i, m in enumerate(messages)
                    ],
                )
                done = {e["Id"] for e in sent.get("Successful", [])}
                delete = [
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                    for i, m in enumerate(messages)
                    if str(i) in done
                ]
                if delete:
                    self.client.delete_message_batch(QueueUrl=dlq_url, Entries=delete)
                moved += len(delete)
                if len(done) < len(messages):
                    unsent = len(messages) - len(done)
                    raise QueueUnavailable(f"{unsent} messages could not be sent")


def _message(m: dict) -> Message:
    return Message(
        message_id=m["MessageId"],
        receipt_handle=m["ReceiptHandle"],
        body=m["Body"],
        receive_count=int(m.get("Attributes", {}).get("ApproximateReceiveCount", 1)),
        sent_timestamp_ms=int(m.get("Attributes", {}).get("SentTimestamp", 0)),
    )
