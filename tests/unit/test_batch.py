"""The batch transaction (core/aws/batch.py) without a server: the items it sends, how it
reads a cancellation, and how `record` splits a batch when some votes are redeliveries.

`record` runs against a stand-in client whose transact_write_items fails the way
DynamoDB does (botocore's ClientError with CancellationReasons), so no moto here.
"""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from core.aws.batch import BatchWriter, read_cancellation
from core.aws.codec import topic_item
from core.aws.errors import BallotChanged, TopicChanged, WriteRetryable
from core.rules.errors import StoreUnavailable
from core.rules.votes import ANY_BALLOT, VoteMessage, VoteWrite

AT = "2030-01-01T00:00:0{}.000000"


def write(vote_id, topic="t1", choice="a", status="counted", shard=0, second=1, **plan):
    vote = VoteMessage(id=vote_id, topic_id=topic, choice_id=choice, queued_at=AT.format(second))
    return VoteWrite(vote, status, shard=shard, created="2030-01-01T00:00:09.000000", **plan)


def kinds(items: list[dict]) -> list[tuple[str, str]]:
    """(operation, table) of each transaction item."""
    return [(op, body["TableName"]) for item in items for op, body in item.items()]


def tally_adds(items: list[dict]) -> dict[str, int]:
    """{"<topic>/<slot>": count} of the tally ADDs among the items."""
    return {
        f"{u['Key']['topic_id']['S']}/{u['Key']['slot']['S']}": int(
            u["ExpressionAttributeValues"][":n"]["N"]
        )
        for item in items
        if (u := item.get("Update")) and u["TableName"].endswith("tallies")
    }


def cancelled(*codes: str, items: dict | None = None) -> ClientError:
    """A TransactionCanceledException as botocore raises it, one reason per item."""
    reasons = [{"Code": code} for code in codes]
    for position, item in (items or {}).items():
        reasons[position]["Item"] = item
    response = {
        "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
        "CancellationReasons": reasons,
    }
    return ClientError(response, "TransactWriteItems")


def failed(code: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"{code}!"}}, "TransactWriteItems")


class FakeDynamo:
    """transact_write_items that raises the given errors in turn, then succeeds."""

    def __init__(self, *errors: Exception):
        self.errors = list(errors)
        self.calls: list[list[dict]] = []

    def transact_write_items(self, TransactItems):  # noqa: N803 - boto3's parameter name
        self.calls.append(TransactItems)
        if self.errors:
            raise self.errors.pop(0)
        return {}


# -- the transaction's items -------------------------------------------------------------------


def test_each_vote_is_a_conditional_put_then_one_check_per_topic_then_tally_adds():
    writes = [
        write("1", shard=2, second=1),
        write("2", shard=2, second=3),
        write("3", choice="b", shard=2, second=2),
        write("4", choice="c", status="rejected", reason="choice_removed", shard=2, second=5),
    ]
    items, owners = BatchWriter(None, "p-").transaction(writes)
    assert kinds(items) == [("Put", "p-votes")] * 4 + [
        ("ConditionCheck", "p-topics"),
        ("Update", "p-tallies"),
        ("Update", "p-tallies"),
    ]
    assert owners == [*writes, ("topic", "t1"), ("tally", "t1"), ("tally", "t1")]
    for item, planned in zip(items, writes, strict=False):
        assert item["Put"]["ConditionExpression"] == "attribute_not_exists(id)"
        assert item["Put"]["Item"]["id"] == {"S": planned.vote_id}
    assert items[0]["Put"]["Item"]["shard"] == {"N": "2"}
    assert "shard" not in items[3]["Put"]["Item"]  # rejected: on no tally
    assert items[3]["Put"]["Item"]["reason"] == {"S": "choice_removed"}
    assert tally_adds(items) == {"t1/a#2": 2, "t1/b#2": 1}
    add = items[5]["Update"]
    assert add["UpdateExpression"] == "ADD #count :n SET choice_id = :c"
    assert add["ExpressionAttributeValues"][":c"] == {"S": "a"}


