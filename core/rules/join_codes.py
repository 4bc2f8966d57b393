"""Join codes: the six characters an audience types to join an event.

The alphabet leaves out the characters people misread or mistype for one
another on a projector or a phone keyboard: 0 and O, 1, I and L. Codes are
stored upper case; what a person types is read case-insensitively, with
spaces and dashes ignored ("ab3-def" is AB3DEF). Uniqueness is not decided
here but by the store's conditional write (core/aws/events.py).
"""

from __future__ import annotations

import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 6
# Read as typed: separators a person might add are ignored.
_SEPARATORS = str.maketrans("", "", " -_.")


def new_code(choice=secrets.choice) -> str:
    """A random code of CODE_LENGTH characters from ALPHABET (31**6, about 887 million)."""
    return "".join(choice(ALPHABET) for _ in range(CODE_LENGTH))


def normalized(typed: str | None) -> str | None:
    """The code a person meant (upper case, separators dropped), or None if it cannot be one."""
    if not typed or len(typed) > 3 * CODE_LENGTH:
        return None
    code = typed.translate(_SEPARATORS).upper()
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code
