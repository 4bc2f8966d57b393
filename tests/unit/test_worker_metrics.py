"""The worker's metrics object: health by the time since the last poll, batch reports as metrics."""

from __future__ import annotations

import pytest

from core.services.worker import BatchReport
from core.services.worker_metrics import MIN_HEALTH_WINDOW, WorkerMetrics
from tests.helpers.clock import Clock
from tests.helpers.observability import samples


def test_health_allows_two_wait_times_between_polls():
    clock = Clock(1000.0)
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
    clock = Clock(1000.0)
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