def test_the_topic_check_holds_policy_latest_vote_and_every_voted_choice():
    # The latest vote is the latest queued, not the last in the batch; the
    # earliest must be inside the topic's current open period; a closed
    # topic still takes votes queued before its close (closed_at after the latest).
    writes = [write("1", choice="b", second=7), write("2", choice="a", second=4)]
    items, _ = BatchWriter(None).transaction(writes)
    check = items[2]["ConditionCheck"]
    assert check["Key"] == {"id": {"S": "t1"}}
    assert check["ConditionExpression"] == (
        "(is_active = :active OR closed_at > :latest)"
        " AND (vote_limit = :policy OR attribute_not_exists(vote_limit))"
        " AND (attribute_not_exists(closes_at) OR closes_at > :latest)"
        " AND (attribute_not_exists(opened_at) OR opened_at <= :earliest)"
        " AND (generation = :generation OR attribute_not_exists(generation))"
        " AND contains(choice_ids, :c0) AND contains(choice_ids, :c1)"
    )
    assert check["ExpressionAttributeValues"] == {
        ":active": {"BOOL": True},
        ":policy": {"S": "unlimited"},
        ":latest": {"S": AT.format(7)},
        ":earliest": {"S": AT.format(4)},
        ":generation": {"N": "0"},
        ":c0": {"S": "a"},
        ":c1": {"S": "b"},
    }
    assert check["ReturnValuesOnConditionCheckFailure"] == "ALL_OLD"


def test_a_limited_topic_check_needs_the_stored_vote_limit():
    items, _ = BatchWriter(None).transaction([write("1", policy="changeable")])
    check = items[1]["ConditionCheck"]
    assert "vote_limit = :policy AND" in check["ConditionExpression"]
    assert "attribute_not_exists(vote_limit)" not in check["ConditionExpression"]
    assert check["ExpressionAttributeValues"][":policy"] == {"S": "changeable"}


def test_one_check_per_topic_with_counted_votes_and_an_existence_check_for_refused_only():
    writes = [
        write("1", "t1"),
        write("2", "t2", shard=1),
        write("3", "t1", choice="b"),
        write("4", "t3", status="rejected", reason="topic_closed"),
        write("5", "t1", status="rejected", reason="choice_removed"),
    ]
    items, owners = BatchWriter(None).transaction(writes)
    assert [o for o in owners if not isinstance(o, VoteWrite)] == [
        ("topic", "t1"),
        ("topic", "t2"),
        ("topic", "t3"),
        ("tally", "t1"),
        ("tally", "t2"),
        ("tally", "t1"),
    ]
    assert tally_adds(items) == {"t1/a#0": 1, "t2/a#1": 1, "t1/b#0": 1}
    # t3's votes are all refused: its records may be written only while it exists
    # (a deleted topic's queued votes go to the DLQ, never leave records behind).
    exists = items[owners.index(("topic", "t3"))]["ConditionCheck"]
    assert exists["Key"] == {"id": {"S": "t3"}}
    assert exists["ConditionExpression"] == "attribute_exists(id)"


@pytest.mark.parametrize(
    ("expect_vote_id", "condition"),
    [
        (None, {"ConditionExpression": "attribute_not_exists(voter_id)"}),
        (ANY_BALLOT, {}),
        (
            "v-old",
            {
                "ConditionExpression": "vote_id = :standing",
                "ExpressionAttributeValues": {":standing": {"S": "v-old"}},
            },
        ),
    ],
)
def test_the_ballot_put_is_guarded_by_what_the_plan_read(expect_vote_id, condition):
    ballot = {"topic_id": "t1", "voter_id": "ann", "vote_id": "1", "choice_id": "a",
              "queued_at": AT.format(1)}  # fmt: skip
    planned = write("1", shard=3, ballot=ballot, expect_vote_id=expect_vote_id)
    items, owners = BatchWriter(None, "p-").transaction([planned])
    put = items[1]["Put"]
    assert owners[1] == ("ballot", ("t1", "ann"))
    assert put["TableName"] == "p-ballots"
    assert put["Item"] == {key: {"S": value} for key, value in ballot.items()} | {
        "shard": {"N": "3"}
    }
    assert {k: v for k, v in put.items() if k not in ("TableName", "Item")} == condition


def test_a_replaced_vote_comes_off_its_own_shard_and_is_marked_replaced():
    stored = {"vote_id": "old", "choice_id": "a", "queued_at": AT.format(0), "shard": 1}
    ballot = {"topic_id": "t1", "voter_id": "ann", "vote_id": "new", "choice_id": "b",
              "queued_at": AT.format(1)}  # fmt: skip
    planned = write("new", choice="b", shard=3, policy="changeable", ballot=ballot,
                    expect_vote_id="old", replaces=stored)  # fmt: skip
    items, owners = BatchWriter(None).transaction([planned])
    assert owners[:3] == [planned, ("ballot", ("t1", "ann")), ("replaced", "old")]
    mark = items[2]["Update"]
    assert mark["Key"] == {"id": {"S": "old"}}
    assert mark["ConditionExpression"] == "#status = :counted"
    assert mark["ExpressionAttributeValues"][":replaced"] == {"S": "replaced"}
    assert tally_adds(items) == {"t1/b#3": 1, "t1/a#1": -1}


