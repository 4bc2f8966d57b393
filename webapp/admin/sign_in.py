"""Signing in to the admin pages, and out.

An organiser signs in with their email and password, or through single sign-on
(webapp/sso.py) when it is configured. The operator's break-glass sign-in is the
same form with the email left empty and API_KEY or ADMIN_PASSWORD as the password.
Each sign-in starts a new server-side session (webapp/auth.py); signing out ends
it on the server. Failed attempts count per account and per address in the
users table (core/services/accounts.py); RATE_LIMIT_LOGIN limits attempts per
address and process on top. CSRF tokens are checked for every POST (security.py).
"""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext

from core.rules.errors import NotAllowed, SignInFailed, TooManyFailures
from webapp import services, sso
from webapp.auth import admin_credentials, end_session, session_actor, start_session
from webapp.limits import client_address, limit_login

bp = Blueprint("sign_in", __name__, url_prefix="/admin")


def safe_next(value: str | None) -> str:
    """Only our own admin pages: never an open redirect to another site."""
    if value and value.startswith("/admin") and not value.startswith("//"):
        return value
    return url_for("admin.index")


def _form(status: int = 200, error: str | None = None, email: str = ""):
    page = render_template(
        "admin/login.html", next=safe_next(request.values.get("next")), error=error,
        email=email, sso=sso.enabled(), sso_name=_settings().oidc_name,
        operator_off=not any(admin_credentials()),
    )  # fmt: skip
    return page, status


def _settings():
    return current_app.config["SETTINGS"]


@bp.route("/login", methods=["GET", "POST"])
@limit_login
def login():
    """The sign-in form: an email and a password, or the operator's key or password."""
    next_url = safe_next(request.values.get("next"))
    if request.method == "GET":
        if session_actor() is not None:
            return redirect(next_url, 303)
        return _form()
    email = request.form.get("email", "").strip()
    password = request.form.get("password", "")
    accounts = services.accounts()
    try:
        if email:
            actor = accounts.sign_in(email, password, client_address())
        else:
            actor = accounts.operator_sign_in(password, list(admin_credentials()),
                                              client_address())  # fmt: skip
    except TooManyFailures as exc:
        page, _ = _form(error=gettext("Too many failed sign-ins: try again later."), email=email)
        return page, 429, {"Retry-After": str(exc.retry_after)}
    except SignInFailed:
        error = (gettext("That email or password is wrong.") if email
                 else gettext("That key or password is wrong."))  # fmt: skip
        return _form(401, error, email)
    start_session(actor)
    return redirect(next_url, 303)


@bp.post("/logout")
def logout():
    """Sign out: the session ends on the server, not only in this browser."""
    end_session()
    flash(gettext("Signed out."))
    return redirect(url_for("sign_in.login"), 303)


@bp.get("/login/sso")
def sso_begin():
    """Off to the single sign-on provider."""
    if not sso.enabled():
        return _form(404, gettext("Single sign-on is not set up on this server."))
    try:
        return sso.begin(url_for("sign_in.sso_callback", _external=True))
    except sso.SsoFailed:
        return _form(502, gettext("The sign-in provider could not be reached. Try again."))


@bp.get("/login/sso/callback")
def sso_callback():
    """Back from the provider: the account its verified email names, signed in."""
    if not sso.enabled():
        return _form(404, gettext("Single sign-on is not set up on this server."))
    try:
        email, verified = sso.finish()
        actor = services.accounts().sso_actor(
            email, verified, _settings().oidc_allowed_domains
        )
    except sso.SsoFailed:
        return _form(400, gettext("Single sign-on failed. Try again."))
    except SignInFailed:
        return _form(401, gettext("The provider did not confirm this email, or the account "
                                  "is disabled."))  # fmt: skip
    except NotAllowed:
        return _form(403, gettext("No organiser account has this email. Ask an admin for one."))
    start_session(actor)
    return redirect(url_for("admin.index"), 303)
