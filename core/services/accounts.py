"""Organiser accounts: creating and changing them, passwords (argon2id), API tokens,
sign-in sessions, single sign-on accounts, and the count of failed sign-ins.

Secrets are never stored: passwords as argon2id hashes, API tokens and session ids
as SHA-256 hashes (compared with hmac.compare_digest). Failed sign-ins are counted
in the users table, so every web process sees the same count: at most
MAX_FAILURES attempts that did not succeed per account and per address in
FAILURE_WINDOW_SECONDS; an attempt is counted before its password is checked, so
parallel guesses cannot slip past the limit, and taken back when it succeeds.
"""

from __future__ import annotations

import functools
import hmac
import secrets
import time
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.aws.accounts import AccountStore
from core.rules.access import may_manage_accounts, refusal_for_own_account
from core.rules.accounts import (
    FAILURE_WINDOW_SECONDS,
    OPERATOR,
    ROLES,
    THE_OPERATOR,
    Actor,
    actor_of,
    check_email,
    check_password,
    email_domain,
    email_key,
    recent_failures,
    retry_after,
    token_hash,
    token_id_of,
    token_text,
)
from core.rules.clock import iso, new_id, utc_now
from core.rules.errors import (
    Conflict,
    EmailTaken,
    FieldInvalid,
    NotAllowed,
    SignInFailed,
    TokenNotFound,
    TooManyFailures,
    UserNotFound,
)
from core.services import audit
from core.settings import Settings

# OWASP's argon2id setting (19 MiB, 2 passes, 1 lane): tens of milliseconds a
# sign-in, and a web process's threads signing in at once stay within memory.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@functools.cache
def _dummy_hash() -> str:
    """A hash to check against when the account has none (or does not exist), so an
    unknown email takes as long as a wrong password. Made on first use, not at import."""
    return HASHER.hash("no account has this password")

# last_used is written at most this often per token.
TOKEN_TOUCH_SECONDS = 3600
WRITE_ATTEMPTS = 5


def _public(user: dict) -> dict:
    """An account as it may be shown: no password hash."""
    shown = {k: user[k] for k in ("id", "email", "role", "created", "last_upd")}
    shown["disabled"] = bool(user.get("disabled"))
    shown["password"] = bool(user.get("password_hash"))
    return shown


def _public_token(token: dict) -> dict:
    return {k: token.get(k) for k in ("id", "name", "created", "last_used")}