def test_a_vote_moved_within_one_slot_adds_nothing():
    stored = {"vote_id": "old", "choice_id": "a", "queued_at": AT.format(0), "shard": 2}
    planned = write("new", shard=2, policy="changeable", expect_vote_id="old", replaces=stored,
                    ballot={"topic_id": "t1", "voter_id": "ann", "vote_id": "new"})  # fmt: skip
    items, owners = BatchWriter(None).transaction([planned])
    assert tally_adds(items) == {}
    assert ("replaced", "old") in owners and ("topic", "t1") in owners


# -- reading a cancellation --------------------------------------------------------------------


def test_failed_vote_puts_are_the_duplicates():
    writes = [write("1"), write("2"), write("3")]
    owners = [*writes, ("topic", "t1"), ("tally", "t1")]
    codes = ["ConditionalCheckFailed", "None", "ConditionalCheckFailed", "None", "None"]
    reasons = [{"Code": c} for c in codes]
    assert read_cancellation(reasons, owners) == [writes[0], writes[2]]
    assert read_cancellation([{}, {"Code": "None"}], owners) == []  # no code: nothing failed


def test_a_failed_topic_check_says_how_the_topic_is_now():
    owners = [write("1"), ("topic", "t1")]
    stored = {"id": "t1", "created": "c", "last_upd": "u", "is_active": False, "title": "T",
              "choices": [{"id": "a", "description": "A"}]}  # fmt: skip
    reasons = [{"Code": "None"}, {"Code": "ConditionalCheckFailed", "Item": topic_item(stored)}]
    with pytest.raises(TopicChanged) as changed:
        read_cancellation(reasons, owners)
    assert changed.value.topic_id == "t1"
    assert changed.value.topic == {
        **stored,
        "vote_limit": "unlimited",
        "results_visibility": "always",
        "closes_at": None,
        "tally_shards": None,
        "listed": True,
        # The question settings: a topic stored before them is single choice.
        "type": "single",
        "min_choices": 1,
        "max_choices": None,
        "rank_top": None,
        "scale_min": 1,
        "scale_max": 5,
        "rate_each": False,
        "blocked_answers": [],
        "hidden_answers": [],
        "runoff": None,
    }
    # A topic deleted meanwhile: the check fails with no item.
    with pytest.raises(TopicChanged) as gone:
        read_cancellation([{"Code": "None"}, {"Code": "ConditionalCheckFailed"}], owners)
    assert gone.value.topic is None


@pytest.mark.parametrize("owner", [("ballot", ("t1", "ann")), ("replaced", "old")])
def test_a_ballot_moved_by_another_worker_is_ballot_changed(owner):
    with pytest.raises(BallotChanged):
        read_cancellation([{}, {"Code": "ConditionalCheckFailed"}], [write("1"), owner])


@pytest.mark.parametrize("owner", [("ballot", ("t1", "ann")), ("replaced", "old")])
def test_a_failed_topic_check_wins_over_a_moved_ballot_in_the_same_cancel(owner):
    """A pre-reset vote meeting the new generation's ballot fails both guards; only the
    topic as stored lets the re-plan refuse it (a re-read ballot plans it the same)."""
    owners = [write("1"), owner, ("topic", "t1"), ("tally", "t1")]
    failed = {"Code": "ConditionalCheckFailed"}
    with pytest.raises(TopicChanged) as changed:
        read_cancellation([{"Code": "None"}, failed, failed, {"Code": "None"}], owners)
    assert changed.value.topic_id == "t1"
    # Without a failed topic check it is still a moved ballot, even beside a failed take.
    owners[3] = ("take", "t1")
    with pytest.raises(BallotChanged):
        read_cancellation([{"Code": "None"}, failed, {"Code": "None"}, failed], owners)


def test_conflicts_and_throttling_are_retryable_unless_duplicates_explain_the_cancel():
    owners = [write("1"), write("2"), ("tally", "t1")]
    with pytest.raises(WriteRetryable, match="TransactionConflict"):
        read_cancellation([{"Code": "None"}, {"Code": "TransactionConflict"}], owners)
    for code in ("ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"):
        with pytest.raises(WriteRetryable, match=code):
            read_cancellation([{"Code": code}], owners)
    mixed = [{"Code": "ConditionalCheckFailed"}, {"Code": "TransactionConflict"}]
    assert read_cancellation(mixed, owners) == [owners[0]]


def test_an_unexpected_code_is_store_unavailable():
    reasons = [{"Code": "ValidationError", "Message": "Item size exceeded"}]
    with pytest.raises(StoreUnavailable, match="ValidationError Item size exceeded"):
        read_cancellation(reasons, [write("1")])


# -- record: one transaction, redeliveries dropped ---------------------------------------------


