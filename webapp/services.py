"""The services behind the views, made once per process after gunicorn forks.

Made on first use in each process (so after the fork), kept on the app, and
remade if the process id changes: boto3 clients must never be shared across a
fork. Views call `topics()`, `voting()`, `events()`, ...; only operator
commands (cli.py) use `backend()`.
"""

from __future__ import annotations

import os
from functools import partial

from flask import Flask, current_app

from core.services.assembly import Services
from webapp.metrics import observe_batch, timed_send
from webapp.push.hub import poke_event

_KEY = "voting_game"


def build(settings) -> Services:
    return Services.connect(settings, send_timer=timed_send, observe_batch=observe_batch)


def init_app(app: Flask) -> None:
    app.extensions[_KEY] = (None, None)


def current() -> Services:
    pid, made = current_app.extensions.get(_KEY, (None, None))
    if made is None or pid != os.getpid():
        made = build(current_app.config["SETTINGS"])
        # The presenter moved through this process: its event streams hear of it at once.
        made.events.on_change = partial(poke_event, app=current_app._get_current_object())
        current_app.extensions[_KEY] = (os.getpid(), made)
    return made


def close(app: Flask, timeout: float) -> int:
    """As a web process exits: send any vote still pending; how many were left unsent."""
    pid, made = app.extensions.get(_KEY, (None, None))
    if made is None or pid != os.getpid():
        return 0  # nothing was made in this process
    return made.close(timeout)


def topics():
    return current().topics


def voting():
    return current().voting


def events():
    return current().events


def event_questions():
    return current().event_questions


def runoffs():
    return current().runoffs


def accounts():
    return current().accounts


def access():
    return current().access


def qna():
    return current().qna


def players():
    return current().players


def backend():
    return current().backend


def rate_counters():
    """The counters table's adapter, where the rate limits count (webapp/limits.py)."""
    return current().backend.counters


def json_null():
    """A 200 whose body is JSON `null`, as the original's PUT answered."""
    return current_app.response_class("null", status=200, mimetype="application/json")
