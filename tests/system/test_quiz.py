"""A quiz's scores exactly once with real processes: answers through gunicorn, every
message delivered three times, one worker killed after its commit and before its delete,
another killed inside its batch, then a healthy worker: every player's score is what their
one answer earned on the server's clock, and recount finds no drift."""

from __future__ import annotations

import signal
from datetime import datetime, timedelta

import pytest
import requests

from core.rules.formats.quiz import elapsed_micros, points
from core.services.repair import recount_scores
from tests.helpers.api import ADMIN, move
from tests.helpers.queued import queued_bodies, wait_drained
from tests.helpers.quiz import answer_quiz, correct_index, join, leaderboard, quiz_event
from tests.helpers.waiting import wait_until

PLAYERS = 12


def fired(procs, fault: str) -> int:
    return procs.logs().count(f"injected fault {fault}")


@pytest.mark.env(VISIBILITY_TIMEOUT="2")
def test_scores_count_once_under_redelivery_and_killed_workers(procs, voting):
    base = procs.web(workers=1)
    http = requests.Session()
    event = quiz_event(http, base=base)
    players = [join(http, event, f"Player {n}", base=base)["voter_id"] for n in range(PLAYERS)]
    move(http, event, base=base)
    topic = event["topics"][0]
    right = correct_index(topic)
    answers = {voter: answer_quiz(http, topic, voter, right if n % 2 else (right + 1) % 3,
                                  base=base)
               for n, voter in enumerate(players)}  # fmt: skip
    # Every message twice more: SQS's at-least-once, forced.
    for body in queued_bodies(voting):
        voting.queue.send(body)
        voting.queue.send(body)

    committed = procs.faulty_worker("kill_before_delete")  # commits, dies before deleting
    assert committed.wait(60) == -signal.SIGKILL
    slow = procs.faulty_worker("slow_tx:30")  # dies inside a batch, nothing sent
    wait_until(lambda: fired(procs, "slow_tx"))
    slow.send_signal(signal.SIGKILL)
    assert slow.wait(10) == -signal.SIGKILL
    procs.worker()
    wait_drained(voting, procs)

    shown = http.get(f"{base}/topics/{topic['id']}", headers=ADMIN).json()
    opened = (datetime.fromisoformat(shown["deadline"])
              - timedelta(seconds=shown["time_limit"])).isoformat(timespec="microseconds")
    expected = {}
    for n, voter in enumerate(players):
        elapsed = elapsed_micros(opened, answers[voter]["queued_at"])
        expected[f"Player {n}"] = points(elapsed, shown["time_limit"], correct=bool(n % 2))
    board = leaderboard(http, event, base=base, limit=PLAYERS)["players"]
    assert {row["name"]: row["score"] for row in board} == expected
    assert {row["name"]: row["correct"] for row in board} == {
        f"Player {n}": n % 2 for n in range(PLAYERS)}  # fmt: skip
    assert fired(procs, "kill_before_delete") == 1 and "duplicates=" in procs.logs()
    proof = recount_scores(voting.store, voting.backend.players, event["id"])
    assert proof.drift == {} and proof.counted == PLAYERS
    assert all(tallies["answered"] == 1 for tallies in proof.stored.values())
