"""Prometheus metrics: the web app's /metrics (in process and summed over gunicorn
workers) and the worker's own server on METRICS_PORT (/metrics, /healthz)."""

from __future__ import annotations

import uuid

import pytest
import requests

from core.worker import BatchReport
from core.worker_metrics import MIN_HEALTH_WINDOW, WorkerMetrics
from local import launcher as embedded
from tests.opsutil import SAMPLE_TOPIC, samples, scrape, value, wait_for
from webapp import create_app

# -- web, in process -----------------------------------------------------------


def _metrics(client) -> str:
    answer = client.get("/metrics")
    assert answer.status_code == 200
    assert answer.content_type.startswith("text/plain")
    return answer.get_data(as_text=True)


def _delta(before: str, after: str, name: str, **labels) -> float:
    return (value(after, name, **labels) or 0) - (value(before, name, **labels) or 0)


def test_requests_are_counted_by_route_never_by_raw_path(client):
    before = _metrics(client)
    assert client.get("/topics").status_code == 200
    assert client.get("/no/such/page-7f3a").status_code == 404
    after = _metrics(client)
    topics = {"method": "GET", "route": "/topics"}
    assert _delta(before, after, "voting_http_requests_total", status="200", **topics) == 1
    assert _delta(before, after, "voting_http_request_duration_seconds_count", **topics) == 1
    missing = {"method": "GET", "route": "unmatched", "status": "404"}
    assert _delta(before, after, "voting_http_requests_total", **missing) == 1
    assert "page-7f3a" not in after


def test_votes_are_counted_as_accepted_or_refused_by_reason(client, admin):
    topic = client.post("/topics", json=SAMPLE_TOPIC, headers=admin).get_json()
    closed = client.post("/topics", json={**SAMPLE_TOPIC, "is_active": False}, headers=admin)
    closed = closed.get_json()
    good = {"topic_id": topic["id"], "choice_id": topic["choices"][0]["id"]}
    before = _metrics(client)

    assert client.post("/votes", json=good).status_code == 202
    cases = {
        "topic_not_found": {**good, "topic_id": str(uuid.uuid4())},
        "choice_not_in_topic": {**good, "choice_id": str(uuid.uuid4())},
        "topic_closed": {"topic_id": closed["id"], "choice_id": closed["choices"][0]["id"]},
        "validation_error": {"topic_id": topic["id"]},
    }
    statuses = {reason: client.post("/votes", json=b).status_code for reason, b in cases.items()}
    statuses["unsupported_media_type"] = client.post("/votes", data="x=1").status_code
    after = _metrics(client)

    assert statuses == {
        "topic_not_found": 404,
        "choice_not_in_topic": 422,
        "topic_closed": 409,
        "validation_error": 422,
        "unsupported_media_type": 415,
    }
    assert _delta(before, after, "voting_votes_accepted_total") == 1
    for reason in statuses:
        assert _delta(before, after, "voting_votes_refused_total", reason=reason) == 1, reason
    assert _delta(before, after, "voting_sqs_send_duration_seconds_count") == 1
    assert _delta(before, after, "voting_sqs_send_errors_total") == 0


def test_sqs_send_failures_are_counted(aws_env, admin):
    app = create_app({"TESTING": True, "queue_name": f"missing-{uuid.uuid4().hex[:8]}"})
    client = app.test_client()
    topic = client.post("/topics", json=SAMPLE_TOPIC, headers=admin).get_json()
    before = _metrics(client)
    vote = {"topic_id": topic["id"], "choice_id": topic["choices"][0]["id"]}
    answer = client.post("/votes", json=vote)
    after = _metrics(client)
    assert answer.status_code == 503
    assert _delta(before, after, "voting_sqs_send_errors_total") == 1
    assert _delta(before, after, "voting_sqs_send_duration_seconds_count") == 1
    assert _delta(before, after, "voting_votes_refused_total", reason="queue_unavailable") == 1
    assert _delta(before, after, "voting_votes_accepted_total") == 0


def test_rate_limited_and_page_votes_are_counted(aws_env, admin):
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False,
                      "rate_limit_votes": "1 per minute"})  # fmt: skip
    client = app.test_client()
    topic = client.post("/topics", json=SAMPLE_TOPIC, headers=admin).get_json()
    vote = {"topic_id": topic["id"], "choice_id": topic["choices"][0]["id"]}
    before = _metrics(client)
    page = client.post(f"/t/{topic['id']}/vote", data={"choice_id": vote["choice_id"]})
    api = client.post("/votes", json=vote)
    limited = client.post("/votes", json=vote)
    after = _metrics(client)
    assert (page.status_code, api.status_code, limited.status_code) == (303, 202, 429)
    assert _delta(before, after, "voting_votes_accepted_total") == 2
    assert _delta(before, after, "voting_votes_refused_total", reason="rate_limit_exceeded") == 1


