"""local/moto_*.py, the mechanism itself, in this process: no table copied per transaction,
no queue counted on send or receive, routing and item answers exactly moto's own.

moto runs in process here (mock_aws with the same fixes applied); the fixed
server's answers over HTTP are tested in tests/integration/test_local_aws.py.
"""

from __future__ import annotations

import copy

import boto3
import pytest

from local import moto_dynamodb, moto_query, moto_server, moto_sqs
from tests.helpers.stacks import create_table

# An attribute of every type but binary (the one moto's serializer transforms).
EVERY_TYPE = {
    "s": {"S": "text ü \" /"}, "n": {"N": "-1.50"}, "yes": {"BOOL": True},
    "none": {"NULL": True}, "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.5"]},
    "l": {"L": [{"S": "x"}, {"N": "3"}, {"M": {"deep": {"BOOL": False}}}]},
    "m": {"M": {"k": {"S": "v"}, "list": {"L": []}}},
}  # fmt: skip


def answers_to(ddb, requests: list[tuple[str, dict]]) -> list[dict]:
    """Each (operation, kwargs)'s answer from the client, without its request metadata."""
    found = []
    for operation, kwargs in requests:
        answer = getattr(ddb, operation)(**kwargs)
        answer.pop("ResponseMetadata")
        found.append(answer)
    return found


def create_indexed_table(ddb, name: str) -> None:
    """pk, sk (strings) and a KEYS_ONLY index by-n: hash `of` (string), range `n` (number)."""
    ddb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t}
                              for n, t in (("pk", "S"), ("sk", "S"), ("of", "S"), ("n", "N"))],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                   {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{
            "IndexName": "by-n", "Projection": {"ProjectionType": "KEYS_ONLY"},
            "KeySchema": [{"AttributeName": "of", "KeyType": "HASH"},
                          {"AttributeName": "n", "KeyType": "RANGE"}],
        }],
        BillingMode="PAY_PER_REQUEST",
    )  # fmt: skip


def index_query(name: str) -> dict:
    """A Query of create_indexed_table's index by-n: every item it holds (of = "all")."""
    return {
        "TableName": name,
        "IndexName": "by-n",
        "KeyConditionExpression": "#o = :o",
        "ExpressionAttributeNames": {"#o": "of"},
        "ExpressionAttributeValues": {":o": {"S": "all"}},
    }


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
    create_table(ddb, "votes", ("id", "S"))
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


def test_scan_and_query_answers_are_moto_s_own_in_every_attribute_type(in_process, monkeypatch):
    from moto.dynamodb.responses import DynamoResult

    ddb = boto3.client("dynamodb", region_name="us-east-1")
    create_table(ddb, "mixed", ("pk", "S"), ("sk", "N"))
    every_type = EVERY_TYPE
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
        ("batch_get_item", {"RequestItems": {"mixed": {"Keys": [
            {"pk": {"S": "p"}, "sk": {"N": str(i)}} for i in (0, 4, 1)]}}}),
        ("batch_get_item", {"RequestItems": {"mixed": {"Keys": [
            {"pk": {"S": "p"}, "sk": {"N": str(i)}} for i in (2, 3)]}}}),
    ]  # fmt: skip

    def answers():
        return answers_to(ddb, requests)

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
    # scan, the sk = 3 query, the second BatchGetItem) and the one without items (COUNT).
    assert stock_calls == [5, 0, 1, 0]
    assert [len(answer["Responses"]["mixed"]) for answer in fixed[-2:]] == [3, 2]
    monkeypatch.setattr(DynamoResult, "execute_result", stock)
    assert fixed == answers()
    assert fixed[0]["Items"][3]["b"] == {"B": b"\x00\xffbytes"}
    assert fixed[2] == {"Count": 5, "ScannedCount": 5}


