"""Vote intake paused from outside: a file whose words, while there, refuse votes with 503.

PAUSE_VOTES_FILE names the file (unset: never paused). While it holds any text,
every vote route answers 503 with that text and Retry-After, and /readyz is 503
naming it; empty or absent, votes flow. One stat() per vote, no cache, so a
pause takes effect at once.

`make run` uses it (local/launcher.py, local/snapshot_cli.py): when a save of the
local endpoint's data fails, for instance on a full disk, votes answered 202
could be lost on the next stop, so intake pauses until a save succeeds again.
An operator can use it too (`echo "maintenance" > FILE`).
"""

from __future__ import annotations

import functools
import os

from flask import current_app

from webapp.errors import error_response

RETRY_AFTER_SECONDS = 5


def paused_reason() -> str | None:
    """The text of the pause file, or None when votes are taken."""
    path = current_app.config["SETTINGS"].pause_votes_file
    if not path:
        return None
    try:
        if os.stat(path).st_size == 0:
            return None
        with open(path, errors="replace") as handle:
            return handle.read(2000).strip() or None
    except FileNotFoundError:
        return None


def refuse_while_paused(view):
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        reason = paused_reason()
        if reason:
            detail = f"Votes are paused: {reason}"
            return error_response(503, detail, {"Retry-After": str(RETRY_AFTER_SECONDS)})
        return view(*args, **kwargs)

    return wrapped
