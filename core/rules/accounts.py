"""Organiser accounts: roles, who is acting, emails, the password policy, the API
tokens' shape, and how many failed sign-ins are too many.

Pure: times are passed in, nothing is stored or hashed slowly here (the accounts
service hashes passwords with argon2id). The shipped common-passwords list is read
once, from common_passwords.txt beside this module.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from core.rules.errors import FieldInvalid

ADMIN = "admin"
ORGANISER = "organiser"
ROLES = (ADMIN, ORGANISER)
# The holder of API_KEY or ADMIN_PASSWORD: every right, and the owner of whatever was
# made before accounts existed (items without an `owner`).
OPERATOR = "operator"


@dataclass(frozen=True)
class Actor:
    """Who a request acts as: a user (their id, role and email), or the operator."""

    id: str
    role: str
    email: str | None = None

    @property
    def is_admin(self) -> bool:
        """Admins and the operator see and change everything, and manage accounts."""
        return self.role in (ADMIN, OPERATOR)

    @property
    def is_operator(self) -> bool:
        return self.role == OPERATOR


THE_OPERATOR = Actor(OPERATOR, OPERATOR)


def actor_of(user: dict) -> Actor:
    """The Actor a stored user acts as."""
    return Actor(user["id"], user["role"], user["email"])


# -- emails --------------------------------------------------------------------------

MAX_EMAIL = 254
# One @, something on each side, a dot in the domain, no spaces: what a person types.
# Deliverability is the mail system's business; uniqueness is ours (email_key).
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def check_email(email: object) -> str:
    """The email as given, trimmed; FieldInvalid("email") when it is not one."""
    if not isinstance(email, str):
        raise FieldInvalid("email", "an email address is required", "email_invalid")
    email = unicodedata.normalize("NFC", email.strip())
    if len(email) > MAX_EMAIL or not _EMAIL.match(email):
        raise FieldInvalid("email", "not an email address", "email_invalid")
    return email


def email_key(email: str) -> str:
    """What makes two emails the same account: trimmed, NFC, case folded (so
    Ada@Example.org and ada@example.ORG are one)."""
    return unicodedata.normalize("NFC", email.strip()).casefold()


def email_domain(email: str) -> str:
    return email_key(email).rpartition("@")[2]


# -- passwords -----------------------------------------------------------------------

MIN_PASSWORD = 10
# argon2 takes any length, but an unbounded body would be unbounded work per attempt.
MAX_PASSWORD = 1024
_COMMON = Path(__file__).with_name("common_passwords.txt")


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords (lower case)."""
    lines = _COMMON.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def password_problem(password: object, email: str | None = None) -> str | None:
    """Why `password` may not be an account's password, or None when it may."""
    if not isinstance(password, str):
        return "a password is required"
    if len(password) < MIN_PASSWORD:
        return f"use at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"use at most {MAX_PASSWORD} characters"
    folded = password.casefold()
    if folded in common_passwords():
        return "this password is on a list of common passwords: choose another"
    if len(set(folded)) == 1:
        return "a password of one repeated character is too easy to guess"
    if email and folded in {email_key(email), email_key(email).partition("@")[0]}:
        return "a password may not be the email address"
    return None


def check_password(password: object, email: str | None = None) -> str:
    """The password, or FieldInvalid("password") saying what is wrong with it."""
    problem = password_problem(password, email)
    if problem:
        raise FieldInvalid("password", problem, "weak_password")
    return password  # type: ignore[return-value]


# -- API tokens ----------------------------------------------------------------------

# vg_<token id>_<secret>: the id finds the stored token (one GetItem), the secret is
# checked against its stored SHA-256 in constant time. Ids are uuid4 text (no "_").
TOKEN_PREFIX = "vg_"
_TOKEN = re.compile(r"^vg_([0-9a-f-]{36})_([A-Za-z0-9_-]{32,128})$")


def token_text(token_id: str, secret: str) -> str:
    return f"{TOKEN_PREFIX}{token_id}_{secret}"


def token_id_of(text: str) -> str | None:
    """The token id a presented token names, or None when it is not one of ours."""
    match = _TOKEN.match(text or "")
    return match[1] if match else None


def token_hash(text: str) -> str:
    """What is stored of a token (or a session id): its SHA-256, hex.

    A fast hash is enough: these are 256-bit random secrets, which no guessing
    reaches, unlike passwords (which people choose, hence argon2id)."""
    return hashlib.sha256(text.encode()).hexdigest()


# -- failed sign-ins -----------------------------------------------------------------

MAX_FAILURES = 10
FAILURE_WINDOW_SECONDS = 15 * 60


def recent_failures(times: list[float], now: float) -> list[float]:
    """The failure times still inside the window, oldest first."""
    return sorted(t for t in times if now - FAILURE_WINDOW_SECONDS < t <= now)


def retry_after(times: list[float], now: float) -> int | None:
    """Seconds until one more attempt may be made, or None while attempts are allowed.

    Allowed while fewer than MAX_FAILURES failed inside the window; then, once the
    oldest of the last MAX_FAILURES leaves it."""
    recent = recent_failures(times, now)
    if len(recent) < MAX_FAILURES:
        return None
    oldest = recent[-MAX_FAILURES]
    return max(1, int(oldest + FAILURE_WINDOW_SECONDS - now) + 1)
