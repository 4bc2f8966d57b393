"""The web processes of one server tell each other of a change made through one of them.

A presenter's move is made through one web process, which reads it for its own
streams at once (webapp/push/hub.py `changed`). Its siblings, the server's other
processes, would see it only at their next read, up to READ_SECONDS later: so
the process also sends each sibling one datagram naming the feeds that changed,
and a sibling that has streams of them reads them at once. Processes of other
servers still see the change at their next read.

The siblings meet in a folder their server makes for them: gunicorn.conf.py
puts its path in the environment (FOLDER_VARIABLE) and removes it when the
server stops. Each process with streams listens there on a Unix datagram
socket. A datagram only makes a process read sooner, never says what changed,
so a stray one costs one read; and the folder must be this user's alone
(webapp/compiled/folders.py), or processes do without it. A socket left by a
process that died is removed by the first sibling that finds no one on it.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
from collections.abc import Callable, Hashable
from pathlib import Path

from webapp.compiled.folders import ours

log = logging.getLogger(__name__)

FOLDER_VARIABLE = "VOTING_PUSH_SIBLINGS"  # set by gunicorn.conf.py, one folder per server
LARGEST_DATAGRAM = 4096  # a few feed keys of two short strings


class Siblings:
    """This process's socket in the siblings' folder, and the datagrams to the others."""

    def __init__(self, folder: Path, heard: Callable[[list[Hashable]], None]):
        self.folder, self.heard = folder, heard
        self.lock = threading.Lock()
        self.sock: socket.socket | None = None
        self.path: Path | None = None

    @classmethod
    def from_environment(cls, heard: Callable[[list[Hashable]], None]) -> Siblings | None:
        """The server's siblings, or None: no folder set (one process alone), or one
        that is not this user's alone."""
        folder = os.environ.get(FOLDER_VARIABLE)
        if not folder:
            return None
        if not ours(Path(folder)):
            log.warning("%s is not this user's alone: each process reads changes on its own",
                        folder)  # fmt: skip
            return None
        return cls(Path(folder), heard)

    def listen(self) -> None:
        """From now on, hear the siblings' datagrams (once per process: the first stream)."""
        with self.lock:
            if self.sock is not None:
                return
            path = self.folder / f"{os.getpid()}-{secrets.token_hex(4)}.sock"
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            sock.bind(str(path))
            self.sock, self.path = sock, path
        threading.Thread(target=self._receive, args=(sock,), daemon=True).start()

    def _receive(self, sock: socket.socket) -> None:
        while True:
            try:
                datagram = sock.recv(LARGEST_DATAGRAM)
            except OSError:
                return  # closed: the process is stopping
            keys = keys_in(datagram)
            if keys:
                self.heard(keys)

    def tell(self, keys: list[tuple[str, ...]]) -> None:
        """Every sibling that listens: these feeds changed. Never waits on one."""
        datagram = json.dumps(keys).encode()
        sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sender.setblocking(False)
        try:
            for path in self.folder.glob("*.sock"):
                if path == self.path:
                    continue
                try:
                    sender.sendto(datagram, str(path))
                except ConnectionRefusedError:  # no one bound to it: a process that died
                    path.unlink(missing_ok=True)
                except OSError:  # its queue is full, or it just left: it reads in turn
                    pass
        finally:
            sender.close()

    def close(self) -> None:
        with self.lock:
            sock, path, self.sock, self.path = self.sock, self.path, None, None
        if sock is not None:
            sock.close()
            path.unlink(missing_ok=True)


def keys_in(datagram: bytes) -> list[tuple[str, ...]]:
    """The feed keys a datagram names: a JSON list of lists of strings, else none."""
    try:
        keys = json.loads(datagram)
    except ValueError:
        return []
    if not isinstance(keys, list):
        return []
    named = [key for key in keys if isinstance(key, list) and key]
    return [tuple(key) for key in named if all(isinstance(part, str) for part in key)]
