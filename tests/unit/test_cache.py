"""TTLCache: fresh for `ttl`, refreshed in the background up to 2 x `ttl`, one load at a time,
and a copy read after a given moment (get_loaded_after), one shared load at a time."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from core.services.cache import TTLCache
from tests.helpers.clock import Clock
from tests.helpers.waiting import wait_until


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


# -- a copy read after a moment ------------------------------------------------------------


class _Loads:
    """A loader a test holds: each call is noted, then waits for its own `release()`.

    The n-th call answers `answers[n]` (or raises it, if it is an exception)."""

    def __init__(self, *answers):
        self.answers = list(answers)
        self.started = [threading.Event() for _ in answers]
        self.releases = [threading.Event() for _ in answers]
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self):
        with self.lock:
            n, self.calls = self.calls, self.calls + 1
        assert n < len(self.answers), "more loads than the test expects"
        self.started[n].set()
        assert self.releases[n].wait(10), "the test never released this load"
        if isinstance(self.answers[n], Exception):
            raise self.answers[n]
        return self.answers[n]

    def wait_started(self, n: int) -> None:
        assert self.started[n].wait(10), f"load {n} never started"

    def release(self, n: int) -> None:
        self.releases[n].set()


def _in_flight(*threads: threading.Thread) -> bool:
    """Is every thread inside TTLCache.get_loaded_after? With the load in flight held by
    the test, a caller that got that far waits for a load: it can answer no other way."""
    frames = sys._current_frames()
    for thread in threads:
        frame = frames.get(thread.ident)
        while frame is not None and frame.f_code is not TTLCache.get_loaded_after.__code__:
            frame = frame.f_back
        if frame is None:
            return False
    return True


def _call(results: dict, name: str, call) -> threading.Thread:
    """Run `call()` in a thread; its answer (or error) lands in results[name]."""

    def run():
        try:
            results[name] = call()
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            results[name] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def test_callers_asking_for_a_copy_read_after_a_moment_share_one_load_in_flight():
    clock, loads = Clock(), _Loads("new")
    cache = TTLCache(2.0, clock=clock)
    cache.put("k", "old")  # kept at 100
    clock.now = 101.0  # the moment the callers saw "old" and want newer
    results: dict = {}
    leader = _call(results, "leader", lambda: cache.get_loaded_after("k", loads, 101.0))
    loads.wait_started(0)
    followers = [
        _call(results, n, lambda: cache.get_loaded_after("k", loads, 101.0)) for n in range(8)
    ]
    # Every follower reached the cache while the load is held: none loads again.
    wait_until(lambda: _in_flight(*followers), 10, 0.005)
    loads.release(0)
    for thread in (leader, *followers):
        thread.join(10)
    assert results == {"leader": "new", **{n: "new" for n in range(8)}}
    assert loads.calls == 1
    # And the copy kept is that load's: read at 101, good for anyone who saw 101.
    assert cache.get_loaded_after("k", _raise, 101.0) == "new"


def test_an_entry_or_a_load_that_started_before_the_moment_is_not_reused():
    clock, loads = Clock(), _Loads("read at 100.5", "read at 101")
    cache = TTLCache(60.0, clock=clock)
    cache.put("k", "kept at 100")
    assert cache.get_loaded_after("k", _raise, 100.0) == "kept at 100"  # recent enough
    clock.now = 100.5
    results: dict = {}
    early = _call(results, "early", lambda: cache.get_loaded_after("k", loads, 100.5))
    loads.wait_started(0)
    clock.now = 101.0  # a caller saw something at 101: the load in flight is too early
    late = _call(results, "late", lambda: cache.get_loaded_after("k", loads, 101.0))
    wait_until(lambda: _in_flight(late), 10, 0.005)
    assert loads.calls == 1  # one load per key at a time: the next waits for the first
    loads.release(0)
    loads.wait_started(1)
    early.join(10)
    assert results == {"early": "read at 100.5"}  # the first answered its own callers
    loads.release(1)
    late.join(10)
    assert results == {"early": "read at 100.5", "late": "read at 101"}
    assert loads.calls == 2
    # get_or_load serves the newer copy; a fresh entry is no copy "read after 102".
    assert cache.get_or_load("k", _raise) == "read at 101"
    clock.now = 102.0
    assert cache.get_loaded_after("k", lambda: "read at 102", 102.0) == "read at 102"


def test_a_load_that_lands_after_a_newer_put_does_not_replace_it():
    clock, loads = Clock(), _Loads("read at 100")
    cache = TTLCache(60.0, clock=clock)
    results: dict = {}
    reader = _call(results, "reader", lambda: cache.get_loaded_after("k", loads, 100.0))
    loads.wait_started(0)
    clock.now = 101.0
    cache.put("k", "written at 101")  # this process's own write, while the read is out
    loads.release(0)
    reader.join(10)
    assert results == {"reader": "read at 100"}  # its callers asked no later than 100
    assert cache.get_or_load("k", _raise) == "written at 101"


def test_a_failed_load_reaches_its_waiters_and_the_next_caller_loads_again():
    clock, loads = Clock(), _Loads(RuntimeError("store down"), "back")
    cache = TTLCache(60.0, clock=clock)
    results: dict = {}
    leader = _call(results, "leader", lambda: cache.get_loaded_after("k", loads, 100.0))
    loads.wait_started(0)
    followers = [
        _call(results, n, lambda: cache.get_loaded_after("k", loads, 100.0)) for n in range(4)
    ]
    wait_until(lambda: _in_flight(*followers), 10, 0.005)
    loads.release(0)
    for thread in (leader, *followers):
        thread.join(10)
    errors = list(results.values())
    assert len(errors) == 5 and all(isinstance(e, RuntimeError) for e in errors)
    assert loads.calls == 1  # the waiters shared the error, they did not retry one by one
    # Nothing kept, nothing left in flight: the key is not poisoned.
    loads.release(1)
    assert cache.get_loaded_after("k", loads, 100.0) == "back"
    assert cache.get_or_load("k", _raise) == "back"


def test_a_failed_background_refresh_does_not_block_a_copy_read_after_it():
    clock = Clock()
    cache = TTLCache(1.0, clock=clock)
    cache.put("k", "old")
    clock.now += 1.5
    failed = threading.Event()

    def fail_in_background():
        failed.set()
        raise RuntimeError("store down")

    assert cache.get_or_load("k", fail_in_background) == "old"
    assert failed.wait(10)
    wait_until(lambda: cache.get_loaded_after("k", lambda: "new", clock.now) == "new", 10, 0.01)


def test_find_with_since_keeps_no_none_and_reuses_a_recent_copy():
    clock, loads = Clock(), []
    cache = TTLCache(60.0, clock=clock)
    assert cache.find("k", lambda: loads.append(1), since=100.0) is None
    assert cache.find("k", lambda: loads.append(1) or "made", since=100.0) == "made"
    assert cache.find("k", lambda: loads.append(1) or "again", since=100.0) == "made"
    assert len(loads) == 2


def test_ttl_zero_reads_a_copy_after_any_moment_every_time():
    cache, loads = TTLCache(0), []
    for _ in range(3):
        cache.get_loaded_after("k", lambda: loads.append(1), float("-inf"))
    assert len(loads) == 3
