"""The pages' message catalogues, compiled once for every process of this user.

The .po files are the only source (translations/<lang>/LC_MESSAGES/messages.po):
they are compiled into a temporary folder named by their content (about 0.15 s
of CPU), made once by the first process that needs it and then read by every
process of this user, so a compiled .mo is never committed, never stale, and a
read-only image needs nothing written beside its code.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from functools import cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from webapp.compiled import folders

CATALOGUES = Path(__file__).resolve().parent.parent.parent / "translations"


def compile_catalogues(target: Path) -> None:
    """Every translations/<lang>/LC_MESSAGES/messages.po as a .mo under `target`."""
    for po_path in CATALOGUES.glob("*/LC_MESSAGES/messages.po"):
        lang = po_path.parent.parent.name
        with po_path.open("rb") as po_file:
            catalogue = read_po(po_file, locale=lang)
        out = target / lang / "LC_MESSAGES"
        out.mkdir(parents=True, exist_ok=True)
        with (out / "messages.mo").open("wb") as mo_file:
            write_mo(mo_file, catalogue)


@cache
def compiled_once() -> Path:
    """The compiled catalogues of these .po files: made once for this user, however many
    processes start (a server's workers, a restart) and apps they build (tests build many).

    Named by the catalogues' content and this user, so a changed .po is compiled anew.
    Made in a private folder (mkdtemp: mode 0700) and renamed into place whole, so no
    process reads a half-written one; one that is not this user's alone is not trusted.
    """
    digest = hashlib.sha256()
    for po_path in sorted(CATALOGUES.glob("*/LC_MESSAGES/messages.po")):
        digest.update(po_path.parent.parent.name.encode() + b"\0" + po_path.read_bytes())
    home = Path(tempfile.gettempdir())
    compiled = home / f"voting-game-catalogues-{os.getuid()}-{digest.hexdigest()[:20]}"
    if folders.ours(compiled):
        return compiled
    fresh = Path(tempfile.mkdtemp(prefix="voting-game-catalogues-", dir=home))
    compile_catalogues(fresh)
    try:
        fresh.rename(compiled)
    except OSError:  # another process renamed its own first, or something else is there
        if not folders.ours(compiled):
            return fresh  # not one to trust: this process keeps its own
        shutil.rmtree(fresh, ignore_errors=True)
    return compiled
