"""Waiting for something to become true, bounded, with a message that says what."""

from __future__ import annotations

import time

import requests


def wait_until(check, timeout: float = 30.0, interval: float = 0.2, message: str = ""):
    """Poll `check()` until it returns something truthy; fail the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(message or f"condition not met within {timeout:.0f}s")


def wait_for(check, timeout: float = 60.0, interval: float = 0.2, message: str = ""):
    """wait_until with a longer default: for tests that start whole stacks."""
    return wait_until(check, timeout, interval, message)


def try_get(url: str) -> requests.Response | None:
    """GET `url`, or None while nothing listens there."""
    try:
        return requests.get(url, timeout=5)
    except requests.ConnectionError:
        return None


def clear_of_a_minute_edge(margin: float = 5.0) -> None:
    """Wait, if need be, until `margin` seconds or more are left of this minute: rate
    limits count in fixed windows aligned to the minute (core/services/shared_counts.py),
    and a test's few requests made across a minute's end would count in two windows."""
    left = 60 - time.time() % 60
    if left < margin:
        time.sleep(left + 0.05)
