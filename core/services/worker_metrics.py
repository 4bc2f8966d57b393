"""The worker's metrics and health: Prometheus metrics and an HTTP server on METRICS_PORT.

The original kept its App Runner worker warm by polling a Prometheus
endpoint on port 9191; ours answers there too:

- GET /metrics  the metrics below, Prometheus text format.
- GET /healthz  200 while the worker completes long polls; 503 once no poll
                has completed for 2 x WORKER_WAIT_SECONDS, 10 s at least (SQS
                unreachable, the loop stuck in a batch), so a platform restarts it.

The worker is one process: values live in memory, in a registry of its own,
never in the web's PROMETHEUS_MULTIPROC_DIR (see `_single_process` below).
Nothing from the web layer is imported here.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# prometheus_client picks file-backed values at import when this variable is
# set. Should an operator export it for the whole container, the worker would
# write into the web's directory and its counters would appear in the web's
# /metrics: the worker always counts in memory.
os.environ.pop("PROMETHEUS_MULTIPROC_DIR", None)

from prometheus_client import (  # noqa: E402  (after the line above, on purpose)
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

log = logging.getLogger("worker.metrics")

BATCH_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
# /healthz allows 2 x the long-poll wait between completed polls, but never
# less than this: with a 1 s wait (dev, tests) one slow receive or batch on a
# busy host would otherwise get a working worker restarted.
MIN_HEALTH_WINDOW = 10


class WorkerMetrics:
    """The worker's metrics in their own registry, and what /healthz decides from.

    `clock` is time.monotonic by default (health ages); `wall` is time.time
    (timestamps and message ages, which SQS gives in epoch milliseconds).
    """

    def __init__(self, wait_seconds: int, clock=time.monotonic, wall=time.time):
        self.registry = CollectorRegistry()
        self.wait_seconds = wait_seconds
        self.clock = clock
        self.wall = wall
        self._started = clock()
        self._last_poll: float | None = None
        r = self.registry
        self.polls = Counter("voting_worker_polls", "Long polls completed", registry=r)
        self.receive_errors = Counter(
            "voting_worker_receive_errors", "Long polls that failed", registry=r
        )
        self.batches = Counter("voting_worker_batches", "Non-empty batches processed", registry=r)
        self.messages = Counter("voting_worker_messages_received", "Messages received", registry=r)
        self.votes = Counter(
            "voting_worker_votes", "Messages by outcome: counted, duplicate, rejected, failed",
            ["outcome"], registry=r,
        )  # fmt: skip
        self.delete_failed = Counter(
            "voting_worker_delete_failed", "Recorded messages SQS did not delete", registry=r
        )
        self.retries = Counter(
            "voting_worker_transaction_retries",
            "Batch transactions retried, by cancellation reason",
            ["reason"],
            registry=r,
        )
        self.batch_seconds = Histogram(
            "voting_worker_batch_duration_seconds", "Time to record and delete one batch",
            buckets=BATCH_BUCKETS, registry=r,
        )  # fmt: skip
        self.oldest_age = Gauge(
            "voting_worker_oldest_message_age_seconds",
            "Age (from SentTimestamp) of the oldest message in the latest batch",
            registry=r,
        )
        self.last_success = Gauge(
            "voting_worker_last_success_timestamp_seconds",
            "Unix time of the latest batch that recorded at least one vote",
            registry=r,
        )
        self.last_poll_ts = Gauge(
            "voting_worker_last_poll_timestamp_seconds",
            "Unix time of the latest completed long poll",
            registry=r,
        )
        for outcome in ("counted", "duplicate", "rejected", "failed"):
            self.votes.labels(outcome)  # present at 0 from the start, so rate() works

    # -- hooks called by the worker loop --------------------------------------

    def polled(self) -> None:
        """A long poll completed (with or without messages)."""
        self._last_poll = self.clock()
        self.polls.inc()
        self.last_poll_ts.set(self.wall())

    def receive_failed(self) -> None:
        self.receive_errors.inc()

    def batch(self, report, messages, seconds: float) -> None:
        """Record one processed batch: `report` is worker.BatchReport."""
        self.batches.inc()
        self.messages.inc(report.received)
        self.votes.labels("counted").inc(report.counted)
        self.votes.labels("duplicate").inc(report.duplicates)
        self.votes.labels("rejected").inc(report.rejected)
        self.votes.labels("failed").inc(report.failed)
        self.delete_failed.inc(report.delete_failed)
        for reason, count in report.retries.items():
            self.retries.labels(reason).inc(count)
        self.batch_seconds.observe(seconds)
        sent = [m.sent_timestamp_ms for m in messages if m.sent_timestamp_ms]
        if sent:
            self.oldest_age.set(max(0.0, self.wall() - min(sent) / 1000))
        if report.counted + report.rejected + report.duplicates > 0:
            self.last_success.set(self.wall())

    # -- health ---------------------------------------------------------------

    def health(self) -> tuple[bool, dict]:
        """Healthy while the latest poll (or the start) is at most 2 x wait (10 s at least) ago."""
        since = self._last_poll if self._last_poll is not None else self._started
        age = self.clock() - since
        limit = max(2 * self.wait_seconds, MIN_HEALTH_WINDOW)
        body = {
            "status": "ok" if age <= limit else "stalled",
            "seconds_since_poll": round(age, 3),
            "limit_seconds": limit,
            "polled": self._last_poll is not None,
        }
        return age <= limit, body

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


class _Handler(BaseHTTPRequestHandler):
    metrics: WorkerMetrics  # set on the subclass made by `serve`

    def do_GET(self):  # noqa: N802 (http.server's naming)
        path = self.path.split("?", 1)[0]
        if path == "/metrics":
            self._answer(200, self.metrics.exposition(), CONTENT_TYPE_LATEST)
        elif path == "/healthz":
            ok, body = self.metrics.health()
            self._answer(200 if ok else 503, json.dumps(body).encode(), "application/json")
        else:
            body = json.dumps({"detail": "Not found: try /metrics or /healthz"}).encode()
            self._answer(404, body, "application/json")

    def _answer(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002
        # Scrapes every few seconds would drown the batch lines; errors still show.
        pass


def serve(metrics: WorkerMetrics, port: int, host: str = "0.0.0.0") -> ThreadingHTTPServer:
    """Start the metrics/health server on a daemon thread; raises OSError if the port is taken."""
    handler = type("Handler", (_Handler,), {"metrics": metrics})
    server = ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="metrics-http", daemon=True)
    thread.start()
    return server
