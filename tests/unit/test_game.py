"""The game's rival takes (core/rules/game.py) and how the batch transaction carries them
(core/aws/batch.py), no server: the pick, the simulation in queue order, the
conditional take on the rival's slot, and the cancellations that make the worker re-plan.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest
from botocore.exceptions import ClientError

from core.aws.batch import BatchOutcome, BatchWriter, read_cancellation
from core.aws.errors import TalliesChanged
from core.aws.queue import Message
from core.rules.game import pick_rival, plan_takes, standing_keys, standings_of, take_counts
from core.rules.votes import VoteMessage, VoteWrite
from core.services.worker import MAX_WRITE_ATTEMPTS, VoteWorker
from core.settings import Settings

GAME = {"type": "game"}


def game_write(vote_id, choice="a", second=1, shard=0, topic="t1", status="counted", **extra):
    vote = VoteMessage(
        id=vote_id, topic_id=topic, choice_id=choice, rules=GAME,
        queued_at=f"2030-01-01T00:00:{second:02d}.000000", **extra,
    )  # fmt: skip
    return VoteWrite(vote, status, shard=shard, created="2030-01-01T00:01:00.000000")


class Dynamo:
    """transact_write_items that answers each call with `answer(items)`: None commits,
    a list of cancellation codes (one per item) cancels."""

    def __init__(self, answer):
        self.answer = answer
        self.calls: list[list[dict]] = []

    def transact_write_items(self, TransactItems):  # noqa: N803 - boto3's parameter name
        self.calls.append(TransactItems)
        codes = self.answer(TransactItems)
        if codes:
            reasons = [{"Code": code} for code in codes]
            error = {"Code": "TransactionCanceledException", "Message": "cancelled"}
            raise ClientError({"Error": error, "CancellationReasons": reasons}, "TransactWrite")
        return {}


def adds(items: list[dict]) -> dict[str, int]:
    """{slot: count} of the transaction's tally updates."""
    return {
        u["Key"]["slot"]["S"]: int(u["ExpressionAttributeValues"][":n"]["N"])
        for item in items
        if (u := item.get("Update")) and u["TableName"].endswith("tallies")
    }


def always(n_index):
    """A chooser that always answers `n_index` (clamped below n)."""
    return lambda n: min(n_index, n - 1)


# -- the pick ----------------------------------------------------------------------------------


def test_no_rival_with_a_vote_means_no_take():
    assert pick_rival({}, "a") is None
    assert pick_rival({("a", 0): 5, ("b", 0): 0}, "a") is None  # only its own votes


def test_the_pick_walks_the_rivals_slots_in_order_by_their_votes():
    standings = {("a", 0): 9, ("b", 1): 2, ("b", 0): 1, ("c", 0): 3}
    # Rival slots sorted: b#0 (1), b#1 (2), c#0 (3): points 0 | 1-2 | 3-5.
    picks = [pick_rival(standings, "a", always(point)) for point in range(6)]
    assert (
        picks
        == [{"choice_id": "b", "shard": 0}]
        + [{"choice_id": "b", "shard": 1}] * 2
        + [{"choice_id": "c", "shard": 0}] * 3
    )


def test_the_pick_is_proportional_to_standing_votes():
    standings = {("a", 0): 100, ("b", 0): 30, ("c", 0): 10}
    rng = random.Random(13)
    picks = Counter(pick_rival(standings, "a", rng.randrange)["choice_id"] for _ in range(4000))
    # b holds 3/4 of the rivals' votes: 3000 expected; a 5-sigma band (sigma ~27).
    assert 2860 < picks["b"] < 3140 and picks["b"] + picks["c"] == 4000


def test_a_chooser_answering_out_of_range_is_a_bug_not_a_silent_pick():
    with pytest.raises(AssertionError):
        pick_rival({("b", 0): 1}, "a", lambda n: n)


def test_standings_are_the_choices_own_slots():
    slots = {"a#0": 3, "a#2": 1, "cast:a#0": 7, "taken:b#1": 2, "b#1": 0}
    assert standings_of(slots) == {("a", 0): 3, ("a", 2): 1, ("b", 1): 0}


# -- the plan ----------------------------------------------------------------------------------


def test_each_vote_takes_in_queue_order_on_the_counts_as_they_evolve():
    # Stored: b has one vote. Vote 1 (for a, queued first) takes it; vote 2 (for c)
    # then finds only a's new vote to take; vote 3 (for b) finds c's.
    writes = [game_write("2", "c", second=2), game_write("3", "b", second=3),
              game_write("1", "a", second=1)]  # fmt: skip
    plan_takes(writes, {("t1", 0): {("b", 0): 1}}, always(0))
    took = {w.vote_id: w.took for w in writes}
    assert took == {
        "1": {"choice_id": "b", "shard": 0},
        "2": {"choice_id": "a", "shard": 0},
        "3": {"choice_id": "c", "shard": 0},
    }
    assert writes[2].counts == {"a": 1, "cast:a": 1, "b": -1, "taken:b": 1}


