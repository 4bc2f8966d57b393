"""local/moto_*.py: the embedded moto server keeps moto's answers while dropping its growing costs.

These tests talk to the real server the fixtures start (embedded.start_moto,
i.e. `python -m local.moto_server`), or to one they start themselves. The ones
that prove the mechanism itself (no table copied, no queue counted on send) run
moto in process: tests/unit/test_moto_patches.py.
"""

from __future__ import annotations

import http.client
import subprocess
import sys
import threading
import uuid

import pytest
from botocore.exceptions import ClientError

from local import launcher as embedded
from tests.helpers.stacks import aws_client, create_table


@pytest.fixture
def ddb(moto_endpoint):
    return aws_client("dynamodb", moto_endpoint)


@pytest.fixture
def sqs(moto_endpoint):
    return aws_client("sqs", moto_endpoint)


@pytest.fixture
def tables(ddb):
    """A hash-key table and a hash+range table, with a few items in each."""
    prefix = f"la{uuid.uuid4().hex[:10]}-"
    single, pairs = f"{prefix}items", f"{prefix}pairs"
    create_table(ddb, single, ("id", "S"))
    create_table(ddb, pairs, ("pk", "S"), ("sk", "S"))
    for key, x in (("a", "1"), ("b", "2"), ("d", "4")):
        ddb.put_item(
            TableName=single, Item={"id": {"S": key}, "x": {"N": x}, "tags": {"SS": ["t"]}}
        )
    ddb.put_item(TableName=pairs, Item={"pk": {"S": "p"}, "sk": {"S": "1"}, "n": {"N": "5"}})
    return single, pairs


def _state(ddb, *names) -> dict:
    """Every item of the tables, comparable."""
    return {
        name: sorted(
            (repr(sorted(item.items())) for item in ddb.scan(TableName=name)["Items"]),
        )
        for name in names
    }


