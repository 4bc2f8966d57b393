"""The fixtures start real processes: a vote over HTTP is counted by worker.py."""

import time


def wait_until(check, timeout=20.0, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("condition not met in time")


def test_vote_over_http_is_counted(procs, http, admin):
    base = procs.web()
    procs.worker()
    topic = http.post(
        f"{base}/topics",
        json={"title": "Tabs or spaces?", "choices": [{"description": "Tabs"}, {"description": "Spaces"}]},
        headers=admin,
    ).json()
    vote = http.post(
        f"{base}/votes", json={"topic_id": topic["id"], "choice_id": topic["choices"][1]["id"]}
    )
    assert vote.status_code == 202
    record = wait_until(lambda: http.get(f"{base}/votes/{vote.json()['id']}").status_code == 200)
    assert record
    result = http.get(f"{base}/topics/{topic['id']}", params={"include_votes": "true"}).json()
    assert [c["vote_count"] for c in result["choices"]] == [0, 1]
