"""After a failed final save, make run asks at a terminal (local/final_save.py).

The full-disk runs as processes are in tests/system/test_full_disk.py; a terminal
cannot be had there, so the questions are tested here with a scripted one.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from local import final_save as module


class Endpoint:
    def poll(self):
        return None  # still running


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def saves_only_to(good: str):
    """A save command that works only when the target's name is `good`."""

    def command(_verb, target, *_flags):
        code = 0 if Path(target).name == good else 1
        return [sys.executable, "-c", f"raise SystemExit({code})"]

    return command


@pytest.fixture
def answers(monkeypatch):
    given: list[str] = []
    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr("builtins.input", lambda _prompt="": given.pop(0))
    return given


def run(tmp_path, command, discard=False) -> bool:
    stopped = []
    saved = module.final_save(
        tmp_path / "snapshot.jsonl", [Endpoint(), "web", "worker"], {},
        stop=stopped.extend, command=command, cwd=tmp_path, discard=discard,
    )  # fmt: skip
    assert stopped == ["web", "worker"]  # everything but the endpoint, before saving
    return saved


def test_another_path_when_the_first_fails(tmp_path, answers, capsys):
    answers += ["a", str(tmp_path / "elsewhere.jsonl")]
    assert run(tmp_path, saves_only_to("elsewhere.jsonl")) is True
    assert "move it to" in capsys.readouterr().out


def test_retry_then_discard(tmp_path, answers, capsys):
    answers += ["r", "x", "d"]  # retry (fails again), a wrong key is asked again, then discard
    assert run(tmp_path, saves_only_to("never")) is False
    assert "discarded as you chose" in capsys.readouterr().err
    assert answers == []


def test_discard_in_advance_asks_nothing(tmp_path, answers, capsys):
    assert run(tmp_path, saves_only_to("never"), discard=True) is False
    assert "--discard: stopping anyway" in capsys.readouterr().err
