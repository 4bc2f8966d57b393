"""Structured logs: one JSON object per line, from the web app, gunicorn and the worker.

Every line has `ts`, `level`, `logger`, `service` (web or worker) and `msg`;
inside a web request it also has `request_id`. The request id comes from the
client's (or the proxy's) `X-Request-ID` when it looks like an id, else it is
made here; it is echoed in the response, written into the queued vote, and the
worker logs the ids of every batch, so one vote can be followed from its
request to the batch that recorded it.

Secrets never reach a line: nothing here logs headers or bodies, gunicorn's
access lines are rebuilt from a short list of fields (no headers but the
request id, user agent and referer), query values and `extra` fields whose
names look secret are replaced by "[redacted]".

Shared by web and worker: no Flask here. The web layer sets `current_request_id`.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from contextvars import ContextVar
from urllib.parse import parse_qsl, urlencode

REQUEST_ID_HEADER = "X-Request-ID"
# Accept a caller's id only if it is short and plain: it is copied into logs
# and into the vote message, so nothing that could forge a log line gets in.
_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# A voter id (`voter`, `voter_id`) votes as its voter: a credential like a key.
_SECRET_NAME = re.compile(
    r"key|token|secret|password|passwd|cookie|session|auth|csrf|voter", re.I
)
REDACTED = "[redacted]"

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_RECORD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


def new_request_id() -> str:
    return uuid.uuid4().hex


def request_id_from(header_value: str | None) -> str:
    """The caller's request id if it is acceptable, else a new one."""
    if header_value and _VALID_REQUEST_ID.match(header_value):
        return header_value
    return new_request_id()


def redact_url(url: str) -> str:
    """A URL (a Referer) with the values of its secret-looking query parameters replaced."""
    base, mark, query = url.partition("?")
    return f"{base}{mark}{redact_query(query)}" if mark else url


def redact_query(query: str) -> str:
    """A query string with the values of secret-looking parameters replaced."""
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, REDACTED if _SECRET_NAME.search(k) else v) for k, v in pairs])


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON."""

    def __init__(self, service: str = "web"):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": _timestamp(record.created),
            "level": record.levelname.lower(),
            "logger": record.name,
            "service": self.service,
            "pid": record.process,
        }
        if record.name == "gunicorn.access" and isinstance(record.args, dict):
            entry.update(_access_fields(record.args))
        else:
            entry["msg"] = record.getMessage()
        request_id = getattr(record, "request_id", None) or _current_request_id()
        if request_id and "request_id" not in entry:
            entry["request_id"] = request_id
        for name, value in vars(record).items():
            if name in _RECORD_ATTRS or name in entry:
                continue
            entry[name] = REDACTED if _SECRET_NAME.search(name) else value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        return json.dumps(entry, default=str, ensure_ascii=False)


def _timestamp(created: float) -> str:
    seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created))
    return f"{seconds}.{int(created % 1 * 1000):03d}Z"


def _access_fields(atoms: dict) -> dict:
    """gunicorn's access atoms, picked one by one: never the headers wholesale."""

    def atom(key):
        value = atoms.get(key)
        # gunicorn escapes quotes for its own format strings; JSON escapes anyway.
        return value.replace('\\"', '"') if isinstance(value, str) else value

    def header(name):
        value = atom(name)
        return None if value in (None, "-") else value

    status = atom("s")
    fields = {
        "msg": "request",
        "method": atom("m"),
        "path": atom("U"),
        "query": redact_query(atom("q") or ""),
        "status": int(status) if str(status).isdigit() else status,
        "bytes": atom("B"),
        "duration_ms": round((atom("D") or 0) / 1000, 3),
        "remote_addr": atom("h"),
        "forwarded_for": header("{x-forwarded-for}i"),
        "user_agent": header("a"),
        "referer": redact_url(header("f") or ""),
        "request_id": header("{x-request-id}o") or header("{x-request-id}i"),
    }
    return {k: v for k, v in fields.items() if v not in (None, "")}


# The id of the web request being served by this thread, set by the web layer
# (webapp/request_ids.py) for the request's duration; None in the worker.
current_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)


def _current_request_id() -> str | None:
    return current_request_id.get()


def handler_config(service: str) -> dict:
    """A logging.config dict fragment: one JSON handler on stderr (used by gunicorn.conf.py)."""
    return {
        "formatters": {"json": {"()": JsonFormatter, "service": service}},
        "handlers": {
            "json": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
    }


def configure(service: str, level: str = "INFO") -> None:
    """Send every log record of this process to stderr as JSON (worker and scripts)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    # botocore logs credentials-adjacent detail at DEBUG; keep it at WARNING.
    for noisy in ("botocore", "boto3", "urllib3"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
