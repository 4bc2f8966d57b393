"""The group-commit sender (core/aws/group_send.py) over VoteQueue.send_batch, no server.

A stand-in SQS client answers send_message_batch the way SQS does (Successful
and Failed entries), can hold a call until the test releases it (a send "in
flight"), and can fail chosen bodies; so each test controls exactly which
votes arrive while a send is in flight.
"""

from __future__ import annotations

import json
import threading
import time

import pytest
from botocore.exceptions import ClientError

from core.aws.group_send import CLIENT_WINDOW, GroupSender
from core.aws.queue import VoteQueue
from core.rules.errors import QueueUnavailable


class FakeSQS:
    """send_message_batch that records each call, may hold it, and may fail chosen bodies."""

    def __init__(self):
        self.calls: list[list[str]] = []
        self.stored: list[str] = []
        self.fail_bodies: set[str] = set()
        self.error: ClientError | None = None
        self.release = threading.Event()
        self.release.set()
        self.entered = threading.Semaphore(0)
        self._ids = iter(range(1_000_000))

    def hold(self):
        """Hold every call from now on until `release` is set."""
        self.release.clear()

    def send_message_batch(self, QueueUrl, Entries):  # noqa: N803 (botocore's names)
        assert QueueUrl == "http://sqs/votes" and 1 <= len(Entries) <= 10
        self.calls.append([e["MessageBody"] for e in Entries])
        self.entered.release()
        assert self.release.wait(10), "test never released the send"
        if self.error is not None:
            raise self.error
        answer = {"Successful": [], "Failed": []}
        for e in Entries:
            if e["MessageBody"] in self.fail_bodies:
                answer["Failed"].append(
                    {"Id": e["Id"], "SenderFault": False, "Code": "InternalError", "Message": "x"}
                )
            else:
                self.stored.append(e["MessageBody"])
                answer["Successful"].append({"Id": e["Id"], "MessageId": f"m{next(self._ids)}"})
        return answer


def sender_over(sqs: FakeSQS, max_wait: float = 10.0, observe=None, **options) -> GroupSender:
    queue = VoteQueue(sqs, "votes")
    queue._url = "http://sqs/votes"
    return GroupSender(queue, max_wait=max_wait, observe=observe, **options)


class Voter(threading.Thread):
    """One request thread: sends one body, keeps the MessageId or the error."""

    def __init__(self, sender: GroupSender, n: int, pad: int = 0):
        super().__init__(daemon=True)
        self.sender, self.body = sender, {"n": n, "pad": "x" * pad}
        self.outcome: str | Exception | None = None

    def run(self):
        try:
            self.outcome = self.sender.send(self.body)
        except QueueUnavailable as exc:
            self.outcome = exc


def start_in_flight(sqs: FakeSQS, sender: GroupSender) -> Voter:
    """A first vote whose send is held in flight until sqs.release is set."""
    sqs.hold()
    first = Voter(sender, 0)
    first.start()
    assert sqs.entered.acquire(timeout=10)
    return first


def wait_pending(sender: GroupSender, count: int) -> None:
    deadline = time.monotonic() + 10
    while len(sender._pending) < count:
        assert time.monotonic() < deadline, "voters never queued"
        time.sleep(0.005)


def queued_behind(sender: GroupSender, voters: list[Voter]) -> list[Voter]:
    """Start the voters and wait until every one of them is pending behind the send in flight."""
    for voter in voters:
        voter.start()
    wait_pending(sender, len(voters))
    return voters


def number_of(body: str) -> int:
    return json.loads(body)["n"]


def finish(voters: list[Voter]) -> None:
    for voter in voters:
        voter.join(10)
        assert not voter.is_alive()


def test_an_idle_sender_sends_the_first_vote_at_once_as_a_batch_of_one():
    sqs = FakeSQS()
    sizes = []
    sender = sender_over(sqs, observe=lambda size, waits: sizes.append((size, len(waits))))
    assert sender.send({"n": 1}) == "m0"
    assert sender.send({"n": 2}) == "m1"
    assert sqs.calls == [['{"n": 1}'], ['{"n": 2}']]
    assert sizes == [(1, 1), (1, 1)]


