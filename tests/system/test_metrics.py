"""Prometheus metrics across processes: /metrics summed over gunicorn workers, and the
worker's own server on METRICS_PORT (/metrics, /healthz) for its batches and stalls."""

from __future__ import annotations

import uuid

import requests

from core.services.worker_metrics import MIN_HEALTH_WINDOW
from local import launcher as embedded
from tests.helpers.api import SAMPLE_TOPIC
from tests.helpers.observability import scrape, value
from tests.helpers.waiting import try_get, wait_for

# -- web, under gunicorn -----------------------------------------------------------


def test_metrics_sum_every_gunicorn_worker(procs, admin):
    """Each request and scrape is a new connection, so they spread over both
    processes; every scrape must still see every request."""
    base = procs.web(workers=2)
    close = {"Connection": "close"}
    topic = requests.post(f"{base}/topics", json=SAMPLE_TOPIC, headers={**admin, **close}).json()
    for _ in range(20):
        assert requests.get(f"{base}/topics", headers=close, timeout=10).status_code == 200
    vote = {"topic_id": topic["id"], "choice_id": topic["choices"][0]["id"]}
    for _ in range(3):
        answer = requests.post(f"{base}/votes", json=vote, headers=close, timeout=10)
        assert answer.status_code == 202

    for _ in range(6):
        text = scrape(f"{base}/metrics")
        labels = {"method": "GET", "route": "/topics", "status": "200"}
        assert value(text, "voting_http_requests_total", **labels) == 20
        assert value(text, "voting_votes_accepted_total") == 3
        assert value(text, "voting_sqs_send_duration_seconds_count") == 3


# -- worker --------------------------------------------------------------------------


def test_worker_serves_metrics_and_health_for_its_batches(procs, client, admin, voting):
    port = embedded.free_port()
    procs.worker(METRICS_PORT=str(port))
    worker = f"http://127.0.0.1:{port}"
    wait_for(lambda: try_get(f"{worker}/healthz") is not None)

    topic = client.post("/topics", json=SAMPLE_TOPIC, headers=admin).get_json()
    vote = {
        "id": str(uuid.uuid4()),
        "topic_id": topic["id"],
        "choice_id": topic["choices"][0]["id"],
        "queued_at": "2024-01-01T00:00:00",
    }
    voting.queue.send(vote)
    voting.queue.send(vote)  # the same vote again: counted once, one duplicate
    voting.queue.client.send_message(QueueUrl=voting.queue.url, MessageBody="not a vote")

    def settled():
        text = scrape(f"{worker}/metrics")
        done = (
            value(text, "voting_worker_votes_total", outcome="counted") == 1
            and (value(text, "voting_worker_votes_total", outcome="duplicate") == 1)
            and (value(text, "voting_worker_votes_total", outcome="failed") or 0) >= 1
        )
        return text if done else None

    text = wait_for(settled)
    assert value(text, "voting_worker_votes_total", outcome="rejected") == 0
    assert value(text, "voting_worker_batches_total") >= 1
    assert value(text, "voting_worker_messages_received_total") >= 3
    assert value(text, "voting_worker_batch_duration_seconds_count") >= 1
    assert value(text, "voting_worker_polls_total") >= 1
    assert value(text, "voting_worker_oldest_message_age_seconds") >= 0
    assert value(text, "voting_worker_last_success_timestamp_seconds") > 1_600_000_000
    assert value(text, "voting_worker_last_poll_timestamp_seconds") > 1_600_000_000

    health = requests.get(f"{worker}/healthz", timeout=5)
    assert health.status_code == 200
    assert health.json()["status"] == "ok" and health.json()["polled"] is True
    other = requests.get(f"{worker}/nope", timeout=5)
    assert other.status_code == 404 and "detail" in other.json()


def test_worker_healthz_fails_when_polls_stop_completing(procs):
    port = embedded.free_port()
    unreachable = f"http://127.0.0.1:{embedded.free_port()}"  # nothing listens there
    procs.worker(METRICS_PORT=str(port), AWS_SQS_ENDPOINT_URL=unreachable, WORKER_WAIT_SECONDS="1")
    url = f"http://127.0.0.1:{port}/healthz"
    # (a requests.Response is falsy when not ok: compare the status, return the body)
    body = wait_for(lambda: (a := try_get(url)) is not None and a.status_code == 503 and a.json())
    assert body["status"] == "stalled" and body["polled"] is False
    assert body["seconds_since_poll"] > body["limit_seconds"] == MIN_HEALTH_WINDOW
    text = scrape(f"http://127.0.0.1:{port}/metrics")
    assert value(text, "voting_worker_polls_total") == 0
