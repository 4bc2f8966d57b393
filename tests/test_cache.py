"""TTLCache: entries live `ttl` seconds, and one load serves every thread that missed."""

from __future__ import annotations

import threading
import time

from webapp.cache import TTLCache


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_serves_until_the_ttl_then_reloads():
    clock, loads = Clock(), []
    cache = TTLCache(1.0, clock=clock)
    load = lambda: loads.append(clock.now) or len(loads)  # noqa: E731
    assert cache.get_or_load("k", load) == 1
    clock.now += 0.5
    assert cache.get_or_load("k", load) == 1
    clock.now += 0.75
    assert cache.get_or_load("k", load) == 2
    assert loads == [100.0, 101.25]


def test_ttl_zero_loads_every_time():
    cache, loads = TTLCache(0), []
    for _ in range(3):
        cache.get_or_load("k", lambda: loads.append(1))
    assert len(loads) == 3


def test_threads_that_miss_together_share_one_load():
    cache = TTLCache(60)
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow_load():
        calls.append(threading.get_ident())
        started.set()
        release.wait(10)
        return "value"

    results = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get_or_load("k", slow_load)))
        for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    assert started.wait(10)
    # Give the other threads time to miss while the first load is in flight (they
    # would each call slow_load without the shared load; with it they wait).
    time.sleep(0.3)
    release.set()
    for thread in threads:
        thread.join(10)
    assert results == ["value"] * 8
    assert len(calls) == 1


def test_a_failed_load_is_not_cached():
    cache, attempts = TTLCache(60), []

    def flaky():
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("store down")
        return "ok"

    try:
        cache.get_or_load("k", flaky)
    except RuntimeError:
        pass
    assert cache.get_or_load("k", flaky) == "ok"
    assert len(attempts) == 2
