"""The accounts API's shapes: organiser accounts, API tokens, an event's co-hosts.

No shape here carries a password hash or a stored token: a token is shown once,
in TokenCreated, and never again.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr

from core.rules.accounts import MAX_EMAIL, MAX_PASSWORD, MIN_PASSWORD
from core.rules.fields import WHITESPACE

Role = Literal["admin", "organiser"]
# core/rules/accounts.py's check, as JSON Schema can say it (the service checks again).
EMAIL_PATTERN = rf"^[^@{WHITESPACE}]+@[^@{WHITESPACE}.]+(\.[^@{WHITESPACE}.]+)+$"
Email = Field(max_length=MAX_EMAIL, pattern=EMAIL_PATTERN,
              description="Unique in any case (Ada@x.org is ada@x.org).")  # fmt: skip
Password = Field(min_length=MIN_PASSWORD, max_length=MAX_PASSWORD, description=(
    "At least 10 characters, not a common password, not the email."))  # fmt: skip


class _AccountRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", strict=False)
    api_key: str | None = Field(default=None, exclude=True, repr=False)


class UserIn(_AccountRequest):
    """Body of POST /users (the operator key or an admin)."""

    email: StrictStr = Email
    password: StrictStr = Password
    role: Role = "organiser"


class UserPatch(_AccountRequest):
    """Body of PATCH /users/{id}: what to change (an admin cannot demote or disable
    themselves). A disabled account cannot sign in and its tokens stop working."""

    role: Role | None = None
    disabled: StrictBool | None = None
    password: StrictStr | None = Field(default=None, min_length=MIN_PASSWORD,
                                       max_length=MAX_PASSWORD,
                                       description="A new password (the same rules).")


class UserOut(BaseModel):
    id: str
    email: str
    role: Role
    created: str
    last_upd: str
    disabled: bool
    password: bool = Field(description="Whether the account has a password (else single "
                                       "sign-on only). Never the password itself.")  # fmt: skip


class TokenIn(_AccountRequest):
    """Body of POST /auth/tokens: an account's email and password, and a name to tell
    the token by (optional)."""

    email: StrictStr = Field(max_length=MAX_EMAIL)
    password: StrictStr = Field(max_length=MAX_PASSWORD)
    name: StrictStr = Field(default="", max_length=100)


class TokenCreated(BaseModel):
    """A new API token: send it as `Authorization: Bearer <token>`. Shown only now."""

    id: str
    token: str
    name: str
    created: str


class TokenOut(BaseModel):
    id: str
    name: str
    created: str
    last_used: str | None = Field(description="Within the hour: noted at most hourly.")


class Me(BaseModel):
    """Who the credentials act as: a user, or the operator (id "operator")."""

    id: str
    email: str | None
    role: Literal["admin", "organiser", "operator"]


class HostIn(_AccountRequest):
    """Body of POST /events/{id}/hosts: the organiser to add, by their account's email."""

    email: StrictStr = Field(max_length=MAX_EMAIL, pattern=EMAIL_PATTERN)


class Person(BaseModel):
    id: str = Field(description='A user id, or "operator".')
    email: str | None = Field(description="None for the operator or a deleted account.")


class People(BaseModel):
    """An event's owner and co-hosts: co-hosts present and edit it; only its owner (or an
    admin) deletes it or changes who co-hosts."""

    event_id: str
    owner: Person
    hosts: list[Person]
