"""Who is acting, and the audit log: one JSON line per change to a topic, event,
account or token, naming the acting user's id ("operator" for API_KEY, ADMIN_PASSWORD
and operator commands).

The web layer says who acts for the length of a request (`acting_as`, from
webapp/access.py); the services read it to record an owner on what they create
and to write the audit line of each change. Outside a request (operator commands,
the worker) the operator acts. A line carries ids, names of fields and the action,
never a password, token or hash: core/logs.py's formatter would redact a field
named like a secret anyway.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from contextvars import ContextVar

from core.rules.accounts import THE_OPERATOR, Actor

log = logging.getLogger("audit")

_acting: ContextVar[Actor] = ContextVar("acting", default=THE_OPERATOR)


def actor() -> Actor:
    """Who acts now: the request's actor, else the operator."""
    return _acting.get()


def act_as(who: Actor):
    """Make `who` the actor of this context; returns the token `stop_acting` takes."""
    return _acting.set(who)


def stop_acting(token) -> None:
    _acting.reset(token)


@contextmanager
def acting_as(who: Actor):
    """`who` acts for the block."""
    token = act_as(who)
    try:
        yield
    finally:
        stop_acting(token)


def record(action: str, target: str, **details) -> None:
    """One audit line: `action` ("topic.create", "user.update", ...) on `target` (an id)
    by the current actor, with `details` (field names, roles: never a secret)."""
    who = actor()
    log.info(
        "audit %s %s by %s", action, target, who.id,
        extra={"audit": action, "target": target, "actor": who.id, **details},
    )  # fmt: skip
