"""Prometheus metrics of the web app in process: requests by route, votes by outcome.

Summed over gunicorn workers, and the worker's own server on METRICS_PORT:
tests/system/test_metrics.py; the worker's metrics object: tests/unit/test_worker_metrics.py.
"""

from __future__ import annotations

import uuid

from tests.helpers.api import SAMPLE_TOPIC
from tests.helpers.observability import value
from tests.helpers.waiting import clear_of_a_minute_edge
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
        "choice_not_in_topic": 409,
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
    # Two anonymous votes a minute from this address, whichever route (one budget).
    clear_of_a_minute_edge()
    app = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False,
                      "rate_limit_votes": "2 per minute"})  # fmt: skip
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
