"""JSON logs: the formatter's fields, request ids end to end, and no secrets in any line."""

from __future__ import annotations

import json
import logging
import sys

from core import logs
from tests.conftest import ADMIN_KEY
from tests.opsutil import SAMPLE_TOPIC, json_lines, wait_for


def _record(name="app", msg="hello %s", args=("world",), **extra):
    record = logging.LogRecord(name, logging.INFO, __file__, 1, msg, args, None)
    for key, val in extra.items():
        setattr(record, key, val)
    return record


def test_formatter_writes_one_json_object_with_the_standard_fields():
    line = logs.JsonFormatter("worker").format(_record(batch_size=3))
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["msg"] == "hello world"
    assert entry["level"] == "info"
    assert entry["logger"] == "app"
    assert entry["service"] == "worker"
    assert entry["batch_size"] == 3
    assert entry["ts"].endswith("Z") and entry["ts"][4] == "-"


def test_formatter_redacts_secret_looking_extra_fields_and_keeps_exceptions():
    try:
        raise ValueError("boom")
    except ValueError:
        record = _record(api_key="k-123", session_cookie="c-456", choice="tabs")
        record.exc_info = sys.exc_info()
    entry = json.loads(logs.JsonFormatter().format(record))
    assert entry["api_key"] == logs.REDACTED
    assert entry["session_cookie"] == logs.REDACTED
    assert entry["choice"] == "tabs"
    assert "ValueError: boom" in entry["exc"]


def test_access_record_keeps_chosen_fields_and_no_headers():
    atoms = {
        "h": "10.0.0.1", "m": "POST", "U": "/votes", "q": "api_key=sekrit&page=2",
        "s": "202", "B": 120, "D": 4500, "a": "curl/8", "f": "-",
        "{x-request-id}o": "req-1", "{cookie}i": "session=abc", "{x-api-key}i": "sekrit",
        "{authorization}i": "Bearer sekrit",
    }  # fmt: skip
    record = logging.LogRecord("gunicorn.access", logging.INFO, "", 1, "%(h)s", (atoms,), None)
    line = logs.JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["method"] == "POST" and entry["path"] == "/votes" and entry["status"] == 202
    assert entry["duration_ms"] == 4.5
    assert entry["request_id"] == "req-1"
    assert "sekrit" not in line and "session=abc" not in line
    assert "page=2" in entry["query"]


def test_request_id_is_taken_when_plain_and_replaced_when_not():
    assert logs.request_id_from("abc-123.x_y:z") == "abc-123.x_y:z"
    for bad in (None, "", "two words", "a\nforged line", "x" * 129, "é"):
        made = logs.request_id_from(bad)
        assert made != bad and len(made) == 32 and made.isalnum()


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
