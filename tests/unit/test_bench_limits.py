"""The benchmarks' stacks run with every rate limit off, so Flask-Limiter is switched off
and its own cost is in no figure (bench/common.py LIMITS_OFF)."""

from __future__ import annotations

from bench.common import LIMITS_OFF
from webapp import create_app


def test_the_benchmarks_environment_switches_the_limiter_off(monkeypatch):
    for name, value in LIMITS_OFF.items():
        monkeypatch.setenv(name, value)
    app = create_app({"TESTING": True})
    assert app.config["RATELIMIT_ENABLED"] is False