def test_votes_arriving_during_a_send_share_the_next_batch():
    sqs = FakeSQS()
    sender = sender_over(sqs)
    first = start_in_flight(sqs, sender)
    followers = queued_behind(sender, [Voter(sender, n) for n in range(1, 6)])
    assert len(sqs.calls) == 1  # nobody sends while the first batch is in flight
    sqs.release.set()
    finish([first, *followers])
    assert [len(c) for c in sqs.calls] == [1, 5]
    ids = [v.outcome for v in [first, *followers]]
    assert len(set(ids)) == 6 and all(isinstance(i, str) for i in ids)


def test_a_batch_holds_at_most_ten_votes_oldest_first():
    sqs = FakeSQS()
    sender = sender_over(sqs)
    first = start_in_flight(sqs, sender)
    followers = []
    for n in range(1, 26):
        followers.append(Voter(sender, n))
        followers[-1].start()
        wait_pending(sender, n)  # one at a time, so the arrival order is known
    sqs.release.set()
    finish([first, *followers])
    assert [len(c) for c in sqs.calls] == [1, 10, 10, 5]
    sent_order = [number_of(b) for c in sqs.calls for b in c]
    assert sent_order == list(range(26))


def test_a_whole_batch_waiting_leaves_beside_the_one_in_flight_up_to_the_limit():
    sqs = FakeSQS()
    sender = sender_over(sqs, max_in_flight=2)
    first = start_in_flight(sqs, sender)
    # Nine wait behind the send in flight (a group still forms)...
    nine = queued_behind(sender, [Voter(sender, n) for n in range(1, 10)])
    assert len(sqs.calls) == 1
    # ...the tenth makes a whole batch: it leaves at once, beside the first.
    tenth = Voter(sender, 10)
    tenth.start()
    assert sqs.entered.acquire(timeout=10)
    assert [len(c) for c in sqs.calls] == [1, 10] and not sender._pending
    # Two in flight: the limit. Ten more wait, whole, for one of them to return.
    more = queued_behind(sender, [Voter(sender, n) for n in range(11, 21)])
    assert len(sqs.calls) == 2
    sqs.release.set()
    finish([first, *nine, tenth, *more])
    assert [len(c) for c in sqs.calls] == [1, 10, 10]
    assert sorted(number_of(b) for c in sqs.calls for b in c) == list(range(21))


def test_a_batch_stays_under_256_kib():
    sqs = FakeSQS()
    sender = sender_over(sqs)
    first = start_in_flight(sqs, sender)
    # ~100 KiB each
    big = queued_behind(sender, [Voter(sender, n, pad=100 * 1024) for n in range(1, 6)])
    sqs.release.set()
    finish([first, *big])
    assert [len(c) for c in sqs.calls] == [1, 2, 2, 1]
    assert all(sum(len(b) for b in c) <= 256 * 1024 for c in sqs.calls)
    assert all(isinstance(v.outcome, str) for v in big)


def test_a_failed_entry_fails_only_its_own_vote():
    sqs = FakeSQS()
    sender = sender_over(sqs)
    first = start_in_flight(sqs, sender)
    followers = queued_behind(sender, [Voter(sender, n) for n in range(1, 7)])
    sqs.fail_bodies = {'{"n": 2, "pad": ""}', '{"n": 5, "pad": ""}'}
    sqs.release.set()
    finish([first, *followers])
    refused = {v.body["n"] for v in followers if isinstance(v.outcome, QueueUnavailable)}
    assert refused == {2, 5}
    assert "InternalError" in str(followers[1].outcome)
    stored_ns = sorted(number_of(b) for b in sqs.stored)
    assert stored_ns == [0, 1, 3, 4, 6]


def test_a_failed_call_fails_every_vote_of_its_batch_and_the_next_batch_still_goes():
    sqs = FakeSQS()
    sender = sender_over(sqs)
    sqs.error = ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "x")
    with pytest.raises(QueueUnavailable, match="down"):
        sender.send({"n": 1})
    sqs.error = None
    assert sender.send({"n": 2}) == "m0"


def test_a_vote_not_sent_within_max_wait_is_refused_and_never_sent():
    sqs = FakeSQS()
    sender = sender_over(sqs, max_wait=0.2)
    first = start_in_flight(sqs, sender)  # SQS stalls on this one
    late = Voter(sender, 1)
    late.start()
    late.join(10)
    assert isinstance(late.outcome, QueueUnavailable) and "not sent within" in str(late.outcome)
    assert not sender._pending
    assert first.is_alive()  # the vote in flight still waits for SQS's own answer
    sqs.release.set()
    finish([first])
    assert isinstance(first.outcome, str)
    assert sqs.calls == [['{"n": 0, "pad": ""}']]  # the refused vote never left


