"""JSON logs of real web and worker processes: a vote followed by its request id, no secrets."""

from __future__ import annotations

from tests.helpers.api import ADMIN_KEY, SAMPLE_TOPIC
from tests.helpers.observability import json_lines
from tests.helpers.waiting import wait_for


def test_web_and_worker_log_json_that_follows_a_vote_and_holds_no_secrets(procs, http, admin):
    base = procs.web()
    worker = procs.worker(METRICS_PORT="0")
    cookie_secret = "cookie-value-that-must-not-be-logged"
    topic = http.post(f"{base}/topics", json=SAMPLE_TOPIC, headers=admin).json()
    vote = http.post(
        f"{base}/votes",
        json={"topic_id": topic["id"], "choice_id": topic["choices"][1]["id"]},
        headers={"X-Request-ID": "follow-me-2", "Cookie": f"session={cookie_secret}", **admin},
    )
    assert vote.status_code == 202
    vote_id = vote.json()["id"]
    wait_for(lambda: http.get(f"{base}/votes/{vote_id}").status_code == 200)

    def batch_with_vote():
        return [
            e for e in json_lines(worker.log_path)
            if e.get("event") == "batch" and any(v["id"] == vote_id for v in e.get("votes", []))
        ]  # fmt: skip

    batch = wait_for(batch_with_vote)[0]
    assert {"id": vote_id, "request_id": "follow-me-2"} in batch["votes"]
    assert batch["counted"] >= 1 and batch["service"] == "worker"

    procs.stop_all()  # flush and close every log before reading them whole
    web_log = next(p.log_path for p in procs.started if "web" in str(p.log_path))
    web_entries = json_lines(web_log)
    access = [e for e in web_entries if e["logger"] == "gunicorn.access" and e["path"] == "/votes"]
    assert [(e["method"], e["status"], e["request_id"]) for e in access] == [
        ("POST", 202, "follow-me-2")
    ]
    assert all(e["service"] == "web" for e in web_entries)
    everything = procs.logs()
    assert ADMIN_KEY not in everything
    assert cookie_secret not in everything
