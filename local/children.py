"""How the launcher starts its children: out of the terminal's reach, never outliving it.

Each child (moto, the snapshot watcher, the worker, gunicorn) runs in a session
of its own, so the terminal's Ctrl-C (SIGINT to the foreground process group)
and hang-up (SIGHUP) reach the launcher alone, and the launcher signals each
child once: gunicorn's workers getting the terminal's SIGINT and the master's
SIGTERM together could deadlock re-entering their shutdown, holding the port.

And each child gets a parent-death signal (Linux's PR_SET_PDEATHSIG): if the
launcher dies without stopping them (SIGKILL by a supervisor, a crash), the
kernel sends them SIGTERM, so nothing is left behind holding ports or data.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

_PR_SET_PDEATHSIG = 1


def spawn_options() -> dict:
    """Popen keyword arguments for a launcher's child."""
    return {"start_new_session": True, "preexec_fn": _die_with_parent(os.getpid())}


def _die_with_parent(parent: int):
    # Looked up here, in the parent: the child between fork and exec should only call.
    prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform.startswith("linux") else None

    def setup() -> None:  # runs in the child, between fork and exec
        if prctl is not None:
            prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        # The launcher may have died before prctl: then nobody would ever signal us.
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)

    return setup
