"""Request ids through the app in process: echoed or made, and carried in the queued vote."""

from __future__ import annotations

import json

from tests.helpers.api import SAMPLE_TOPIC
from tests.helpers.waiting import wait_for


def test_request_id_is_echoed_or_generated(client):
    given = client.get("/healthz", headers={"X-Request-ID": "trace-42"})
    assert given.headers["X-Request-ID"] == "trace-42"
    made = client.get("/healthz")
    other = client.get("/healthz")
    assert len(made.headers["X-Request-ID"]) == 32
    assert made.headers["X-Request-ID"] != other.headers["X-Request-ID"]
    refused = client.get("/healthz", headers={"X-Request-ID": '"}, {"forged": 1'})
    assert len(refused.headers["X-Request-ID"]) == 32


def test_request_id_travels_in_the_queued_vote(client, admin, voting):
    topic = client.post("/topics", json=SAMPLE_TOPIC, headers=admin).get_json()
    answer = client.post(
        "/votes",
        json={"topic_id": topic["id"], "choice_id": topic["choices"][0]["id"]},
        headers={"X-Request-ID": "follow-me-1"},
    )
    assert answer.status_code == 202
    messages = wait_for(lambda: voting.queue.receive(wait_seconds=1))
    assert json.loads(messages[0].body)["request_id"] == "follow-me-1"
