"""The per-process objects behind the views: Store, VoteQueue and Voting.

Made on first use in each process (so after gunicorn forks), kept on the app,
and remade if the process id changes: boto3 clients must never be shared
across a fork.
"""

from __future__ import annotations

import os

from flask import Flask, current_app

from .aws import clients_for
from .queue import VoteQueue
from .store import Store
from .voting import Voting

_KEY = "voting_game"


def build(settings) -> Voting:
    clients = clients_for(settings)
    store = Store(clients.dynamodb, settings.table_prefix)
    queue = VoteQueue(clients.sqs, settings.full_queue_name, settings.dlq_name)
    return Voting(store, queue, settings)


def init_app(app: Flask) -> None:
    app.extensions[_KEY] = (None, None)


def voting() -> Voting:
    pid, instance = current_app.extensions.get(_KEY, (None, None))
    if instance is None or pid != os.getpid():
        instance = build(current_app.config["SETTINGS"])
        current_app.extensions[_KEY] = (os.getpid(), instance)
    return instance


def json_null():
    """A 200 whose body is JSON `null`, as the original's PUT answered."""
    return current_app.response_class("null", status=200, mimetype="application/json")