def test_votes_of_an_empty_game_take_nothing_until_a_rival_has_a_vote():
    writes = [game_write("1", "a", second=1), game_write("2", "a", second=2),
              game_write("3", "b", second=3)]  # fmt: skip
    plan_takes(writes, {}, always(0))
    assert [w.took for w in writes] == [None, None, {"choice_id": "a", "shard": 0}]
    assert writes[0].counts == {"a": 1, "cast:a": 1}


def test_a_take_never_leaves_a_simulated_slot_negative():
    rng = random.Random(5)
    for _ in range(50):
        writes = [game_write(str(i), rng.choice("abc"), second=i, shard=rng.randrange(3))
                  for i in range(10)]  # fmt: skip
        standings = {(c, s): rng.randrange(3) for c in "abc" for s in range(3)}
        plan_takes(writes, {("t1", 0): standings}, rng.randrange)
        slots = Counter(standings)
        for w in sorted(writes, key=lambda w: w.vote.queued_at):
            slots[(w.vote.choice_id, w.shard)] += 1
            if w.took:
                slots[(w.took["choice_id"], w.took["shard"])] -= 1
                assert w.took["choice_id"] != w.vote.choice_id
            assert min(slots.values()) >= 0


def test_only_counted_game_votes_take_and_each_topic_has_its_own_standings():
    other = VoteWrite(
        VoteMessage(id="s", topic_id="t2", choice_id="b", queued_at="2030-01-01T00:00:00Z"),
        "counted",
    )
    refused = game_write("r", "a", status="rejected", reason="topic_closed")
    played = game_write("g", "a", topic="t3", generation=2)
    writes = [other, refused, played]
    assert standing_keys(writes) == {("t3", 2)}
    plan_takes(writes, {("t3", 2): {("b", 1): 1}}, always(0))
    assert other.took is None and refused.took is None
    assert played.took == {"choice_id": "b", "shard": 1}
    assert other.counts == {"b": 1}


def test_the_record_keeps_the_take():
    write = game_write("1", "a")
    plan_takes([write], {("t1", 0): {("b", 3): 2}}, always(0))
    assert write.record["took"] == {"choice_id": "b", "shard": 3}
    assert write.record["counts"] == {"a": 1, "cast:a": 1, "b": -1, "taken:b": 1}
    assert take_counts(write.took) == {"b": -1, "taken:b": 1}


# -- the transaction ---------------------------------------------------------------------------


def planned(*specs, standings=None):
    writes = [game_write(str(i), choice, second=i, shard=shard)
              for i, (choice, shard) in enumerate(specs, 1)]  # fmt: skip
    plan_takes(writes, {("t1", 0): standings or {}}, always(0))
    return writes


def takes(items: list[dict]) -> dict[str, int]:
    """{slot: what the conditional take needs there} of the transaction's takes."""
    return {
        u["Key"]["slot"]["S"]: int(u["ExpressionAttributeValues"][":need"]["N"])
        for item in items
        if (u := item.get("Update")) and "ConditionExpression" in u and ":need" in
        u["ExpressionAttributeValues"]
    }  # fmt: skip


def test_the_take_comes_off_the_rivals_own_slot_conditioned_on_holding_it():
    writes = planned(("a", 1), ("a", 1), standings={("b", 2): 5})
    items, owners = BatchWriter(None).transaction(writes)
    assert adds(items) == {"a#1": 2, "cast:a#1": 2, "b#2": -2, "taken:b#1": 2}
    assert takes(items) == {"b#2": 2}
    take = next(i["Update"] for i in items if "Update" in i and i["Update"]["Key"]["slot"]["S"]
                == "b#2")  # fmt: skip
    assert take["ConditionExpression"] == "#count >= :need"
    assert ("take", "t1") in owners


def test_a_slot_the_batch_adds_to_and_takes_from_is_conditioned_on_the_net_take_only():
    # Vote 1 (b, shard 0) adds to b#0; votes 2 and 3 (for a) take from b#0 twice: net -1.
    writes = planned(("b", 0), ("a", 0), ("a", 0), standings={("b", 0): 1})
    assert [w.took for w in writes] == [None] + [{"choice_id": "b", "shard": 0}] * 2
    items, _ = BatchWriter(None).transaction(writes)
    assert adds(items)["b#0"] == -1 and takes(items) == {"b#0": 1}
    # A slot whose adds cover its takes needs no condition.
    writes = planned(("b", 0), ("b", 0), ("a", 0), standings={})
    items, _ = BatchWriter(None).transaction(writes)
    assert adds(items)["b#0"] == 1 and takes(items) == {}


def test_a_failed_take_is_tallies_changed_with_the_redeliveries_found_beside_it():
    # Vote 1 takes b#0's vote; vote 2 adds to b#1 and takes vote 1's (net 0 on a#0).
    writes = planned(("a", 0), ("b", 1), standings={("b", 0): 1})
    _, owners = BatchWriter(None).transaction(writes)
    reasons = [{"Code": "None"} for _ in owners]
    reasons[0] = {"Code": "ConditionalCheckFailed"}
    reasons[owners.index(("take", "t1"))] = {"Code": "ConditionalCheckFailed"}
    with pytest.raises(TalliesChanged) as raised:
        read_cancellation(reasons, owners)
    assert raised.value.topic_id == "t1" and raised.value.duplicates == [writes[0]]