def test_close_sends_what_is_pending_and_refuses_new_votes():
    sqs = FakeSQS()
    sender = sender_over(sqs)
    first = start_in_flight(sqs, sender)
    followers = queued_behind(sender, [Voter(sender, n) for n in range(1, 4)])
    left = []
    closer = threading.Thread(target=lambda: left.append(sender.close(timeout=10)))
    closer.start()
    sqs.release.set()
    closer.join(10)
    finish([first, *followers])
    assert left == [0]
    assert sorted(len(c) for c in sqs.calls) == [1, 3]
    assert all(isinstance(v.outcome, str) for v in [first, *followers])
    with pytest.raises(QueueUnavailable, match="shutting down"):
        sender.send({"n": 9})


def test_close_reports_what_it_could_not_send_in_time():
    sqs = FakeSQS()
    sender = sender_over(sqs)
    first = start_in_flight(sqs, sender)
    follower = Voter(sender, 1)
    follower.start()
    wait_pending(sender, 1)
    assert sender.close(timeout=0.1) == 1  # the send in flight is stuck
    sqs.release.set()
    finish([first, follower])


def test_the_observer_sees_each_batch_and_each_wait():
    sqs = FakeSQS()
    seen = []
    sender = sender_over(sqs, observe=lambda size, waits: seen.append((size, waits)))
    first = start_in_flight(sqs, sender)
    followers = queued_behind(sender, [Voter(sender, n) for n in range(1, 4)])
    time.sleep(0.05)
    sqs.release.set()
    finish([first, *followers])
    assert [size for size, _ in seen] == [1, 3]
    assert len(seen[1][1]) == 3 and min(seen[1][1]) >= 0.05  # they waited for the first send


def test_answered_votes_return_without_waiting_for_the_senders_lock():
    """The leader answers its batch, then (still holding the sender's lock) reports it; the
    votes it answered return meanwhile: each is woken on its own, not through that lock,
    so it never queues behind the leader (a second sleep and wake-up per vote)."""
    sqs = FakeSQS()
    returned_while_held = []

    def observe(size, waits):
        if size == 3:  # the batch of voters 1-3, led by voter 1
            assert sender._lock.locked()
            for voter in followers[1:]:
                voter.join(5)
            returned_while_held.extend(v.outcome for v in followers[1:])

    sender = sender_over(sqs, observe=observe)
    first = start_in_flight(sqs, sender)
    followers = queued_behind(sender, [Voter(sender, n) for n in range(1, 4)])
    sqs.release.set()
    finish([first, *followers])
    assert [len(c) for c in sqs.calls] == [1, 3]
    assert len(returned_while_held) == 2 and all(isinstance(o, str) for o in returned_while_held)


def test_a_vote_woken_twice_before_it_looks_wakes_once_and_keeps_waiting_after():
    """Two wake-ups before the thread looks (its turn to lead, then its answer) are one:
    the second neither fails nor leaves a stale wake-up behind."""
    from core.aws.group_send import _Entry

    entry = _Entry("{}", arrived=0.0, deadline=10.0)
    entry.wake()
    entry.wake()
    started = time.monotonic()
    entry.sleep(5)
    assert time.monotonic() - started < 1  # the pending wake-up
    entry.sleep(0.1)
    assert time.monotonic() - started >= 0.1  # nothing left over: this one timed out


# -- batch formation: waiting for the other active clients (max_linger) --------------------


class ClientVoter(Voter):
    """A request thread of one client connection: names its client, then sends."""

    def __init__(self, sender: GroupSender, n: int, client: str):
        super().__init__(sender, n)
        self.client = client

    def run(self):
        self.sender.from_client(self.client)
        super().run()


def lingering_sender(sqs: FakeSQS, max_linger: float) -> GroupSender:
    """A sender whose clients stay active for the whole test: how long they count as
    active is not what these tests check (test_a_client_not_seen_within_the_window_is_not_
    waited_for does), and on a loaded machine 0.25 s can pass between two lines."""
    sender = sender_over(sqs)
    sender.max_linger = max_linger
    sender.client_window = 3600.0
    return sender


