"""Group commit at intake with real processes: gevent workers and forks, SIGTERM, the worker.

The web app runs under gunicorn (2 processes of greenlets) as in production;
many clients vote at once, so each process groups its votes into
SendMessageBatch calls (the metrics prove it did).
"""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter

import requests

from tests.helpers.observability import scrape, value
from tests.helpers.queued import queued_bodies, tallies_of
from tests.helpers.waiting import wait_until


def burst(base: str, topic: dict, clients: int, votes_each: int | None, stop=None) -> list:
    """`clients` threads POST votes on their own keep-alive sessions: (status, id, time) each.

    Each client sends `votes_each` votes, or (None) keeps going until the server
    stops answering; a refused connection ends that client.
    """
    answers: list = []
    lock = threading.Lock()

    def client(n):
        with requests.Session() as http:
            i = 0
            while votes_each is None or i < votes_each:
                body = {"topic_id": topic["id"], "choice_id": topic["choices"][(n + i) % 3]["id"]}
                i += 1
                try:
                    answer = http.post(f"{base}/votes", json=body, timeout=60)
                except requests.ConnectionError:
                    return
                vote_id = answer.json().get("id") if answer.status_code == 202 else None
                answered = (answer.status_code, vote_id, body["choice_id"], time.monotonic())
                with lock:
                    answers.append(answered)
                if stop is not None and stop.is_set() and answer.status_code != 202:
                    return

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    return [threads, answers]


def joined(started: list) -> list:
    threads, answers = started
    for thread in threads:
        thread.join(120)
        assert not thread.is_alive()
    return answers


def test_a_burst_is_grouped_and_every_accepted_vote_counts_exactly_once(procs, voting, topic):
    base = procs.web(workers=2)
    procs.worker()
    procs.worker()
    answers = joined(burst(base, topic, clients=32, votes_each=12))
    statuses = Counter(status for status, *_ in answers)
    assert set(statuses) <= {202, 503} and statuses[202] >= len(answers) // 2, statuses
    accepted = {vote_id: choice for status, vote_id, choice, _ in answers if status == 202}
    assert len(accepted) == statuses[202]  # every 202 names its own vote

    wait_until(lambda: sum(tallies_of(voting, topic)) >= len(accepted), timeout=120)
    expected = Counter(accepted.values())
    assert tallies_of(voting, topic) == [expected[c["id"]] for c in topic["choices"]]
    records = list(voting.store.topic_votes(topic["id"]))
    assert sorted(r["id"] for r in records) == sorted(accepted)
    assert {r["status"] for r in records} == {"counted"}

    metrics = scrape(f"{base}/metrics")
    batches = value(metrics, "voting_sqs_batch_size_count")
    assert value(metrics, "voting_sqs_batch_size_sum") == len(accepted)
    assert batches < len(accepted), "no two votes ever shared a SendMessageBatch"


def test_sigterm_during_a_burst_loses_no_accepted_vote(procs, voting, topic):
    base = procs.web(workers=2)
    web = procs.started[-1]
    stop = threading.Event()
    started = burst(base, topic, clients=16, votes_each=None, stop=stop)
    wait_until(lambda: len(started[1]) >= 100, timeout=60, message="the burst never got going")
    signalled = time.monotonic()
    stop.set()
    web.send_signal(signal.SIGTERM)
    assert web.wait(60) == 0
    answers = joined(started)

    accepted = [vote_id for status, vote_id, *_ in answers if status == 202]
    assert any(at > signalled for status, _, _, at in answers if status == 202), (
        "no vote in progress when SIGTERM came: the test proved nothing"
    )
    queued = {b["id"] for b in queued_bodies(voting)}
    missing = set(accepted) - queued
    assert not missing, f"{len(missing)} votes answered 202 are not in the queue"
    assert "at exit" not in procs.logs()
    assert "Exception during worker exit" not in procs.logs()  # the worker_exit hook ran clean
