"""Admin pages of accounts: the users list (admins: create, change role, disable, set a
password, delete) and "my tokens" (everyone: create, shown once, and revoke).

The rules (who may manage accounts, the password policy, an admin not locking
themselves out) are the accounts service's; these views read forms and render.
"""

from __future__ import annotations

from flask import Blueprint, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext, lazy_gettext

from core.rules.errors import EmailTaken, FieldInvalid, NotAllowed
from webapp import services
from webapp.access import current_actor

bp = Blueprint("accounts", __name__, url_prefix="/admin")

ROLE_LABELS = {"organiser": lazy_gettext("Organiser"), "admin": lazy_gettext("Admin")}
# The password rules' messages, in the page's language (the service says them in English).
PASSWORD_MESSAGES = {
    "use at least": lazy_gettext("Use at least 10 characters."),
    "use at most": lazy_gettext("Use at most 1024 characters."),
    "this password is on": lazy_gettext("This password is on a list of common passwords: "
                                        "choose another."),  # fmt: skip
    "a password of one": lazy_gettext("A password of one repeated character is too easy to "
                                      "guess."),  # fmt: skip
    "a password may not": lazy_gettext("A password may not be the email address."),
}


def _said(exc: FieldInvalid) -> str:
    if exc.field == "email":
        return gettext("Enter an email address, like ada@example.org.")
    for start, message in PASSWORD_MESSAGES.items():
        if exc.message.startswith(start):
            return str(message)
    return exc.message


# -- users (admins) -----------------------------------------------------------------------


def _users_page(status: int = 200, form: dict | None = None, errors: dict | None = None):
    users = services.accounts().all()  # NotAllowed (403) for an organiser
    page = render_template("admin/users.html", users=users, roles=ROLE_LABELS,
                           form=form or {"email": "", "role": "organiser"},
                           errors=errors or {})  # fmt: skip
    return page, status


@bp.get("/users")
def users():
    """Every account, with its role and state, and the form that adds one."""
    return _users_page()


@bp.post("/users")
def create_user():
    form = {"email": request.form.get("email", "").strip(),
            "role": request.form.get("role", "organiser")}  # fmt: skip
    try:
        user = services.accounts().create(form["email"], request.form.get("password", ""),
                                          form["role"])  # fmt: skip
    except FieldInvalid as exc:
        return _users_page(422, form, {exc.field: _said(exc)})
    except EmailTaken:
        errors = {"email": gettext("An account with this email exists already.")}
        return _users_page(409, form, errors)
    flash(gettext("Account created for %(email)s.", email=user["email"]))
    return redirect(url_for("accounts.users"), 303)


@bp.post("/users/<user_id>")
def change_user(user_id):
    """One change from the list: a role, disable or enable, or a new password."""
    accounts = services.accounts()
    change = request.form.get("change", "")
    try:
        if change == "role":
            user = accounts.update(user_id, role=request.form.get("role"))
        elif change in ("disable", "enable"):
            user = accounts.update(user_id, disabled=change == "disable")
        elif change == "password":
            user = accounts.update(user_id, password=request.form.get("password", ""))
        else:
            return _users_page(422, errors={"form": gettext("Unknown change.")})
    except FieldInvalid as exc:
        return _users_page(422, errors={"form": _said(exc)})
    except NotAllowed:
        if not current_actor().is_admin:
            raise
        return _users_page(403, errors={"form": gettext(
            "You cannot disable, demote or delete your own account.")})  # fmt: skip
    flash(gettext("Saved %(email)s.", email=user["email"]))
    return redirect(url_for("accounts.users"), 303)


@bp.post("/users/<user_id>/delete")
def delete_user(user_id):
    try:
        user = services.accounts().delete(user_id)
    except NotAllowed:
        if not current_actor().is_admin:
            raise
        return _users_page(403, errors={"form": gettext(
            "You cannot disable, demote or delete your own account.")})  # fmt: skip
    flash(gettext("Deleted the account of %(email)s.", email=user["email"]))
    return redirect(url_for("accounts.users"), 303)


# -- my tokens ------------------------------------------------------------------------------


def _tokens_page(status: int = 200, new_token: str | None = None):
    tokens = services.accounts().tokens(current_actor().id)
    response = make_response(
        render_template("admin/tokens.html", tokens=tokens, new_token=new_token), status
    )
    # A new token is on this page once: no cache keeps it.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/tokens")
def tokens():
    """My API tokens: when each was made and last used; a new one; revoke."""
    return _tokens_page()


@bp.post("/tokens")
def create_token():
    name = request.form.get("name", "").strip()[:100]
    if current_actor().is_operator:
        flash(gettext("The operator uses API_KEY: tokens are for accounts."))
        return redirect(url_for("accounts.tokens"), 303)
    _, token = services.accounts().create_token(current_actor().id, name)
    return _tokens_page(201, new_token=token)


@bp.post("/tokens/<token_id>/revoke")
def revoke_token(token_id):
    services.accounts().revoke_token(token_id)
    flash(gettext("Token revoked: it no longer works."))
    return redirect(url_for("accounts.tokens"), 303)
