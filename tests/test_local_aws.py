"""local/moto_*.py: the embedded moto server keeps moto's answers while dropping its growing costs.

Most tests talk to the real server the fixtures start (embedded.start_moto,
i.e. `python -m local.moto_server`). The two that prove the mechanism itself (no
table copied, no queue counted on send) run moto in this process with the
same fixes applied.
"""

from __future__ import annotations

import copy
import subprocess
import sys
import threading
import uuid

import boto3
import pytest
from botocore.exceptions import ClientError

from local import launcher as embedded
from local import moto_dynamodb, moto_server, moto_sqs


def _client(service: str, endpoint: str):
    return boto3.client(
        service,
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


@pytest.fixture
def ddb(moto_endpoint):
    return _client("dynamodb", moto_endpoint)


@pytest.fixture
def sqs(moto_endpoint):
    return _client("sqs", moto_endpoint)


def _create_table(ddb, name: str, *keys: tuple[str, str]) -> None:
    """An on-demand table keyed by (attribute, type) pairs: the hash key, then any range key."""
    ddb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": attribute, "KeyType": role}
            for (attribute, _), role in zip(keys, ("HASH", "RANGE"), strict=False)
        ],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in keys],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def tables(ddb):
    """A hash-key table and a hash+range table, with a few items in each."""
    prefix = f"la{uuid.uuid4().hex[:10]}-"
    single, pairs = f"{prefix}items", f"{prefix}pairs"
    _create_table(ddb, single, ("id", "S"))
    _create_table(ddb, pairs, ("pk", "S"), ("sk", "S"))
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
        client = _client("dynamodb", moto_endpoint)
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


# -- the mechanism, in this process ------------------------------------------------------


@pytest.fixture
def in_process():
    from moto import mock_aws

    moto_server.apply()
    with mock_aws():
        yield


def test_transaction_copies_no_table(in_process, monkeypatch):
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.table import Table

    ddb = boto3.client("dynamodb", region_name="us-east-1")
    _create_table(ddb, "votes", ("id", "S"))
    ddb.put_item(TableName="votes", Item={"id": {"S": "old"}})
    copied: list[type] = []
    real_deepcopy = copy.deepcopy

    def spy(value, *args, **kwargs):
        copied.append(type(value))
        return real_deepcopy(value, *args, **kwargs)

    monkeypatch.setattr(copy, "deepcopy", spy)
    items = [{"Put": {"TableName": "votes", "Item": {"id": {"S": f"v{i}"}}}} for i in range(10)]
    ddb.transact_write_items(TransactItems=items)
    assert Table not in copied

    # moto's own code, called the same way, does copy the table (per item):
    # the spy above sees copies when there are some.
    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    more = [{"Put": {"TableName": "votes", "Item": {"id": {"S": f"w{i}"}}}} for i in range(3)]
    moto_dynamodb.stock_transact_write_items(backend, more)
    assert copied.count(Table) == 3


def test_send_and_receive_do_not_count_the_queue(in_process, monkeypatch):
    calls: list[str] = []
    real = moto_sqs._counts
    monkeypatch.setattr(moto_sqs, "_counts", lambda queue: calls.append(queue.name) or real(queue))
    sqs = boto3.client("sqs", region_name="us-east-1")
    url = sqs.create_queue(QueueName="q")["QueueUrl"]
    for i in range(30):
        sqs.send_message(QueueUrl=url, MessageBody=str(i))
    batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    sqs.delete_message_batch(
        QueueUrl=url,
        Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
    )
    assert calls == []
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    assert calls == ["q"]
    assert attrs["ApproximateNumberOfMessages"] == "20"


def test_apply_refuses_another_moto_version(monkeypatch):
    import moto

    monkeypatch.setattr(moto, "__version__", "9.9.9")
    with pytest.raises(RuntimeError, match="review"):
        moto_server.apply()


def test_start_moto_runs_the_fixed_server(tmp_path):
    with open(tmp_path / "moto.log", "wb") as log:
        process = embedded.start_moto(embedded.free_port(), stdout=log, stderr=log)
    try:
        assert process.args[1:3] == ["-m", "local.moto_server"] and "--stock" not in process.args
        sqs = _client("sqs", f"http://127.0.0.1:{process.args[-1]}")
        assert sqs.create_queue(QueueName="alive")["QueueUrl"].endswith("/alive")
    finally:
        embedded.stop([process])