def _writes(single: str, pairs: str) -> list[dict]:
    """Every kind of write: new item, overwrite, in-place update, created by update, delete."""
    return [
        {"Put": {"TableName": single, "Item": {"id": {"S": "c"}, "x": {"N": "3"}}}},
        {"Put": {"TableName": single, "Item": {"id": {"S": "a"}, "x": {"N": "100"}}}},
        {
            "Update": {
                "TableName": single,
                "Key": {"id": {"S": "b"}},
                "UpdateExpression": "SET x = :v ADD tags :t",
                "ExpressionAttributeValues": {":v": {"N": "200"}, ":t": {"SS": ["u"]}},
            }
        },
        {
            "Update": {
                "TableName": pairs,
                "Key": {"pk": {"S": "p"}, "sk": {"S": "1"}},
                "UpdateExpression": "ADD n :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        },
        {
            "Update": {
                "TableName": pairs,
                "Key": {"pk": {"S": "q"}, "sk": {"S": "9"}},
                "UpdateExpression": "ADD n :one",
                "ExpressionAttributeValues": {":one": {"N": "1"}},
            }
        },
        {
            "Delete": {
                "TableName": single,
                "Key": {"id": {"S": "d"}},
                "ConditionExpression": "attribute_exists(id)",
            }
        },
    ]


def _failing_check(single: str) -> dict:
    return {
        "ConditionCheck": {
            "TableName": single,
            "Key": {"id": {"S": "missing"}},
            "ConditionExpression": "attribute_exists(id)",
        }
    }


@pytest.mark.parametrize("position", ["first", "middle", "last"])
def test_cancelled_transaction_leaves_nothing_behind(ddb, tables, position):
    single, pairs = tables
    before = _state(ddb, single, pairs)
    writes = _writes(single, pairs)
    at = {"first": 0, "middle": 3, "last": len(writes)}[position]
    items = writes[:at] + [_failing_check(single)] + writes[at:]

    with pytest.raises(ClientError) as caught:
        ddb.transact_write_items(TransactItems=items)

    assert caught.value.response["Error"]["Code"] == "TransactionCanceledException"
    codes = [r["Code"] for r in caught.value.response["CancellationReasons"]]
    assert codes == ["None"] * at + ["ConditionalCheckFailed"] + ["None"] * (len(writes) - at)
    assert _state(ddb, single, pairs) == before


def test_transaction_refused_midway_as_invalid_leaves_nothing_behind(ddb, tables):
    single, pairs = tables
    before = _state(ddb, single, pairs)
    bad = {  # ADD of a number to a string set: moto refuses it while applying
        "Update": {
            "TableName": single,
            "Key": {"id": {"S": "a"}},
            "UpdateExpression": "ADD tags :n",
            "ExpressionAttributeValues": {":n": {"N": "1"}},
        }
    }
    items = [
        w
        for w in _writes(single, pairs)
        if "a" != w.get("Put", {}).get("Item", {}).get("id", {}).get("S")
    ]
    with pytest.raises(ClientError) as caught:
        ddb.transact_write_items(TransactItems=items + [bad])
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert _state(ddb, single, pairs) == before


def test_committed_transaction_applies_every_write(ddb, tables):
    single, pairs = tables
    ddb.transact_write_items(TransactItems=_writes(single, pairs))
    items = {i["id"]["S"]: i for i in ddb.scan(TableName=single)["Items"]}
    assert sorted(items) == ["a", "b", "c"]
    assert items["a"] == {"id": {"S": "a"}, "x": {"N": "100"}}
    assert items["b"]["x"] == {"N": "200"} and sorted(items["b"]["tags"]["SS"]) == ["t", "u"]
    counts = {(i["pk"]["S"], i["sk"]["S"]): i["n"]["N"] for i in ddb.scan(TableName=pairs)["Items"]}
    assert counts == {("p", "1"): "6", ("q", "9"): "1"}


def test_failed_condition_still_returns_the_item_when_asked(ddb, tables):
    single, _ = tables
    check = {
        "ConditionCheck": {
            "TableName": single,
            "Key": {"id": {"S": "a"}},
            "ConditionExpression": "x = :v",
            "ExpressionAttributeValues": {":v": {"N": "999"}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }
    with pytest.raises(ClientError) as caught:
        ddb.transact_write_items(TransactItems=[check])
    (reason,) = caught.value.response["CancellationReasons"]
    assert reason["Code"] == "ConditionalCheckFailed"
    assert reason["Item"]["x"] == {"N": "1"}


def test_concurrent_transactions_with_cancellations_stay_atomic(ddb, tables, moto_endpoint):
    """Threads commit and cancel transactions on one counter: every commit is there in full."""
    single, pairs = tables
    counter = {"pk": {"S": "counter"}, "sk": {"S": "0"}}
    outcomes: list[bool] = []
    lock = threading.Lock()

    def run(thread: int):
        client = aws_client("dynamodb", moto_endpoint)
        for i in range(25):
            record = f"r{thread}-{i}"
            items = [
                {"Put": {"TableName": single, "Item": {"id": {"S": record}}}},
                {
                    "Update": {
                        "TableName": pairs,
                        "Key": counter,
                        "UpdateExpression": "ADD n :one",
                        "ExpressionAttributeValues": {":one": {"N": "1"}},
                    }
                },
            ]
            if i % 3 == 0:
                items.append(_failing_check(single))
            try:
                client.transact_write_items(TransactItems=items)
                committed = True
            except ClientError as exc:
                assert exc.response["Error"]["Code"] == "TransactionCanceledException"
                committed = False
            with lock:
                outcomes.append(committed)

    threads = [threading.Thread(target=run, args=(t,)) for t in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    committed = sum(outcomes)
    assert len(outcomes) == 100 and committed == 4 * 16
    records = [i for i in ddb.scan(TableName=single)["Items"] if i["id"]["S"].startswith("r")]
    assert len(records) == committed
    value = ddb.get_item(TableName=pairs, Key=counter)["Item"]["n"]["N"]
    assert int(value) == committed


# -- SQS ----------------------------------------------------------------------------


def _queue(sqs, **attributes) -> str:
    return sqs.create_queue(QueueName=f"la{uuid.uuid4().hex[:12]}", Attributes=attributes)[
        "QueueUrl"
    ]


def _counts(sqs, url) -> tuple[int, int, int]:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    return tuple(
        int(attrs[name])
        for name in (
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
        )
    )


def test_receive_and_delete_in_batches_keep_sqs_semantics(sqs):
    url = _queue(sqs, VisibilityTimeout="60")
    for start in range(0, 25, 10):
        entries = [
            {"Id": str(i), "MessageBody": f"m{i}"} for i in range(start, min(start + 10, 25))
        ]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    assert _counts(sqs, url) == (25, 0, 0)

    received = []
    while batch := sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
        assert len(batch) <= 10
        received += batch
    assert sorted(m["Body"] for m in received) == sorted(f"m{i}" for i in range(25))
    assert _counts(sqs, url) == (0, 25, 0)

    answer = sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(received[:10])
        ],
    )
    assert len(answer["Successful"]) == 10 and not answer.get("Failed")
    assert _counts(sqs, url) == (0, 15, 0)
    # Deleting again is accepted and changes nothing, as with moto unchanged.
    sqs.delete_message(QueueUrl=url, ReceiptHandle=received[0]["ReceiptHandle"])
    assert _counts(sqs, url) == (0, 15, 0)


def test_old_receipt_handle_deletes_and_foreign_handle_is_refused(sqs):
    url, other = _queue(sqs), _queue(sqs)
    sqs.send_message(QueueUrl=url, MessageBody="x")
    first = sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"][0]
    second = sqs.receive_message(QueueUrl=url, VisibilityTimeout=30)["Messages"][0]
    assert first["MessageId"] == second["MessageId"]
    assert first["ReceiptHandle"] != second["ReceiptHandle"]

    with pytest.raises(ClientError) as caught:
        sqs.delete_message(QueueUrl=other, ReceiptHandle=second["ReceiptHandle"])
    assert caught.value.response["Error"]["Code"] == "ReceiptHandleIsInvalid"

    sqs.delete_message(QueueUrl=url, ReceiptHandle=first["ReceiptHandle"])  # an older handle
    assert _counts(sqs, url) == (0, 0, 0)


def test_visibility_change_and_delay_keep_sqs_semantics(sqs):
    url = _queue(sqs, VisibilityTimeout="60")
    sqs.send_message(QueueUrl=url, MessageBody="late", DelaySeconds=120)
    sqs.send_message(QueueUrl=url, MessageBody="now")
    assert _counts(sqs, url) == (1, 0, 1)

    (message,) = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert message["Body"] == "now"
    assert not sqs.receive_message(QueueUrl=url).get("Messages")

    sqs.change_message_visibility(
        QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
    )
    again = sqs.receive_message(
        QueueUrl=url, MessageSystemAttributeNames=["ApproximateReceiveCount"]
    )["Messages"]
    assert [m["Body"] for m in again] == ["now"]
    assert again[0]["Attributes"]["ApproximateReceiveCount"] == "2"

    with pytest.raises(ClientError) as caught:
        sqs.change_message_visibility(QueueUrl=url, ReceiptHandle="nonsense", VisibilityTimeout=0)
    assert caught.value.response["Error"]["Code"] == "ReceiptHandleIsInvalid"


def test_redrive_to_the_dead_letter_queue_still_works(sqs):
    dlq = _queue(sqs)
    arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = _queue(sqs, RedrivePolicy=f'{{"deadLetterTargetArn": "{arn}", "maxReceiveCount": "1"}}')
    sqs.send_message(QueueUrl=url, MessageBody="poison")
    assert sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)["Messages"]
    assert not sqs.receive_message(QueueUrl=url).get("Messages")  # moved on this receive

    (moved,) = sqs.receive_message(QueueUrl=dlq)["Messages"]
    assert moved["Body"] == "poison"
    sqs.delete_message(QueueUrl=dlq, ReceiptHandle=moved["ReceiptHandle"])
    assert _counts(sqs, dlq) == (0, 0, 0)


# -- the server's process ---------------------------------------------------------------


def test_start_moto_runs_the_fixed_server(tmp_path):
    with open(tmp_path / "moto.log", "wb") as log:
        process = embedded.start_moto(embedded.free_port(), stdout=log, stderr=log)
    try:
        assert process.args[1:3] == ["-m", "local.moto_server"] and "--stock" not in process.args
        sqs = aws_client("sqs", f"http://127.0.0.1:{process.args[-1]}")
        assert sqs.create_queue(QueueName="alive")["QueueUrl"].endswith("/alive")
    finally:
        embedded.stop([process])


def two_requests_on_one_connection(port: int) -> list[tuple[int, str | None]]:
    """(status, Connection header) of two GETs sent one after the other on one TCP connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    answers = []
    try:
        for _ in range(2):
            connection.request("GET", "/moto-api/data.json")
            response = connection.getresponse()
            response.read()
            answers.append((response.status, response.getheader("Connection")))
            if response.will_close:
                break
    finally:
        connection.close()
    return answers


@pytest.mark.parametrize(
    "flags, kept_alive", [([], True), (["--dev-server"], False)], ids=["default", "dev-server"]
)
def test_the_local_endpoint_keeps_connections_alive(tmp_path, flags, kept_alive):
    """gunicorn serves moto with keep-alive; werkzeug's development server closed every one."""
    port = embedded.free_port()
    with open(tmp_path / "moto.log", "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "local.moto_server", *flags, "-H", "127.0.0.1", "-p", str(port)],
            cwd=embedded.ROOT, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        embedded.wait_for_http(f"http://127.0.0.1:{port}/moto-api/", process=process)
        answers = two_requests_on_one_connection(port)
    finally:
        embedded.stop([process])
    if kept_alive:
        assert [status for status, _ in answers] == [200, 200]
        assert all(header != "close" for _, header in answers)
    else:
        assert answers == [(200, "close")]


def test_moto_access_log_is_off_unless_asked(tmp_path):
    for flags, logged in (([], False), (["--access-log"], True)):
        port = embedded.free_port()
        with open(tmp_path / f"moto-{port}.log", "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "local.moto_server", *flags,
                 "-H", "127.0.0.1", "-p", str(port)],
                cwd=embedded.ROOT, stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            embedded.wait_for_http(f"http://127.0.0.1:{port}/moto-api/", process=process)
            aws_client("sqs", f"http://127.0.0.1:{port}").create_queue(QueueName="logged")
        finally:
            embedded.stop([process])
        text = (tmp_path / f"moto-{port}.log").read_text()
        assert ('"POST / HTTP/1.1" 200' in text) is logged, text
