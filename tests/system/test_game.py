"""The game's tug of war with real processes: the web app under gunicorn, voters over HTTP,
and worker.py processes (one killed after its commit, one whose transaction answers are
lost so the SDK sends them again) recording concurrently.

Whatever the random picks, the game is exact: per choice standing = cast - taken, no
tally slot below zero, every vote counted once, and recount proves it from the records.
"""

from __future__ import annotations

import re
import signal
from concurrent.futures import ThreadPoolExecutor

import pytest

from core.services.repair import recount
from tests.helpers.api import ADMIN, make_topic
from tests.helpers.queued import queue_drained
from tests.helpers.waiting import wait_until

VOTES = 150


@pytest.mark.env(VISIBILITY_TIMEOUT="2", TALLY_SHARDS="2")
def test_game_stays_exact_under_concurrent_workers_and_redelivery(procs, http, voting):
    base = procs.web(workers=2)
    topic = make_topic(http, "Tug of war", ("red", "blue", "green"), base=base, type="game")
    ids = [c["id"] for c in topic["choices"]]
    killed = procs.faulty_worker("kill_before_delete")

    def cast(i):
        body = {"topic_id": topic["id"], "choice_id": ids[(i * 7) % 3 if i % 4 else 0]}
        return http.post(f"{base}/votes", json=body).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(cast, range(VOTES))) == [202] * VOTES
    assert killed.wait(60) == -signal.SIGKILL  # its first batch committed, never deleted
    procs.faulty_worker("lose_tx_response:3")
    procs.worker()

    def results():
        answer = http.get(f"{base}/topics/{topic['id']}?include_votes=true", headers=ADMIN)
        return answer.json()["results"]

    wait_until(lambda: queue_drained(voting) and results()["cast"] == VOTES, 120, 0.3,
               "the workers did not record every vote in time")  # fmt: skip
    shown = results()
    for row in shown["choices"]:
        assert row["standing"] == row["cast"] - row["taken"] >= 0
    assert shown["cast"] == VOTES and shown["taken"] > 0
    assert min(voting.store.get_slot_counts(topic["id"]).values()) >= 0
    proof = recount(voting.store, topic["id"])
    assert proof.counted == VOTES and proof.drift == {}
    # The faults fired (else this proves nothing): redelivered votes were dropped.
    assert re.search(r"duplicates=[1-9]", procs.logs())