def test_single_item_answers_are_moto_s_own_in_every_attribute_type(in_process, monkeypatch):
    """Fix 6 for one item: a GetItem's Item and the Attributes a write returns."""
    from moto.dynamodb.responses import DynamoResult

    ddb = boto3.client("dynamodb", region_name="us-east-1")
    create_table(ddb, "single", ("pk", "S"), ("sk", "N"))
    every_type = EVERY_TYPE
    plain = {"pk": {"S": "p"}, "sk": {"N": "0"}, **every_type}
    binary = {"pk": {"S": "p"}, "sk": {"N": "1"}, "b": {"B": b"\x00\xff"}, **every_type}
    for item in (plain, binary):
        ddb.put_item(TableName="single", Item=item)

    def key(n):
        return {"pk": {"S": "p"}, "sk": {"N": str(n)}}

    same_s = {"UpdateExpression": "SET s = :s",
              "ExpressionAttributeValues": {":s": every_type["s"]}}  # fmt: skip
    # Each request leaves the table as it found it, so both runs see the same state.
    requests = [
        ("get_item", {"TableName": "single", "Key": key(0)}),
        ("get_item", {"TableName": "single", "Key": key(0), "ProjectionExpression": "l, m"}),
        ("get_item", {"TableName": "single", "Key": key(1)}),
        ("get_item", {"TableName": "single", "Key": key(9)}),
        *[("update_item", {"TableName": "single", "Key": key(0), "ReturnValues": returned,
                           **same_s})
          for returned in ("ALL_NEW", "ALL_OLD", "UPDATED_NEW", "UPDATED_OLD", "NONE")],
        ("update_item", {"TableName": "single", "Key": key(1), "ReturnValues": "ALL_NEW",
                         **same_s}),
        ("put_item", {"TableName": "single", "Item": plain, "ReturnValues": "ALL_OLD"}),
        ("delete_item", {"TableName": "single", "Key": key(0), "ReturnValues": "ALL_OLD"}),
        ("put_item", {"TableName": "single", "Item": plain}),
    ]  # fmt: skip

    stock = moto_dynamodb._stock["execute_result"]
    stock_answers: list[list[str]] = []

    def counted(self, context):
        stock_answers.append(sorted(self.result))
        return stock(self, context)

    monkeypatch.setattr(moto_dynamodb, "_stock", dict(moto_dynamodb._stock))
    monkeypatch.setattr(DynamoResult, "execute_result", counted)
    moto_dynamodb._patch_item_results()
    fixed = answers_to(ddb, requests)
    # moto's serializer saw only the answers holding the binary item and those without
    # an item: the missed GetItem, the updates returning none (an empty UPDATED_NEW
    # as SET found the same value, UPDATED_OLD, NONE), the put without a return.
    binary_item, nothing, capacity = ["Item"], [], ["ConsumedCapacity"]
    assert stock_answers == [
        binary_item,
        nothing,
        ["Attributes", *capacity],
        capacity,
        capacity,
        ["Attributes", *capacity],
        nothing,
    ]
    monkeypatch.setattr(DynamoResult, "execute_result", stock)
    assert fixed == answers_to(ddb, requests)
    assert fixed[0]["Item"] == plain and fixed[2]["Item"]["b"] == {"B": b"\x00\xff"}
    assert fixed[1]["Item"] == {"l": every_type["l"], "m": every_type["m"]}
    assert fixed[4]["Attributes"] == plain and fixed[5]["Attributes"] == plain
    assert fixed[10]["Attributes"] == plain and fixed[11]["Attributes"] == plain


def test_projections_and_sorting_answer_as_moto_s_own(in_process, monkeypatch):
    """Fixes 8 and 9: projected items, sort orders and the Query candidates give moto's own
    answers, nested paths, paging and limits included."""
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table

    ddb = boto3.client("dynamodb", region_name="us-east-1")
    create_indexed_table(ddb, "ranked")
    for i, n in enumerate([9, 10, -2, 10, 0.5, 100, 3]):
        item = {
            "pk": {"S": f"p{i % 2}"},
            "sk": {"S": f"s{i}"},
            "n": {"N": str(n)},
            "m": {"M": {"k": {"S": "v"}}},
            "l": {"L": [{"S": "x"}, {"N": "3"}]},
        }
        if i != 2:  # sparse: one item is not in the index
            item["of"] = {"S": "all"}
        ddb.put_item(TableName="ranked", Item=item)
    by_n = index_query("ranked")
    requests = [
        ("query", {**by_n, "ScanIndexForward": False}),
        ("query", {**by_n, "Limit": 3}),
        ("query", {**by_n, "ProjectionExpression": "sk, #o"}),
        ("query", {"TableName": "ranked", "KeyConditionExpression": "pk = :p AND sk < :s",
                   "ExpressionAttributeValues": {":p": {"S": "p0"}, ":s": {"S": "s6"}},
                   "ProjectionExpression": "sk, n, m.k, l[1]"}),
        ("scan", {"TableName": "ranked", "ProjectionExpression": "sk, pk"}),
        ("get_item", {"TableName": "ranked", "Key": {"pk": {"S": "p1"}, "sk": {"S": "s1"}},
                      "ProjectionExpression": "n, nowhere"}),
    ]  # fmt: skip

    def answers():
        return answers_to(ddb, requests)

    fixed = answers()
    assert [i["n"]["N"] for i in fixed[0]["Items"]] == ["100", "10", "10", "9", "3", "0.5"]
    monkeypatch.setattr(Item, "project", moto_dynamodb._stock["project"])
    monkeypatch.setattr(Table, "sorted_items", moto_dynamodb._stock["sorted_items"])
    monkeypatch.setattr(Table, "all_items", moto_dynamodb._stock["all_items"])
    monkeypatch.setattr(Table, "query", moto_query._stock["query"])
    assert fixed == answers()


