"""TTLCache: fresh for `ttl`, refreshed in the background up to 2 x `ttl`, one load at a time."""

from __future__ import annotations

import threading
import time

import pytest

from core.services.cache import TTLCache
from tests.helpers import Clock, wait_until


def _held_load(release: threading.Event, calls: list):
    """A load that notes its call, then waits for `release` before answering "new"."""

    def load():
        calls.append(1)
        release.wait(10)
        return "new"

    return load


def test_fresh_entries_are_served_without_loading():
    clock, loads = Clock(), []
    cache = TTLCache(1.0, clock=clock)
    assert cache.get_or_load("k", lambda: loads.append(1) or "a") == "a"
    clock.now += 0.75
    assert cache.get_or_load("k", lambda: loads.append(1) or "b") == "a"
    assert len(loads) == 1


def test_expired_entry_is_served_while_one_background_load_refreshes_it():
    clock = Clock()
    cache = TTLCache(1.0, clock=clock)
    cache.get_or_load("k", lambda: "old")
    clock.now += 1.5  # past the ttl, within 2 x ttl
    release, calls = threading.Event(), []
    slow_load = _held_load(release, calls)

    # The caller does not wait for the read; neither do the next ones, and
    # they start no second load.
    assert [cache.get_or_load("k", slow_load) for _ in range(5)] == ["old"] * 5
    wait_until(lambda: calls, timeout=10, interval=0.01)
    release.set()
    wait_until(lambda: cache.get_or_load("k", slow_load) == "new", timeout=10, interval=0.01)
    assert len(calls) == 1


def test_entry_older_than_twice_the_ttl_is_never_served():
    clock = Clock()
    cache = TTLCache(1.0, clock=clock)
    cache.get_or_load("k", lambda: "old")
    clock.now += 2.0
    assert cache.get_or_load("k", lambda: "new") == "new"


def test_without_serving_stale_an_expired_entry_waits_for_one_load():
    clock = Clock()
    cache = TTLCache(1.0, clock=clock, serve_stale=False)
    cache.get_or_load("k", lambda: "old")
    clock.now += 0.75
    assert cache.get_or_load("k", lambda: "unused") == "old"  # fresh: no load
    clock.now += 0.5  # past the ttl, within 2 x ttl: the caller gets the new value
    release, calls = threading.Event(), []
    slow_load = _held_load(release, calls)

    # Five callers at once: every one waits for the same single load.
    answers = []
    threads = [
        threading.Thread(target=lambda: answers.append(cache.get_or_load("k", slow_load)))
        for _ in range(5)
    ]
    for thread in threads:
        thread.start()
    wait_until(lambda: calls, timeout=10, interval=0.01)
    assert answers == []
    release.set()
    for thread in threads:
        thread.join(10)
    assert answers == ["new"] * 5 and len(calls) == 1


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


def test_failed_loads_are_not_cached():
    clock = Clock()
    cache = TTLCache(1.0, clock=clock)
    with pytest.raises(RuntimeError):
        cache.get_or_load("k", _raise)
    assert cache.get_or_load("k", lambda: "ok") == "ok"
    # A failed background refresh leaves the old value until it is too old.
    clock.now += 1.5
    failed = threading.Event()

    def fail_in_background():
        failed.set()
        raise RuntimeError("store down")

    assert cache.get_or_load("k", fail_in_background) == "ok"
    assert failed.wait(10)
    clock.now += 1.0
    with pytest.raises(RuntimeError):
        cache.get_or_load("k", _raise)


def _raise():
    raise RuntimeError("store down")


def test_find_keeps_no_none_and_fresh_always_loads():
    clock, loads = Clock(), []
    cache = TTLCache(1.0, clock=clock)
    # "No such item" is not kept: the item made a moment later is found at once.
    assert cache.find("k", lambda: loads.append(1)) is None
    assert cache.find("k", lambda: loads.append(1) or "made") == "made"
    assert cache.find("k", lambda: loads.append(1) or "other") == "made"  # cached
    assert cache.find("k", lambda: loads.append(1) or "fresh", fresh=True) == "fresh"
    assert len(loads) == 3
