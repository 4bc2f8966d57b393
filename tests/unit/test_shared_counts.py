"""The shared rate limit counts (core/services/shared_counts.py) over a counter store
shared by two storages, as two web processes share the counters table."""

from __future__ import annotations

from limits import parse
from limits.strategies import FixedWindowRateLimiter

from core.services.shared_counts import SharedCounts, limit_of


class SharedTable:
    """The counters table: atomic adds, counted calls."""

    def __init__(self):
        self.hits: dict[str, int] = {}
        self.calls = 0

    def add(self, key: str, amount: int, expires_at: int) -> int:
        self.calls += 1
        self.hits[key] = self.hits.get(key, 0) + amount
        return self.hits[key]


def _process(table: SharedTable) -> SharedCounts:
    # A flusher that never wakes on its own: the test flushes when it says so.
    return SharedCounts("dynamodb://", counters=lambda: table, flush_seconds=3600)


def test_the_limit_amount_is_read_from_the_key():
    assert limit_of(parse("60 per minute").key_for("LIMITER", "voter:alice", "votes")) == 60
    assert limit_of("no-amount-here") is None


def test_two_processes_give_one_voter_one_budget():
    table = SharedTable()
    limit = parse("10 per day")
    processes = [FixedWindowRateLimiter(_process(table)) for _ in range(2)]
    accepted = 0
    for n in range(60):
        limiter = processes[n % 2]
        accepted += limiter.hit(limit, "voter:alice")
        if n % 4 == 3:  # each process's flusher runs now and then
            for p in processes:
                p.storage.flush()
    # Per process it would be 20. Shared: the limit, plus at most half of it for what the
    # other process had not added yet.
    assert 10 <= accepted <= 15


def test_a_voter_voting_now_and_then_costs_no_write_and_a_busy_address_is_batched():
    table = SharedTable()
    storage = _process(table)
    limiter = FixedWindowRateLimiter(storage)
    for n in range(600):
        assert limiter.hit(parse("60 per minute"), f"voter:v{n}")  # one vote each
        assert limiter.hit(parse("5000 per minute"), "address:10.0.0.1")
    assert table.calls == 0  # all counted here, none added yet
    storage.flush()
    # The 600 voters stay below a tenth of their limit: never written. The address's
    # 600 hits (past a tenth of 5000) are one add.
    assert table.calls == 1 and list(table.hits.values()) == [600]
