"""A clock a test moves by hand."""

from __future__ import annotations


class Clock:
    """A clock a test moves by hand: pass it where code takes `clock=time.monotonic`."""

    def __init__(self, now: float = 100.0):
        self.now = now

    def __call__(self) -> float:
        return self.now
