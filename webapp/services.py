"""The per-process objects behind the views: the AWS adapters and the Voting service.

Made on first use in each process (so after gunicorn forks), kept on the app,
and remade if the process id changes: boto3 clients must never be shared
across a fork. Views use `voting()` and `events()`; only operator commands (cli.py) use
`backend()` directly.
"""

from __future__ import annotations

import os

from flask import Flask, current_app

from core.aws.backend import Backend
from core.events import Events
from core.question_tools import QuestionTools
from core.runoffs import Runoffs
from core.voting import Voting

from .metrics import observe_batch, timed_send

_KEY = "voting_game"
_EVENTS_KEY = "voting_game_events"


def build(settings) -> tuple[Backend, Voting]:
    backend = Backend.connect(settings)
    return backend, Voting(backend, settings, send_timer=timed_send, observe_batch=observe_batch)


def init_app(app: Flask) -> None:
    app.extensions[_KEY] = (None, None)


def _current() -> tuple[Backend, Voting]:
    pid, made = current_app.extensions.get(_KEY, (None, None))
    if made is None or pid != os.getpid():
        made = build(current_app.config["SETTINGS"])
        current_app.extensions[_KEY] = (os.getpid(), made)
    return made


def close(app: Flask, timeout: float) -> int:
    """As a web process exits: send any vote still pending; how many were left unsent."""
    pid, made = app.extensions.get(_KEY, (None, None))
    if made is None or pid != os.getpid():
        return 0  # nothing was made in this process
    return made[1].close(timeout)


def voting() -> Voting:
    return _current()[1]


def backend() -> Backend:
    return _current()[0]


def events() -> Events:
    """The Events service of this process, over the same Voting service (and its caches)."""
    pid, made = current_app.extensions.get(_EVENTS_KEY, (None, None))
    if made is None or pid != os.getpid():
        backend_, voting_ = _current()
        made = Events(backend_.events, voting_, current_app.config["SETTINGS"])
        current_app.extensions[_EVENTS_KEY] = (os.getpid(), made)
    return made


def question_tools() -> QuestionTools:
    """Duplicate, reset and delete an event's questions, over this process's Events."""
    return QuestionTools(events())


def runoffs() -> Runoffs:
    """A ranking's instant runoff, computed and stored over this process's Voting."""
    return Runoffs(voting())


def json_null():
    """A 200 whose body is JSON `null`, as the original's PUT answered."""
    return current_app.response_class("null", status=200, mimetype="application/json")