def test_record_drops_a_redelivered_vote_and_commits_the_rest():
    writes = [write("1"), write("2", choice="b")]
    client = FakeDynamo(cancelled("ConditionalCheckFailed", "None", "None", "None", "None"))
    outcome = BatchWriter(client).record(writes)
    assert outcome.duplicates == [writes[0]] and outcome.recorded == [writes[1]]
    first, second = client.calls
    assert len(first) == 5  # two puts, the topic check, two tally adds
    assert [i["Put"]["Item"]["id"]["S"] for i in second if "Put" in i] == ["2"]
    assert tally_adds(second) == {"t1/b#0": 1}


def test_record_of_a_batch_that_is_all_redeliveries_writes_nothing_more():
    writes = [write("1")]
    client = FakeDynamo(cancelled("ConditionalCheckFailed", "None", "None"))
    outcome = BatchWriter(client).record(writes)
    assert (outcome.recorded, outcome.duplicates) == ([], writes)
    assert len(client.calls) == 1


def test_record_without_failure_records_everything_in_one_call():
    writes = [write("1"), write("2")]
    client = FakeDynamo()
    assert BatchWriter(client).record(writes).recorded == writes
    assert len(client.calls) == 1


@pytest.mark.parametrize(
    "code", ["ThrottlingException", "ProvisionedThroughputExceededException", "InternalServerError"]
)
def test_record_reports_throttling_as_retryable(code):
    with pytest.raises(WriteRetryable, match=code) as caught:
        BatchWriter(FakeDynamo(failed(code))).record([write("1")])
    assert isinstance(caught.value.__cause__, ClientError)


def test_record_reports_a_cancelled_conflict_as_retryable():
    client = FakeDynamo(cancelled("None", "None", "TransactionConflict"))
    with pytest.raises(WriteRetryable, match="TransactionConflict"):
        BatchWriter(client).record([write("1")])


def test_record_turns_other_errors_into_store_unavailable():
    with pytest.raises(StoreUnavailable, match="AccessDeniedException"):
        BatchWriter(FakeDynamo(failed("AccessDeniedException"))).record([write("1")])
    unreachable = EndpointConnectionError(endpoint_url="http://127.0.0.1:9")
    with pytest.raises(StoreUnavailable, match="Could not connect"):
        BatchWriter(FakeDynamo(unreachable)).record([write("1")])
    # A cancellation without reasons says nothing about the items: unavailable too.
    bare = failed("TransactionCanceledException")
    with pytest.raises(StoreUnavailable):
        BatchWriter(FakeDynamo(bare)).record([write("1")])


# -- resets: generations --------------------------------------------------------------------


def reset_write(vote_id, generation, **plan):
    vote = VoteMessage(id=vote_id, topic_id="t1", choice_id="a", queued_at=AT.format(1),
                       generation=generation, voter_id="v")  # fmt: skip
    return VoteWrite(vote, "counted", created=AT.format(9), **plan)


def test_after_a_reset_the_check_holds_the_generation_and_tallies_count_under_its_key():
    items, owners = BatchWriter(None).transaction([reset_write("1", 2)])
    check = items[owners.index(("topic", "t1"))]["ConditionCheck"]
    assert " AND generation = :generation AND " in check["ConditionExpression"]
    assert "attribute_not_exists(generation)" not in check["ConditionExpression"]
    assert check["ExpressionAttributeValues"][":generation"] == {"N": "2"}
    assert tally_adds(items) == {"t1#2/a#0": 1}
    assert items[0]["Put"]["Item"]["generation"] == {"N": "2"}


def test_a_first_ballot_after_a_reset_may_replace_only_an_older_generations():
    ballot = {"topic_id": "t1", "voter_id": "v", "vote_id": "1", "generation": 2}
    items, _ = BatchWriter(None).transaction(
        [reset_write("1", 2, ballot=ballot, expect_vote_id=None)]
    )
    put = items[1]["Put"]
    assert put["ConditionExpression"] == (
        "attribute_not_exists(voter_id) OR attribute_not_exists(generation)"
        " OR generation < :generation"
    )
    assert put["ExpressionAttributeValues"] == {":generation": {"N": "2"}}


def test_a_replaced_vote_comes_off_its_generations_tally():
    old = {"vote_id": "0", "choice_id": "b", "shard": 3}
    items, _ = BatchWriter(None).transaction(
        [reset_write("1", 1, ballot={"topic_id": "t1", "voter_id": "v"}, expect_vote_id="0",
                     replaces=old, policy="changeable")]
    )  # fmt: skip
    assert tally_adds(items) == {"t1#1/a#0": 1, "t1#1/b#3": -1}
