"""Prometheus metrics of the web app, served at /metrics.

Under gunicorn every worker process counts on its own, so gunicorn.conf.py
sets PROMETHEUS_MULTIPROC_DIR before anything imports prometheus_client:
each process then writes its values to files there, and /metrics sums the
files of all processes, whichever process answers the scrape. Without that
variable (tests, `flask run`) the values live in memory.

- voting_http_requests_total{method,route,status} and
  voting_http_request_duration_seconds{method,route}: every request. `route` is
  the URL rule (`/topics/<topic_id>`), never the raw path, so the number of
  series stays bounded whatever URLs clients try.
- voting_votes_accepted_total and voting_votes_refused_total{reason}: each vote
  view is wrapped in `counts_votes`; the reason is the refusal's exception
  class in snake case (topic_closed, validation_error, queue_unavailable...)
  or, for a view that answers an error itself, `http_<status>`.
- voting_sqs_send_duration_seconds and voting_sqs_send_errors_total: around
  the SQS send of each vote (`timed_send`), the wait for its batch included.
- voting_sqs_batch_size and voting_sqs_batch_wait_seconds: each
  SendMessageBatch of the group sender (core/aws/group_send.py), its number of
  votes, and how long each of them waited for it to leave (`observe_batch`).
"""

from __future__ import annotations

import functools
import os
import re
import time
from contextlib import contextmanager

from flask import Blueprint, Flask, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)

# Most requests wait on one or two AWS calls: fine buckets below 100 ms.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

HTTP_REQUESTS = Counter(
    "voting_http_requests", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "voting_http_request_duration_seconds",
    "Time from request start to response",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
VOTES_ACCEPTED = Counter("voting_votes_accepted", "Votes queued (answered 202)")
VOTES_REFUSED = Counter("voting_votes_refused", "Votes not queued, by reason", ["reason"])
SQS_SEND_LATENCY = Histogram(
    "voting_sqs_send_duration_seconds", "SendMessage latency, failures included",
    buckets=LATENCY_BUCKETS,
)  # fmt: skip
SQS_SEND_ERRORS = Counter("voting_sqs_send_errors", "SendMessage calls that failed")
SQS_BATCH_SIZE = Histogram(
    "voting_sqs_batch_size", "Votes per SendMessageBatch (group commit)",
    buckets=(1, 2, 3, 4, 5, 6, 7, 8, 9, 10),
)  # fmt: skip
SQS_BATCH_WAIT = Histogram(
    "voting_sqs_batch_wait_seconds", "Time a vote waited for its SendMessageBatch to leave",
    buckets=(0.0005, 0.001, 0.0025, *LATENCY_BUCKETS),
)  # fmt: skip

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics():
    """The Prometheus text exposition of every process of this server."""
    return generate_latest(_registry()), 200, {"Content-Type": CONTENT_TYPE_LATEST}


def _registry() -> CollectorRegistry:
    # prometheus_client reads this variable itself, at import; we only follow it.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.before_request
    def start_timer():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def count_request(response):
        started = g.pop("metrics_started", None)
        rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
        HTTP_REQUESTS.labels(request.method, rule, str(response.status_code)).inc()
        if started is not None:
            HTTP_LATENCY.labels(request.method, rule).observe(time.perf_counter() - started)
        return response


def counts_votes(view):
    """Wrap a view that casts one vote.

    An exception is a refusal named after its class (the error handlers still
    turn it into the answer); so is a page's refusal, which the ballot box
    names (`g.vote_refused`); any other returned answer of 400 or more is a
    refusal named by its status; anything else was accepted.
    """

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        try:
            response = current_app.make_response(view(*args, **kwargs))
        except Exception as exc:
            VOTES_REFUSED.labels(reason_label(exc)).inc()
            raise
        if response.status_code >= 400:
            # A page's refusal is named as the API's (webapp/audience/ballot_box.py).
            reason = g.pop("vote_refused", None) or f"http_{response.status_code}"
            VOTES_REFUSED.labels(reason).inc()
        else:
            VOTES_ACCEPTED.inc()
        return response

    # Read by webapp/__init__.py's hook that announces the vote to the group sender.
    wrapper.casts_vote = True
    return wrapper


def reason_label(exc: Exception) -> str:
    """TopicClosed -> topic_closed; werkzeug's HTTP errors by their name (bad_request)."""
    name = type(exc).__name__
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


@contextmanager
def timed_send():
    """Time one SQS send; count it as an error if it raises."""
    started = time.perf_counter()
    try:
        yield
    except Exception:
        SQS_SEND_ERRORS.inc()
        raise
    finally:
        SQS_SEND_LATENCY.observe(time.perf_counter() - started)


def observe_batch(size: int, waits: list[float]) -> None:
    """One SendMessageBatch of the group sender: its size and each vote's wait."""
    SQS_BATCH_SIZE.observe(size)
    for waited in waits:
        SQS_BATCH_WAIT.observe(waited)