def test_query_candidates_and_sorted_views_answer_as_moto_s_own(in_process, monkeypatch):
    """Fixes 9 to 11: every key condition, on string and number sort keys and an index,
    both directions, limits and pages, gives moto's own answer, before and after each
    kind of write; a read keeps the sorted views and the sizes it measured, a write
    drops them; answering leaves the stored values as they were."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.dynamodb.models.dynamo_type import Item
    from moto.dynamodb.models.table import Table

    ddb = boto3.client("dynamodb", region_name="us-east-1")
    create_indexed_table(ddb, "keyed")
    create_table(ddb, "numbered", ("pk", "S"), ("sk", "N"))
    slots = ["a", "ab", "abc", "abd", "b", "b#1", "c", "text:x#0", "~text:x#0", "~text:y#0", "é"]
    for i, sk in enumerate(slots):
        item = {"pk": {"S": f"p{i % 2}"}, "sk": {"S": sk}, "n": {"N": str((i * 7) % 5)}}
        if i % 3:  # sparse: every third item is not in the index
            item["of"] = {"S": "all"}
        ddb.put_item(TableName="keyed", Item=item)
        ddb.put_item(TableName="numbered",
                     Item={"pk": {"S": "p"}, "sk": {"N": str(i - 4.5)}})  # fmt: skip

    def keyed(condition: str, **values):
        return {"TableName": "keyed", "KeyConditionExpression": f"pk = :p AND {condition}",
                "ExpressionAttributeValues": {":p": {"S": "p0"}} | {
                    f":{k}": {"S": v} for k, v in values.items()}}  # fmt: skip

    by_n = index_query("keyed")
    numbered = {"TableName": "numbered",
                "KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b",
                "ExpressionAttributeValues": {":p": {"S": "p"}, ":a": {"N": "-2"},
                                              ":b": {"N": "3.5"}}}  # fmt: skip
    requests = [
        ("query", keyed("sk = :v", v="abc")),
        ("query", keyed("sk = :v", v="nothing")),
        ("query", keyed("sk < :v", v="~")),
        ("query", keyed("sk <= :v", v="b")),
        ("query", keyed("sk > :v", v="ab")),
        ("query", {**keyed("sk >= :v", v="b"), "ScanIndexForward": False}),
        ("query", keyed("sk BETWEEN :v AND :w", v="ab", w="c")),
        ("query", keyed("begins_with(sk, :v)", v="ab")),
        ("query", keyed("begins_with(sk, :v)", v="~text:")),
        ("query", {**keyed("sk < :v", v="~"), "Limit": 2}),
        ("query", {**keyed("sk < :v", v="~"), "Limit": 2,
                   "ExclusiveStartKey": {"pk": {"S": "p0"}, "sk": {"S": "abc"}}}),
        ("query", {"TableName": "keyed", "KeyConditions": {
            "pk": {"AttributeValueList": [{"S": "p1"}], "ComparisonOperator": "EQ"},
            "sk": {"AttributeValueList": [{"S": "b"}], "ComparisonOperator": "LT"}}}),
        ("query", {"TableName": "keyed", "KeyConditions": {
            "pk": {"AttributeValueList": [{"S": "p1"}], "ComparisonOperator": "EQ"},
            "sk": {"AttributeValueList": [{"S": "a"}], "ComparisonOperator": "BEGINS_WITH"}}}),
        ("query", numbered),
        ("query", {**numbered, "ScanIndexForward": False, "Limit": 3}),
        ("query", {**by_n, "ScanIndexForward": False, "Limit": 3}),
        ("query", {**by_n, "Limit": 2}),
        ("query", by_n),
        ("query", {**by_n, "KeyConditionExpression": "#o = :o AND n > :z",
                   "ExpressionAttributeValues": {":o": {"S": "all"}, ":z": {"N": "1"}}}),
    ]  # fmt: skip

    def stock_answers():
        fixed_query, fixed_size = Table.query, Item.size
        Table.query, Item.size = moto_query._stock["query"], moto_query._stock["size"]
        try:
            return answers_to(ddb, requests)
        finally:
            Table.query, Item.size = fixed_query, fixed_size

    def table():
        return dynamodb_backends["123456789012"]["us-east-1"].get_table("keyed")

    def views():
        made_at, found = table().__dict__.get("_sorted_views", (None, None))
        return found if made_at == moto_dynamodb.writes() else None  # None: out of date

    def stored():
        """Every stored item's attributes, and the identity of each value."""
        items = [i for partition in table().items.values() for i in partition.values()]
        return [(i.to_json(), [id(v) for v in i.attrs.values()]) for i in items]

    def sizes_while_reading():
        """Each stored item's size as a read measures it (the light copies' memo), and as
        moto does."""
        items = [i for partition in table().items.values() for i in partition.values()]
        monkeypatch.setattr(moto_dynamodb, "_reading", True)
        try:
            return [(i.size(), moto_query._stock["size"](i)) for i in items]
        finally:
            monkeypatch.setattr(moto_dynamodb, "_reading", False)

    writes = [
        ("put_item", {"TableName": "keyed", "Item": {"pk": {"S": "p0"}, "sk": {"S": "abb"},
                                                     "n": {"N": "9"}, "of": {"S": "all"}}}),
        # An item the reads measured (p0's b), changed in place and one byte longer.
        ("update_item", {"TableName": "keyed", "Key": {"pk": {"S": "p0"}, "sk": {"S": "b"}},
                         "UpdateExpression": "SET n = :n",
                         "ExpressionAttributeValues": {":n": {"N": "-3"}}}),
        ("update_item", {"TableName": "keyed", "Key": {"pk": {"S": "p1"}, "sk": {"S": "b"}},
                         "UpdateExpression": "SET n = :n",
                         "ExpressionAttributeValues": {":n": {"N": "-3"}}}),
        ("delete_item", {"TableName": "keyed", "Key": {"pk": {"S": "p0"}, "sk": {"S": "abc"}}}),
        ("transact_write_items", {"TransactItems": [{"Update": {
            "TableName": "keyed", "Key": {"pk": {"S": "p0"}, "sk": {"S": "~text:z#0"}},
            "UpdateExpression": "SET n = :n, #o = :o", "ExpressionAttributeNames": {"#o": "of"},
            "ExpressionAttributeValues": {":n": {"N": "4"}, ":o": {"S": "all"}}}}]}),
        ("batch_write_item", {"RequestItems": {"numbered": [
            {"PutRequest": {"Item": {"pk": {"S": "p"}, "sk": {"N": "0.25"}}}}]}}),
    ]  # fmt: skip
    before = stored()
    fixed = answers_to(ddb, requests)
    assert stored() == before  # the light copies: the answers changed no stored value
    assert fixed == stock_answers()
    # p0 holds a, abc, b, c, ~text:x#0 and é; p1 the others.
    assert [i["sk"]["S"] for i in fixed[2]["Items"]] == ["a", "abc", "b", "c"]
    assert [i["sk"]["S"] for i in fixed[7]["Items"]] == ["abc"]
    assert [i["sk"]["S"] for i in fixed[8]["Items"]] == ["~text:x#0"]
    made = views()
    assert made  # the reads made views...
    answers_to(ddb, requests)
    assert views() is made  # ...and the next reads used them
    for operation, kwargs in writes:
        getattr(ddb, operation)(**kwargs)
        assert views() is None  # a write puts them out of date, before any Query
        fixed = answers_to(ddb, requests)
        assert fixed == stock_answers(), operation
        made = views()
        assert all(memo == stock for memo, stock in sizes_while_reading()), operation