class Accounts:
    """Accounts, tokens, sessions and sign-in over the users table."""

    def __init__(self, store: AccountStore, settings: Settings, clock=time.time):
        self.store = store
        self.session_seconds = int(settings.session_hours * 3600)
        self.clock = clock

    # -- accounts --------------------------------------------------------------------

    def create(self, email: str, password: str | None, role: str) -> dict:
        """A new account; EmailTaken if the email (in any case) has one already.
        `password` None: an account that signs in through single sign-on only."""
        self._admins_only()
        email = check_email(email)
        if role not in ROLES:
            raise FieldInvalid("role", f"one of {', '.join(ROLES)}", "enum")
        now = utc_now()
        user = {"id": new_id(), "email": email, "role": role, "created": now, "last_upd": now,
                "disabled": False}  # fmt: skip
        if password is not None:
            user["password_hash"] = HASHER.hash(check_password(password, email))
        self.store.put_new_user(user, email_key(email))
        audit.record("user.create", user["id"], role=role)
        return _public(user)

    def all(self) -> list[dict]:
        """Every account, by email."""
        self._admins_only()
        return sorted((_public(u) for u in self.store.list_users()), key=lambda u: u["email"])

    def get(self, user_id: str) -> dict:
        self._admins_only()
        return _public(self._user(user_id))

    def by_email(self, email: str) -> dict | None:
        user_id = self.store.user_id_for_email(email_key(email))
        user = self.store.get_user(user_id) if user_id else None
        return _public(user) if user else None

    def emails_of(self, ids) -> dict[str, str]:
        """{id: email} of the accounts among `ids` (owners to show beside what they own;
        the operator and deleted accounts are left out)."""
        found = {}
        for user_id in set(ids) - {None, OPERATOR}:
            user = self.store.get_user(user_id)
            if user is not None:
                found[user_id] = user["email"]
        return found

    @staticmethod
    def _admins_only() -> None:
        """Managing accounts is for admins and the operator (operator commands included)."""
        if not may_manage_accounts(audit.actor()):
            raise NotAllowed("only admins manage accounts")

    def _user(self, user_id: str) -> dict:
        user = self.store.get_user(user_id)
        if user is None:
            raise UserNotFound(user_id)
        return user

    def update(self, user_id: str, role: str | None = None, disabled: bool | None = None,
               password: str | None = None) -> dict:  # fmt: skip
        """Change an account's role, disabled flag or password. Disabling it or giving it
        a new password ends its sessions; an admin cannot demote or disable themselves."""
        self._admins_only()
        user = self._user(user_id)
        refusal = refusal_for_own_account(audit.actor(), user, {"role": role, "disabled": disabled})
        if refusal:
            raise NotAllowed(refusal)
        if role is not None and role not in ROLES:
            raise FieldInvalid("role", f"one of {', '.join(ROLES)}", "enum")
        changed = {**user, "last_upd": utc_now()}
        fields = []
        if role is not None and role != user["role"]:
            changed["role"], fields = role, [*fields, "role"]
        if disabled is not None and disabled != bool(user.get("disabled")):
            changed["disabled"], fields = disabled, [*fields, "disabled"]
        if password is not None:
            changed["password_hash"] = HASHER.hash(check_password(password, user["email"]))
            fields.append("password")
        if not fields:
            return _public(user)
        self.store.replace_user(changed, expected_last_upd=user["last_upd"])
        if changed.get("disabled") or "password" in fields:
            self.end_sessions(user_id)
        audit.record("user.update", user_id, changed=fields)
        return _public(changed)

    def delete(self, user_id: str) -> dict:
        """Delete the account with its tokens and sessions. What it owns stays (admins see it)."""
        self._admins_only()
        user = self._user(user_id)
        refusal = refusal_for_own_account(audit.actor(), user, {"delete": True})
        if refusal:
            raise NotAllowed(refusal)
        self.store.delete_user(user, email_key(user["email"]))
        leftovers = self.store.items_of(user_id, "token") + self.store.items_of(user_id, "session")
        self.store.delete_keys([item["pk"] for item in leftovers])
        audit.record("user.delete", user_id)
        return _public(user)

    # -- passwords and failed attempts -------------------------------------------------

    def sign_in(self, email: str, password: str, address: str) -> Actor:
        """The account's Actor when the password is right; SignInFailed otherwise (unknown
        email, disabled, no password, wrong password alike); TooManyFailures while this
        account or this address has failed too often lately."""
        counted = [("account", email_key(email or "")), ("address", address)]
        self.begin_attempt(counted)
        user_id = self.store.user_id_for_email(email_key(email or ""))
        user = self.store.get_user(user_id) if user_id else None
        stored = (user or {}).get("password_hash") or _dummy_hash()
        try:
            HASHER.verify(stored, password or "")
        except (VerificationError, InvalidHashError):
            audit.record("sign_in.failed", user_id or "unknown", address=address)
            raise SignInFailed(email) from None
        if user is None or stored == _dummy_hash() or user.get("disabled"):
            audit.record("sign_in.failed", user_id or "unknown", address=address)
            raise SignInFailed(email)
        self.forget_attempt(counted)
        if HASHER.check_needs_rehash(stored):
            self._rehash(user, password)
        return actor_of(user)

    def operator_sign_in(self, candidate: str, secrets_: list[str | None], address: str) -> Actor:
        """The operator's break-glass sign-in: `candidate` against API_KEY and
        ADMIN_PASSWORD (`secrets_`), in constant time, counted as any sign-in."""
        counted = [("account", OPERATOR), ("address", address)]
        self.begin_attempt(counted)
        matched = False
        for expected in filter(None, secrets_):
            matched |= hmac.compare_digest(candidate.encode(), expected.encode())
        if not matched:
            audit.record("sign_in.failed", OPERATOR, address=address)
            raise SignInFailed(OPERATOR)
        self.forget_attempt(counted)
        return THE_OPERATOR

    def _rehash(self, user: dict, password: str) -> None:
        changed = {**user, "password_hash": HASHER.hash(password), "last_upd": utc_now()}
        try:
            self.store.replace_user(changed, expected_last_upd=user["last_upd"])
        except Conflict:
            pass  # changed meanwhile: the next sign-in rehashes

    def begin_attempt(self, counted: list[tuple[str, str]]) -> None:
        """Count one attempt against each (scope, key), or TooManyFailures when one of
        them is at the limit already (then nothing is counted)."""
        now = self.clock()
        for scope, key in counted:
            wait = retry_after(self.store.get_failures(scope, key)[0], now)
            if wait is not None:
                raise TooManyFailures(wait)
        for scope, key in counted:
            self._change_failures(scope, key, lambda times: [*times, now])

    def forget_attempt(self, counted: list[tuple[str, str]]) -> None:
        """A successful sign-in: the account's slate is wiped, the address's attempt
        taken back (its earlier failures still count)."""
        for scope, key in counted:
            if scope == "account":
                self._change_failures(scope, key, lambda times: [])
            else:
                self._change_failures(scope, key, lambda times: times[:-1])

    def _change_failures(self, scope: str, key: str, change) -> None:
        for attempt in range(WRITE_ATTEMPTS):
            times, version = self.store.get_failures(scope, key)
            now = self.clock()
            kept = change(recent_failures(times, now))
            try:
                self.store.put_failures(scope, key, kept, version,
                                        int(now) + FAILURE_WINDOW_SECONDS + 60)  # fmt: skip
                return
            except Conflict:
                if attempt == WRITE_ATTEMPTS - 1:
                    raise

    # -- API tokens --------------------------------------------------------------------

    def create_token(self, user_id: str, name: str = "") -> tuple[dict, str]:
        """A new token for the account: (what may be shown of it, the token itself, once)."""
        token_id = new_id()
        text = token_text(token_id, secrets.token_urlsafe(32))
        token = {"id": token_id, "user_id": user_id, "name": name, "hash": token_hash(text),
                 "created": utc_now()}  # fmt: skip
        self.store.put_token(token)
        audit.record("token.create", token_id, user=user_id)
        return _public_token(token), text

    def tokens(self, user_id: str) -> list[dict]:
        """The account's tokens, newest first (never a token or its hash)."""
        found = [_public_token(t) for t in self.store.items_of(user_id, "token")]
        return sorted(found, key=lambda t: t["created"], reverse=True)

    def revoke_token(self, token_id: str) -> dict:
        """Delete a token of the actor's (any token, for an admin); TokenNotFound else."""
        who = audit.actor()
        token = self.store.get_token(token_id)
        if token is None or not (who.is_admin or token["user_id"] == who.id):
            raise TokenNotFound(token_id)
        deleted = self.store.delete_token(token_id)
        if deleted is None:
            raise TokenNotFound(token_id)
        audit.record("token.revoke", token_id, user=token["user_id"])
        return _public_token(deleted)

    def token_actor(self, text: str) -> Actor:
        """The Actor a presented API token acts as; SignInFailed for a made-up, revoked
        or mistyped token, or one whose account is gone or disabled."""
        token_id = token_id_of(text)
        token = self.store.get_token(token_id) if token_id else None
        if token is None or not hmac.compare_digest(token["hash"], token_hash(text)):
            raise SignInFailed("token")
        user = self.store.get_user(token["user_id"])
        if user is None or user.get("disabled"):
            raise SignInFailed("token")
        stale = iso(datetime.now(UTC) - timedelta(seconds=TOKEN_TOUCH_SECONDS))
        self.store.touch_token(token_id, utc_now(), stale)
        return actor_of(user)

    # -- sessions ----------------------------------------------------------------------

    def start_session(self, who: Actor, fingerprint: str | None = None) -> str:
        """A new server-side session for `who`; returns its id (for the signed cookie)."""
        session_id = secrets.token_urlsafe(32)
        session = {"user_id": who.id, "created": utc_now(),
                   "expires_at": int(self.clock()) + self.session_seconds}  # fmt: skip
        if fingerprint:
            session["fingerprint"] = fingerprint
        self.store.put_session(token_hash(session_id), session)
        audit.record("session.start", who.id)
        return session_id

    def session_actor(self, session_id: str, fingerprint: str | None) -> Actor | None:
        """Who a session id signs in, or None: unknown, ended, expired, an operator
        session from before the operator's secrets changed, a disabled account."""
        session = self.store.get_session(token_hash(session_id))
        if session is None or session["expires_at"] <= self.clock():
            return None
        if session["user_id"] == OPERATOR:
            stored = session.get("fingerprint") or ""
            if not fingerprint or not hmac.compare_digest(stored, fingerprint):
                return None
            return THE_OPERATOR
        user = self.store.get_user(session["user_id"])
        if user is None or user.get("disabled"):
            return None
        return actor_of(user)

    def end_session(self, session_id: str) -> None:
        self.store.delete_session(token_hash(session_id))

    def end_sessions(self, user_id: str) -> None:
        """Sign the account out everywhere."""
        self.store.delete_keys([s["pk"] for s in self.store.items_of(user_id, "session")])

    # -- single sign-on ----------------------------------------------------------------

    def sso_actor(self, email: str | None, verified: bool, allowed_domains: list[str]) -> Actor:
        """The account a provider's verified email names. With none yet, one is made
        (organiser, no password) when the email's domain is allowed; NotAllowed else.
        SignInFailed for an unverified email or a disabled account."""
        if not email or verified is not True:
            raise SignInFailed("unverified email")
        user_id = self.store.user_id_for_email(email_key(email))
        user = self.store.get_user(user_id) if user_id else None
        if user is None:
            if email_domain(email) not in {d.casefold() for d in allowed_domains}:
                raise NotAllowed("no account has this email")
            try:
                return actor_of({**self.create(email, None, "organiser"), "email": email})
            except EmailTaken:  # made meanwhile by a second sign-in: use it
                return self.sso_actor(email, verified, [])
        if user.get("disabled"):
            raise SignInFailed(email)
        return actor_of(user)