def test_a_dropped_redelivery_makes_the_takes_planned_after_it_stale():
    # Vote 1 is a redelivery: its +1 on a was already stored, so vote 2's take of
    # "a's" vote was planned on a count that does not exist. Re-plan, never send it.
    writes = planned(("a", 0), ("b", 0))
    assert writes[1].took == {"choice_id": "a", "shard": 0}
    client = Dynamo(first_put_fails)
    with pytest.raises(TalliesChanged) as raised:
        BatchWriter(client).record(writes)
    assert raised.value.duplicates == [writes[0]] and raised.value.recorded == []
    assert len(client.calls) == 1


def test_a_redelivery_with_no_take_after_it_is_dropped_as_usual():
    writes = planned(("a", 0), ("a", 0))
    client = Dynamo(first_put_fails)
    outcome = BatchWriter(client).record(writes)
    assert outcome.duplicates == [writes[0]] and outcome.recorded == [writes[1]]


def first_put_fails(items: list[dict]) -> list[str] | None:
    """Vote "1" is a redelivery: its Put fails while it is in the transaction."""
    ids = [item["Put"]["Item"]["id"]["S"] for item in items if "Put" in item]
    return ["ConditionalCheckFailed" if i == 0 else "None" for i in range(len(items))] if (
        ids and ids[0] == "1") else None  # fmt: skip


def test_votes_of_earlier_transactions_are_handed_back_when_a_later_one_must_re_plan():
    # 120 votes are more than one transaction (a Put each, plus the check and tallies);
    # each takes one of a's 200.
    writes = planned(*[("b", 0)] * 120, standings={("a", 0): 200})
    writer = BatchWriter(None)
    parts = writer.parts(writes)
    assert len(parts) >= 2

    def second_take_fails(items):
        if len(client.calls) < 2:
            return None
        return ["ConditionalCheckFailed" if "Update" in i and ":need" in
                i["Update"]["ExpressionAttributeValues"] else "None" for i in items]  # fmt: skip

    writer.client = client = Dynamo(second_take_fails)
    with pytest.raises(TalliesChanged) as raised:
        writer.record(writes)
    assert raised.value.recorded == parts[0] and raised.value.duplicates == []
    assert len(client.calls) == 2


# -- the worker's re-plan ----------------------------------------------------------------------


class Store:
    """What the worker reads while planning: no ballots, an empty game."""

    def __init__(self):
        self.standings_read = 0

    def get_ballots(self, keys):
        return {}

    def get_slot_counts(self, topic_id, generation=0):
        self.standings_read += 1
        return {}


class Queue:
    def delete(self, messages):
        return []


class SettlingBatches:
    """record() that settles one more vote per call (found recorded before, as a
    redelivery is) by raising TalliesChanged, until `rounds` calls are done."""

    def __init__(self, rounds: int):
        self.rounds = rounds
        self.planned: list[list[str]] = []

    def record(self, writes):
        self.planned.append([w.vote_id for w in writes])
        if len(self.planned) <= self.rounds:
            raise TalliesChanged("t1", duplicates=[writes[0]])
        return BatchOutcome(recorded=list(writes))


def messages(count: int) -> list[Message]:
    bodies = [
        VoteMessage(id=f"v{i}", topic_id="t1", choice_id="ab"[i % 2], rules=GAME,
                    queued_at=f"2030-01-01T00:00:{i:02d}.000000")
        for i in range(count)
    ]  # fmt: skip
    return [Message(f"m{i}", f"r{i}", b.model_dump_json(), 1, 0) for i, b in enumerate(bodies)]


def test_settled_votes_are_never_planned_again_and_progress_costs_no_attempt():
    # Eight re-plans, each settling one redelivered vote: more than MAX_WRITE_ATTEMPTS,
    # yet the batch completes, as each re-plan leaves fewer votes.
    store, batches = Store(), SettlingBatches(rounds=8)
    worker = VoteWorker(store, batches, Queue(), Settings(), choose=always(0))
    report = worker.process(messages(10))
    assert len(batches.planned) == 9 > MAX_WRITE_ATTEMPTS
    assert [plan[0] for plan in batches.planned] == [f"v{i}" for i in range(9)]
    assert batches.planned[-1] == ["v8", "v9"]
    assert (report.counted, report.duplicates, report.failed) == (2, 8, 0)
    assert report.retries == {"TalliesChanged": 8}
    assert store.standings_read == 9  # the standings are read again for each plan


def test_tallies_changed_without_progress_gives_up_after_the_attempts():
    class Moved(SettlingBatches):
        def record(self, writes):
            self.planned.append([w.vote_id for w in writes])
            raise TalliesChanged("t1")

    batches = Moved(rounds=0)
    report = VoteWorker(Store(), batches, Queue(), Settings()).process(messages(3))
    assert len(batches.planned) == MAX_WRITE_ATTEMPTS
    assert (report.counted, report.failed) == (0, 3)  # left for redelivery
