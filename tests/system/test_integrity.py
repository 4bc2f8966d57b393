"""Vote integrity with real processes: voter policies, fair closing, results visibility."""

from __future__ import annotations

import random
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import requests

from core.rules.clock import iso
from core.schemas.topics import TopicIn
from tests.helpers.api import make_topic, vote_counts
from tests.helpers.queued import queue_drained, queued_vote
from tests.helpers.waiting import wait_until

TALK = ("Which talk next?", "ABC")


def tallies(http, base, topic, admin):
    return vote_counts(http, topic["id"], base=base, headers=admin)


def test_one_per_voter_twenty_concurrent_votes_count_once(procs, http, admin, voting):
    base = procs.web(workers=2)
    procs.worker()
    procs.worker()
    topic = make_topic(http, *TALK, base=base, vote_limit="one_per_voter")
    statuses: Counter = Counter()
    accepted: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(20)

    def vote(i):
        body = {
            "topic_id": topic["id"],
            "choice_id": topic["choices"][i % 3]["id"],
            "voter_id": "alice",
        }
        barrier.wait()
        answer = requests.post(f"{base}/votes", json=body, timeout=30)
        with lock:
            statuses[answer.status_code] += 1
            if answer.status_code == 202:
                accepted.append(answer.json()["id"])

    threads = [threading.Thread(target=vote, args=(i,)) for i in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(statuses) <= {202, 409} and statuses[202] >= 1
    records = wait_until(
        lambda: (
            all(voting.store.get_vote(v) for v in accepted)
            and [voting.store.get_vote(v) for v in accepted]
        ),
        timeout=60,
    )
    assert sum(tallies(http, base, topic, admin)) == 1
    outcome = Counter((r["status"], r.get("reason")) for r in records)
    assert outcome[("counted", None)] == 1
    assert outcome[("rejected", "duplicate_voter")] == len(accepted) - 1
    # Known at intake now: the API refuses the next one outright.
    again = http.post(
        f"{base}/votes",
        json={"topic_id": topic["id"], "choice_id": topic["choices"][0]["id"], "voter_id": "alice"},
    )
    assert again.status_code == 409
    # Another voter still counts.
    other = http.post(
        f"{base}/votes",
        json={"topic_id": topic["id"], "choice_id": topic["choices"][0]["id"], "voter_id": "bob"},
    )
    assert other.status_code == 202
    wait_until(lambda: sum(tallies(http, base, topic, admin)) == 2)


def test_limited_topic_needs_a_voter_id(client, admin):
    topic = make_topic(client, "t", "ab", vote_limit="one_per_voter")
    answer = client.post(
        "/votes", json={"topic_id": topic["id"], "choice_id": topic["choices"][0]["id"]}
    )
    # 409: the body fits the schema; the topic's policy (its state) wants a voter.
    assert answer.status_code == 409 and "voter_id" in answer.json["detail"]


@pytest.mark.parametrize("batching", ["one_batch", "separate_batches"])
def test_changeable_last_queued_wins_in_any_delivery_order(procs, voting, batching):
    topic = voting.topics.create(
        TopicIn(title="Pick", choices=[{"description": d} for d in "ABCD"], vote_limit="changeable")
    )
    start = datetime.now(UTC)
    votes = [
        queued_vote(topic, i % 4, queued_at=iso(start + timedelta(milliseconds=i)),
                    voter_id="carol", vote_limit="changeable")
        for i in range(6)
    ]  # fmt: skip
    shuffled = votes[:]
    random.Random(7).shuffle(shuffled)
    if shuffled[-1] is votes[-1]:
        shuffled.reverse()  # make sure the last-queued vote is not simply the last delivered
    procs.worker()
    for body in shuffled:
        voting.queue.send(body)
        if batching == "separate_batches":
            wait_until(lambda body=body: voting.store.get_vote(body["id"]), timeout=30)
    wait_until(
        lambda: all(voting.store.get_vote(v["id"]) for v in votes) and queue_drained(voting),
        timeout=60,
    )
    counts = voting.store.get_counts(topic["id"])
    winner = votes[-1]["choice_id"]
    assert {k: v for k, v in counts.items() if v} == {winner: 1}
    statuses = [voting.store.get_vote(v["id"])["status"] for v in votes]
    assert statuses == ["replaced"] * 5 + ["counted"]
    assert voting.store.get_ballot(topic["id"], "carol")["vote_id"] == votes[-1]["id"]


def test_changeable_vote_moves_one_count_through_the_api(procs, http, admin, voting):
    base = procs.web()
    procs.worker()
    topic = make_topic(http, *TALK, base=base, vote_limit="changeable")
    first = http.post(
        f"{base}/votes",
        json={"topic_id": topic["id"], "choice_id": topic["choices"][0]["id"], "voter_id": "dan"},
    )
    wait_until(lambda: http.get(f"{base}/votes/{first.json()['id']}").status_code == 200)
    assert tallies(http, base, topic, admin) == [1, 0, 0]
    second = http.post(
        f"{base}/votes",
        json={"topic_id": topic["id"], "choice_id": topic["choices"][2]["id"], "voter_id": "dan"},
    )
    wait_until(lambda: http.get(f"{base}/votes/{second.json()['id']}").status_code == 200)
    assert tallies(http, base, topic, admin) == [0, 0, 1]
    assert http.get(f"{base}/votes/{first.json()['id']}").json()["status"] == "replaced"


def test_vote_accepted_before_close_counts_after_it(procs, http, admin, voting):
    base = procs.web()
    closes = datetime.now(UTC) + timedelta(seconds=3)
    topic = make_topic(http, *TALK, base=base, closes_at=closes.isoformat())
    assert topic["closes_at"] == iso(closes)
    early = http.post(
        f"{base}/votes", json={"topic_id": topic["id"], "choice_id": topic["choices"][1]["id"]}
    )
    assert early.status_code == 202
    wait_until(lambda: datetime.now(UTC) > closes + timedelta(milliseconds=200), timeout=10)
    late = http.post(
        f"{base}/votes", json={"topic_id": topic["id"], "choice_id": topic["choices"][1]["id"]}
    )
    assert late.status_code == 409
    # A message queued after the deadline (e.g. a slow client replaying) is rejected by the worker.
    forged = queued_vote(topic, 0)
    voting.queue.send(forged)
    # The worker starts only now, after the close: the early vote still counts.
    procs.worker()
    wait_until(
        lambda: voting.store.get_vote(early.json()["id"]) and voting.store.get_vote(forged["id"])
    )
    assert voting.store.get_vote(early.json()["id"])["status"] == "counted"
    assert voting.store.get_vote(forged["id"])["reason"] == "topic_closed"
    assert tallies(http, base, topic, admin) == [0, 1, 0]


def test_results_visibility_after_close(client, admin):
    topic = make_topic(client, "t", "ab", results_visibility="after_close")
    public = client.get(f"/topics/{topic['id']}?include_votes=1").json
    assert public["results_hidden"] is True and "total_votes" not in public
    assert all(c["votes"] is None for c in public["choices"])
    assert (
        client.get(f"/topics/{topic['id']}?include_votes=1", headers=admin).json["total_votes"] == 0
    )
    closed = {**topic, "is_active": False}
    assert client.put(f"/topics/{topic['id']}", json=closed, headers=admin).status_code == 200
    assert client.get(f"/topics/{topic['id']}?include_votes=1").json["total_votes"] == 0


def test_results_visibility_after_vote(procs, voting, client, admin):
    topic = make_topic(client, "t", "ab", results_visibility="after_vote")
    url = f"/topics/{topic['id']}?include_votes=1"
    assert client.get(url + "&voter_id=erin").json["results_hidden"] is True
    vote = client.post(
        "/votes",
        json={"topic_id": topic["id"], "choice_id": topic["choices"][0]["id"], "voter_id": "erin"},
    )
    procs.worker()
    wait_until(lambda: voting.store.get_vote(vote.json["id"]))
    assert client.get(url + "&voter_id=erin").json["total_votes"] == 1
    assert client.get(url + "&voter_id=frank").json["results_hidden"] is True


def test_put_without_new_fields_keeps_them(client, admin):
    body = {"title": "t", "choices": [{"description": "a"}, {"description": "b"}]}
    topic = client.post(
        "/topics",
        json={**body, "vote_limit": "changeable", "closes_at": "2031-01-01T00:00:00Z"},
        headers=admin,
    ).json
    # An original client's PUT knows nothing of these fields: they stay.
    assert (
        client.put(
            f"/topics/{topic['id']}", json={**body, "choices": topic["choices"]}, headers=admin
        ).status_code
        == 200
    )
    stored = client.get(f"/topics/{topic['id']}").json
    assert (stored["vote_limit"], stored["closes_at"]) == (
        "changeable",
        "2031-01-01T00:00:00.000000",
    )
    cleared = {**body, "choices": topic["choices"], "closes_at": None}
    assert client.put(f"/topics/{topic['id']}", json=cleared, headers=admin).status_code == 200
    assert client.get(f"/topics/{topic['id']}").json["closes_at"] is None
    bad = client.put(f"/topics/{topic['id']}", json={**body, "vote_limit": "twice"}, headers=admin)
    assert bad.status_code == 422


def test_delete_frees_a_one_per_voter_ballot(procs, voting, client, admin):
    topic = make_topic(client, "t", "ab", vote_limit="one_per_voter")
    vote = {"topic_id": topic["id"], "choice_id": topic["choices"][0]["id"], "voter_id": "gus"}
    first = client.post("/votes", json=vote).json["id"]
    procs.worker()
    wait_until(lambda: voting.store.get_vote(first))
    assert client.post("/votes", json=vote).status_code == 409
    assert client.delete(f"/votes/{first}", headers=admin).status_code == 200
    assert voting.store.get_ballot(topic["id"], "gus") is None
    assert client.post("/votes", json=vote).status_code == 202
    wait_until(lambda: sum(voting.store.get_counts(topic["id"]).values()) == 1)


def test_vote_queued_while_closed_is_rejected_after_a_quick_reopen(procs, http, admin, voting):
    """Close, vote (a web process's cached topic still says open, so
    202), reopen, and only then let the worker run: the vote was queued while the
    topic was closed and must be rejected, though the topic is open when recorded."""
    base = procs.web(workers=1, TOPIC_CACHE_SECONDS="120")
    topic = make_topic(http, "Seed example", ("Yes", "No"), base=base)
    assert http.get(f"{base}/t/{topic['id']}").ok  # this web process now caches it open
    voting.topics.set_active(topic["id"], False)  # closed in the database, as another web would
    ballot = {"topic_id": topic["id"], "choice_id": topic["choices"][0]["id"]}
    stale = http.post(f"{base}/votes", json=ballot)
    assert stale.status_code == 202, stale.text  # the documented cache window
    voting.topics.set_active(topic["id"], True)
    after = http.post(f"{base}/votes", json={**ballot, "choice_id": topic["choices"][1]["id"]})
    assert after.status_code == 202
    procs.worker()  # held back until now
    wait_until(lambda: queue_drained(voting) and voting.store.get_vote(after.json()["id"]))
    record = voting.store.get_vote(stale.json()["id"])
    assert (record["status"], record.get("reason")) == ("rejected", "topic_closed")
    assert voting.store.get_vote(after.json()["id"])["status"] == "counted"
    assert tallies(http, base, topic, admin) == [0, 1]


def test_votes_streamed_across_a_close_count_exactly_those_queued_before_it(
    procs, http, admin, voting
):
    """Votes stream in from 4 clients through gunicorn while the admin closes the topic;
    a slow worker (every transaction held 0.3 s) is still recording the backlog when it
    closes. Every 202 whose queue time is before the close (the topic's closed_at) is
    counted, every later one (a web process's cached copy still said open) is rejected,
    every 202 is recorded once, and the tallies are the counted ones."""
    base = procs.web(workers=2)
    procs.faulty_worker("slow_tx:0.3")
    topic = make_topic(http, *TALK, base=base)
    accepted: list[str] = []
    refused: Counter = Counter()
    lock, stop = threading.Lock(), threading.Event()

    def stream(offset: int):
        with requests.Session() as session:
            for i in range(150):
                if stop.is_set():
                    return
                choice = topic["choices"][(i + offset) % 3]["id"]
                answer = session.post(f"{base}/votes", json={"topic_id": topic["id"],
                                                             "choice_id": choice})  # fmt: skip
                with lock:
                    if answer.status_code == 202:
                        accepted.append(answer.json()["id"])
                    else:
                        refused[answer.status_code] += 1

    streams = [threading.Thread(target=stream, args=(n,)) for n in range(4)]
    for thread in streams:
        thread.start()
    wait_until(lambda: len(accepted) >= 80, timeout=60)
    closed = {"title": topic["title"], "choices": topic["choices"], "is_active": False}
    assert http.put(f"{base}/topics/{topic['id']}", json=closed, headers=admin).ok
    wait_until(lambda: refused[409] >= 20 or not any(t.is_alive() for t in streams), timeout=60)
    stop.set()
    for thread in streams:
        thread.join()
    assert set(refused) <= {409}, refused
    wait_until(lambda: queue_drained(voting), timeout=120)
    stored = voting.store.get_topic(topic["id"])
    closed_at = stored.get("closed_at", stored["last_upd"])  # the closing write's time
    records = {vote_id: voting.store.get_vote(vote_id) for vote_id in accepted}
    assert all(records.values()), "every 202 is recorded"
    before = [r for r in records.values() if r["queued_at"] < closed_at]
    after = [r for r in records.values() if r["queued_at"] >= closed_at]
    assert before and all(r["status"] == "counted" for r in before)
    assert all((r["status"], r.get("reason")) == ("rejected", "topic_closed") for r in after)
    # The backlog at the close was recorded after it (else this test proves nothing).
    assert any(r["created"] > closed_at for r in before)
    per_choice = Counter(r["choice_id"] for r in before)
    assert tallies(http, base, topic, admin) == [per_choice[c["id"]] for c in topic["choices"]]
    assert stored["closed_at"] == stored["last_upd"]  # stamped by the closing write
