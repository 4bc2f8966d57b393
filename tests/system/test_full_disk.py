"""`make run` on a full disk: loud, votes paused, nothing stopped unsaved.

DATA_DIR is a tiny tmpfs (mounted here, as root) that the test fills up. Before,
periodic saves failed quietly, votes kept being answered 202, the final save
failed and the launcher stopped the in-memory endpoint anyway: the votes were lost.
"""

from __future__ import annotations

import re
import time

import pytest
import requests

from local import launcher as embedded
from tests.helpers.api import api_vote, make_topic, recorded, vote_counts
from tests.helpers.processes import tmpfs
from tests.helpers.waiting import wait_until


@pytest.fixture
def tiny_disk(tmp_path):
    with tmpfs(tmp_path / "disk", "size=1m") as mounted:
        if not mounted:
            pytest.skip("mounting a tiny tmpfs needs root")
        yield tmp_path / "disk"


def fill(disk) -> None:
    """Write a filler file until the filesystem is full."""
    with open(disk / "filler", "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(b"\0" * 4096)
        except OSError:
            pass


def endpoint_of(run) -> str:
    return re.search(r"local AWS endpoint \(moto\): (\S+)", run.output())[1]


def answers(url: str) -> bool:
    try:
        requests.get(url, timeout=2)
        return True
    except requests.ConnectionError:
        return False


def fill_and_wait_for_the_pause(run, disk, topic) -> str:
    fill(disk)
    late = api_vote(requests, topic, 1, base=run.base)  # taken, but not saved yet
    wait_until(lambda: requests.get(f"{run.base}/readyz", timeout=5).status_code == 503,
               timeout=30, message="readyz never reported the failing saves")  # fmt: skip
    ready = requests.get(f"{run.base}/readyz", timeout=5).json()
    assert "No space left on device" in ready["detail"]["votes"]
    assert "!!! saving the data to" in run.output()
    refused = requests.post(f"{run.base}/votes", timeout=5, json={
        "topic_id": topic["id"], "choice_id": topic["choices"][0]["id"]})  # fmt: skip
    assert refused.status_code == 503 and "paused" in refused.json()["detail"]
    return late


def test_full_disk_pauses_votes_and_the_stop_waits_for_a_save(start, tiny_disk):
    data = tiny_disk / "data"
    run = start(data, SNAPSHOT_SECONDS="1").ready()
    topic = make_topic(requests, "Full disk", base=run.base)
    first = api_vote(requests, topic, 0, base=run.base)
    snapshot = data / embedded.SNAPSHOT_FILE
    wait_until(lambda: snapshot.exists() and first in snapshot.read_text(), timeout=30)
    late = fill_and_wait_for_the_pause(run, tiny_disk, topic)

    run.ctrl_c_no_wait()
    wait_until(lambda: "the final save to" in run.output(), timeout=60)
    time.sleep(2)
    assert run.process.poll() is None, "stopped with unsaved votes"
    assert answers(endpoint_of(run) + "/moto-api/"), "the endpoint holding the data was stopped"

    (tiny_disk / "filler").unlink()  # space again: the retry saves, and the stop completes
    assert run.process.wait(timeout=60) == 0, run.output()
    again = start(data).ready()
    wait_until(lambda: recorded(requests, again.base, [first, late]), timeout=30)
    assert vote_counts(requests, topic["id"], base=again.base) == [1, 1]
    assert again.ctrl_c() == 0


def test_discard_given_in_advance_stops_without_the_save(start, tiny_disk):
    data = tiny_disk / "data"
    run = start(data, ("--discard",), SNAPSHOT_SECONDS="1").ready()
    topic = make_topic(requests, "Full disk", base=run.base)
    snapshot = data / embedded.SNAPSHOT_FILE
    wait_until(lambda: snapshot.exists() and topic["id"] in snapshot.read_text(), timeout=30)
    fill_and_wait_for_the_pause(run, tiny_disk, topic)
    assert run.ctrl_c() == 1
    assert "--discard: stopping anyway" in run.output()
    assert topic["id"] in snapshot.read_text()  # the last good save is intact