def test_routing_answers_as_moto_does_and_lists_moto_once_per_host(monkeypatch):
    from moto import backends
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    moto_server.apply()
    listings: list[int] = []
    real = backends.list_of_moto_modules
    monkeypatch.setattr(backends, "list_of_moto_modules", lambda: listings.append(1) or real())
    dispatcher = DomainDispatcherApplication(create_app=lambda service: None)
    stock = moto_server._stock["get_backend_for_host"]
    hosts = ["dynamodb", "sqs.us-east-1.amazonaws.com", "moto_api", "s3.amazonaws.com", None]
    for _ in range(3):
        for host in hosts:
            assert dispatcher.get_backend_for_host(host) == stock(dispatcher, host)
    # The stock calls list moto's package every time; the fixed ones once per host
    # (moto_api and None are answered before any listing).
    stock_listings = 3 * 3
    assert len(listings) == stock_listings + 3


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
            _client("sqs", f"http://127.0.0.1:{port}").create_queue(QueueName="logged")
        finally:
            embedded.stop([process])
        text = (tmp_path / f"moto-{port}.log").read_text()
        assert ('"POST / HTTP/1.1" 200' in text) is logged, text


def test_scan_and_query_answers_are_moto_s_own_in_every_attribute_type(in_process, monkeypatch):
    from moto.dynamodb.responses import DynamoResult

    ddb = boto3.client("dynamodb", region_name="us-east-1")
    _create_table(ddb, "mixed", ("pk", "S"), ("sk", "N"))
    every_type = {
        "s": {"S": "text ü \" /"}, "n": {"N": "-1.50"}, "yes": {"BOOL": True},
        "none": {"NULL": True}, "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.5"]},
        "l": {"L": [{"S": "x"}, {"N": "3"}, {"M": {"deep": {"BOOL": False}}}]},
        "m": {"M": {"k": {"S": "v"}, "list": {"L": []}}},
    }  # fmt: skip
    for i in range(5):
        item = {"pk": {"S": "p"}, "sk": {"N": str(i)}, **every_type}
        if i == 3:  # binary: the one type that must still go through moto's serializer
            item |= {"b": {"B": b"\x00\xffbytes"}, "bs": {"BS": [b"\x01", b"\x02"]}}
        ddb.put_item(TableName="mixed", Item=item)

    requests = [
        ("scan", {"TableName": "mixed"}),
        ("scan", {"TableName": "mixed", "Limit": 2}),
        ("scan", {"TableName": "mixed", "Select": "COUNT"}),
        ("query", {"TableName": "mixed", "KeyConditionExpression": "pk = :p",
                   "ExpressionAttributeValues": {":p": {"S": "p"}}, "Limit": 3}),
        ("query", {"TableName": "mixed", "KeyConditionExpression": "pk = :p",
                   "ExpressionAttributeValues": {":p": {"S": "p"}},
                   "ProjectionExpression": "sk, l, m"}),
        ("query", {"TableName": "mixed", "KeyConditionExpression": "pk = :p AND sk = :three",
                   "ExpressionAttributeValues": {":p": {"S": "p"}, ":three": {"N": "3"}}}),
    ]  # fmt: skip

    def answers():
        found = []
        for operation, kwargs in requests:
            answer = getattr(ddb, operation)(**kwargs)
            answer.pop("ResponseMetadata")
            found.append(answer)
        return found

    stock = moto_dynamodb._stock["execute_result"]
    stock_calls: list[int] = []

    def counted(self, context):
        stock_calls.append(len(self.result.get("Items") or []))
        return stock(self, context)

    # The fast path again, now wrapped around a counting copy of moto's own.
    monkeypatch.setattr(moto_dynamodb, "_stock", dict(moto_dynamodb._stock))
    monkeypatch.setattr(DynamoResult, "execute_result", counted)
    moto_dynamodb._patch_item_results()
    fixed = answers()
    # moto's serializer saw only the answers holding the binary item (the whole
    # scan, the sk = 3 query) and the one without items (COUNT).
    assert stock_calls == [5, 0, 1]
    monkeypatch.setattr(DynamoResult, "execute_result", stock)
    assert fixed == answers()
    assert fixed[0]["Items"][3]["b"] == {"B": b"\x00\xffbytes"}
    assert fixed[2] == {"Count": 5, "ScannedCount": 5}
