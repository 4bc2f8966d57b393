"""The JSON API of accounts: organiser accounts (admins and the operator key), and API
tokens (each account its own).

Who may call what is webapp/access.py's gate and the accounts service's checks:
an organiser's call to /users is a 403, a call without credentials a 401.
POST /auth/tokens is the one way in with an email and a password; its failures
count towards the same limit as the sign-in page's (10 in 15 minutes per account
and per address, then 429).
"""

from __future__ import annotations

from flask import Blueprint

from core.schemas.accounts import (
    Me,
    TokenCreated,
    TokenIn,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
)
from core.services import audit
from webapp import services
from webapp.access import current_actor
from webapp.api.openapi import doc
from webapp.body import parse
from webapp.limits import client_address, limit_login

bp = Blueprint("accounts_api", __name__)


@bp.post("/users")
@doc("Create an organiser account (admin)", body=UserIn, responses={201: UserOut}, status=201,
     errors=(403, 409))  # fmt: skip
def create_user():
    """A weak password (under 10 characters, common, the email) is a 422; an email
    another account has, in any case, a 409."""
    data = parse(UserIn)
    return services.accounts().create(data.email, data.password, data.role), 201


@bp.get("/users")
@doc("List accounts (admin)", responses={200: list[UserOut]}, errors=(403,))
def list_users():
    return services.accounts().all()


@bp.get("/users/<user_id>")
@doc("Get an account (admin)", responses={200: UserOut}, errors=(403,))
def get_user(user_id):
    return services.accounts().get(user_id)


@bp.patch("/users/<user_id>")
@doc("Change an account's role, disabled flag or password (admin)", body=UserPatch,
     responses={200: UserOut}, errors=(403, 409))  # fmt: skip
def update_user(user_id):
    """Disabling an account or setting its password signs it out everywhere."""
    data = parse(UserPatch)
    return services.accounts().update(user_id, role=data.role, disabled=data.disabled,
                                      password=data.password)  # fmt: skip


@bp.delete("/users/<user_id>")
@doc("Delete an account with its tokens; what it owns stays, for admins (admin)",
     responses={200: UserOut}, errors=(403, 409))  # fmt: skip
def delete_user(user_id):
    return services.accounts().delete(user_id)


# -- API tokens -------------------------------------------------------------------------


@bp.post("/auth/tokens")
@doc("Trade an account's email and password for an API token (shown once)", body=TokenIn,
     responses={201: TokenCreated}, status=201, errors=(401, 429))  # fmt: skip
@limit_login
def create_token():
    """The token acts as its account (same role and rights) until revoked."""
    data = parse(TokenIn)
    accounts = services.accounts()
    actor = accounts.sign_in(data.email, data.password, client_address())
    with audit.acting_as(actor):
        shown, token = accounts.create_token(actor.id, data.name)
    return {"id": shown["id"], "token": token, "name": shown["name"],
            "created": shown["created"]}, 201  # fmt: skip


@bp.get("/auth/tokens")
@doc("List your API tokens (never the tokens themselves)", responses={200: list[TokenOut]})
def list_tokens():
    return services.accounts().tokens(current_actor().id)


@bp.delete("/auth/tokens/<token_id>")
@doc("Revoke an API token of yours (an admin: anyone's)", responses={200: TokenOut})
def revoke_token(token_id):
    return services.accounts().revoke_token(token_id)


@bp.get("/auth/me")
@doc("Who these credentials act as", responses={200: Me})
def me():
    actor = current_actor()
    return {"id": actor.id, "email": actor.email, "role": actor.role}