def active_clients(sender: GroupSender, clients: list[str]) -> None:
    """One vote from each client, sent without waiting: they now count as active."""
    linger, sender.max_linger = sender.max_linger, 0
    for n, client in enumerate(clients):
        vote_from(sender, 100 + n, client)
    sender.max_linger = linger


def vote_from(sender: GroupSender, n: int, client: str) -> ClientVoter:
    voter = ClientVoter(sender, n, client)
    voter.start()
    voter.join(10)
    assert isinstance(voter.outcome, str), voter.outcome
    return voter


def test_a_lone_client_is_never_kept_waiting_for_a_batch():
    """One client voting again and again: every vote leaves at once, whatever max_linger."""
    sqs = FakeSQS()
    sender = lingering_sender(sqs, max_linger=60)
    for n in range(3):
        vote_from(sender, n, "only")  # each join would time out if it lingered 60 s
    assert [len(c) for c in sqs.calls] == [1, 1, 1]


def test_a_batch_waits_for_the_other_active_client_then_leaves_with_both():
    sqs = FakeSQS()
    sender = lingering_sender(sqs, max_linger=60)
    active_clients(sender, ["a", "b"])
    early = ClientVoter(sender, 2, "a")
    early.start()
    wait_pending(sender, 1)
    early.join(0.2)
    assert early.is_alive() and len(sqs.calls) == 2  # held for client b, not sent alone
    late = ClientVoter(sender, 3, "b")
    late.start()
    finish([early, late])
    assert [sorted(map(number_of, c)) for c in sqs.calls] == [[100], [101], [2, 3]]
    assert isinstance(early.outcome, str) and isinstance(late.outcome, str)



def test_a_client_not_seen_within_the_window_is_not_waited_for():
    now = [1000.0]
    sqs = FakeSQS()
    sender = sender_over(sqs, clock=lambda: now[0])
    sender.max_linger = 60
    active_clients(sender, ["a", "b"])
    now[0] += CLIENT_WINDOW + 0.01  # b has not voted since: no longer active
    vote_from(sender, 2, "a")  # leaves alone at once (vote_from waits at most 10 s)
    assert [sorted(map(number_of, c)) for c in sqs.calls] == [[100], [101], [2]]

def test_the_wait_for_other_clients_is_bounded_by_max_linger():
    """A client that was active but does not vote again delays the batch at most max_linger."""
    sqs = FakeSQS()
    sender = lingering_sender(sqs, max_linger=0.05)
    active_clients(sender, ["a", "b"])
    vote_from(sender, 2, "a")  # b never comes back: a's vote leaves alone after the linger
    assert [len(c) for c in sqs.calls] == [1, 1, 1]


def test_votes_naming_no_client_never_wait():
    """Callers that cannot name their client (tests, the CLI) keep the plain group commit."""
    sqs = FakeSQS()
    sender = lingering_sender(sqs, max_linger=60)
    active_clients(sender, ["a", "b"])
    lone = Voter(sender, 2)
    lone.start()
    finish([lone])
    assert [len(c) for c in sqs.calls] == [1, 1, 1]


def test_a_batch_expects_no_more_votes_than_threads_that_sent():
    """Many connections served by one thread (gunicorn's pool smaller than the clients): no wait."""
    sqs = FakeSQS()
    sender = lingering_sender(sqs, max_linger=60)

    def serve_three_connections_in_turn():
        for n, client in enumerate(["a", "b", "c"]):
            sender.from_client(client)
            sender.send({"n": n})

    thread = threading.Thread(target=serve_three_connections_in_turn, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive()  # it would linger 60 s per vote waiting for itself
    assert [len(c) for c in sqs.calls] == [1, 1, 1]


def test_close_does_not_wait_for_other_clients():
    sqs = FakeSQS()
    sender = lingering_sender(sqs, max_linger=60)
    active_clients(sender, ["a", "b"])
    first = start_in_flight(sqs, sender)
    waiting = queued_behind(sender, [ClientVoter(sender, 2, "a")])
    closer = threading.Thread(target=lambda: sender.close(timeout=10))
    closer.start()
    sqs.release.set()
    closer.join(10)
    finish([first, *waiting])
    assert not closer.is_alive()
    assert all(isinstance(v.outcome, str) for v in [first, *waiting])
