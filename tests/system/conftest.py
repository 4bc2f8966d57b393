"""Fixtures of the system tests: real processes on the moto server (see tests/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.schemas.topics import TopicIn
from tests.helpers.processes import Embedded


@pytest.fixture
def topic(voting):
    """An open, unlimited topic with three choices, made through the Voting service."""
    data = TopicIn(
        title="Best editor?", choices=[{"description": d} for d in ("vim", "emacs", "nano")]
    )
    return voting.topics.create(data)


@pytest.fixture
def start(tmp_path):
    runs = []

    def start_run(data_dir: Path, flags: tuple[str, ...] = (), **extra: str) -> Embedded:
        run = Embedded(data_dir, tmp_path, flags, **extra)
        runs.append(run)
        return run

    yield start_run
    for run in runs:
        run.stop()
