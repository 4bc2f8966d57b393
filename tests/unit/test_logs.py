"""JSON logs, in process: the formatter's fields, redaction, access records, request ids.

Request ids through the app: tests/integration/test_logs.py; the log lines of
real web and worker processes: tests/system/test_logs.py.
"""

from __future__ import annotations

import json
import logging
import sys

from core import logs


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


def test_access_record_redacts_voter_credentials_in_the_query_and_the_referer():
    atoms = {
        "h": "10.0.0.1", "m": "GET", "U": "/ABCDEF/embed/stage", "s": "200", "B": 1, "D": 1,
        "q": "voter=InRva2VuIg.sig&vote=v-1&voter_id=alice",
        "f": "https://blog.example/post?voter=InRva2VuIg.sig&page=2",
    }  # fmt: skip
    record = logging.LogRecord("gunicorn.access", logging.INFO, "", 1, "%(h)s", (atoms,), None)
    line = logs.JsonFormatter().format(record)
    assert "InRva2VuIg" not in line and "alice" not in line
    entry = json.loads(line)
    assert "vote=v-1" in entry["query"] and "page=2" in entry["referer"]
    assert entry["referer"].startswith("https://blog.example/post?")