# -- web, under gunicorn -----------------------------------------------------------


def test_metrics_sum_every_gunicorn_worker(procs, admin):
    """Each request and scrape is a new connection, so they spread over both
    processes; every scrape must still see every request."""
    base = procs.web(workers=2, threads=2)
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
    wait_for(lambda: _get(f"{worker}/healthz") is not None)

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
        done = value(text, "voting_worker_votes_total", outcome="counted") == 1 and (
            value(text, "voting_worker_votes_total", outcome="duplicate") == 1
        ) and (value(text, "voting_worker_votes_total", outcome="failed") or 0) >= 1
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
    body = wait_for(lambda: (a := _get(url)) is not None and a.status_code == 503 and a.json())
    assert body["status"] == "stalled" and body["polled"] is False
    assert body["seconds_since_poll"] > body["limit_seconds"] == MIN_HEALTH_WINDOW
    text = scrape(f"http://127.0.0.1:{port}/metrics")
    assert value(text, "voting_worker_polls_total") == 0


def _get(url):
    try:
        return requests.get(url, timeout=5)
    except requests.ConnectionError:
        return None


# -- worker metrics, unit ------------------------------------------------------------


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_health_allows_two_wait_times_between_polls():
    clock = FakeClock()
    metrics = WorkerMetrics(wait_seconds=20, clock=clock, wall=lambda: 1_700_000_000.0)
    assert metrics.health()[0] is True  # just started: the first poll is under way
    clock.now += 40.5
    ok, body = metrics.health()
    assert (ok, body["status"], body["limit_seconds"]) == (False, "stalled", 40)
    metrics.polled()
    assert metrics.health()[0] is True
    clock.now += 39
    assert metrics.health()[0] is True
    clock.now += 2
    assert metrics.health()[0] is False


def test_health_window_has_a_floor_for_short_waits():
    clock = FakeClock()
    metrics = WorkerMetrics(wait_seconds=1, clock=clock)
    metrics.polled()
    clock.now += MIN_HEALTH_WINDOW - 0.5
    assert metrics.health()[0] is True
    assert metrics.health()[1]["limit_seconds"] == MIN_HEALTH_WINDOW
    clock.now += 1
    assert metrics.health()[0] is False


class _Message:
    def __init__(self, sent_ms):
        self.sent_timestamp_ms = sent_ms


def test_batch_report_becomes_metrics():
    metrics = WorkerMetrics(wait_seconds=20, wall=lambda: 1_700_000_100.0)
    report = BatchReport(
        received=5, counted=2, duplicates=1, rejected=1, failed=1,
        retries={"TransactionConflict": 2},
    )  # fmt: skip
    messages = [_Message(1_700_000_040_000), _Message(1_700_000_070_000), _Message(0)]
    metrics.batch(report, messages, 0.2)
    text = metrics.exposition().decode()
    found = samples(text)
    assert found[("voting_worker_votes_total", (("outcome", "counted"),))] == 2
    assert found[("voting_worker_votes_total", (("outcome", "duplicate"),))] == 1
    assert found[("voting_worker_votes_total", (("outcome", "rejected"),))] == 1
    assert found[("voting_worker_votes_total", (("outcome", "failed"),))] == 1
    retried = ("voting_worker_transaction_retries_total", (("reason", "TransactionConflict"),))
    assert found[retried] == 2
    assert found[("voting_worker_messages_received_total", ())] == 5
    assert found[("voting_worker_oldest_message_age_seconds", ())] == pytest.approx(60.0)
    assert found[("voting_worker_last_success_timestamp_seconds", ())] == 1_700_000_100.0


def test_a_batch_that_records_nothing_is_not_a_success():
    metrics = WorkerMetrics(wait_seconds=20, wall=lambda: 1_700_000_100.0)
    metrics.batch(BatchReport(received=1, failed=1), [_Message(1_700_000_099_000)], 0.1)
    found = samples(metrics.exposition().decode())
    assert found[("voting_worker_last_success_timestamp_seconds", ())] == 0

