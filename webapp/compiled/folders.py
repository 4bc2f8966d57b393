"""Folders in the temp directory where this user's processes keep what each would
otherwise compile again: the pages' message catalogues (catalogues.py) and the
templates' compiled code (templates.py). A server's workers, a restart
and the tests' many apps then compile each once.

What is read back from them is loaded as code or messages of ours, so a folder is
used only when it is this user's and no one else may write to it.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


def ours(folder: Path) -> bool:
    """A folder of this user's that no one else may write to."""
    try:
        info = folder.lstat()
    except OSError:
        return False
    return stat.S_ISDIR(info.st_mode) and info.st_uid == os.getuid() and not info.st_mode & 0o022


def named(name: str) -> Path:
    """<temp>/<name>-<uid>: where this user's processes look for what they share."""
    return Path(tempfile.gettempdir()) / f"{name}-{os.getuid()}"


def private(name: str) -> Path:
    """The shared folder `name`, made (mode 0700) if missing; when something not ours
    alone holds that name, a fresh private folder this process keeps to itself."""
    folder = named(name)
    try:
        folder.mkdir(mode=0o700)
    except OSError:  # there already (ours from an earlier start, or not ours)
        pass
    if ours(folder):
        return folder
    return Path(tempfile.mkdtemp(prefix=f"{name}-"))
