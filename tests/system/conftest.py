"""Fixtures of the system tests: real processes on the moto server (see tests/conftest.py)."""

from __future__ import annotations

import pytest

from core.schemas import TopicIn


@pytest.fixture
def topic(voting):
    """An open, unlimited topic with three choices, made through the Voting service."""
    data = TopicIn(
        title="Best editor?", choices=[{"description": d} for d in ("vim", "emacs", "nano")]
    )
    return voting.create_topic(data)
