"""Single sign-on with OpenID Connect, through Authlib, when OIDC_ISSUER, OIDC_CLIENT_ID
and OIDC_CLIENT_SECRET are set.

The provider's endpoints come from its discovery document
(<issuer>/.well-known/openid-configuration), or, for a provider without one, from
OIDC_AUTHORIZE_URL, OIDC_TOKEN_URL and OIDC_JWKS_URL. The authorization code flow:
`begin` sends the browser to the provider with a fresh `state` and `nonce` (kept
in the signed session cookie); `finish` checks the state, trades the code for
tokens, and checks the ID token's signature (the provider's keys), issuer,
audience, expiry and nonce. What it yields is the email and whether the
provider verified it; which account that is, is core/services/accounts.py's.
"""

from __future__ import annotations

import requests
from flask import Flask, current_app

# Authlib and joserfc are imported where SSO is used: configured, or not at all. Importing
# them costs each web process about a tenth of a second of CPU as it starts.

_KEY = "sso"
SCOPE = "openid email profile"
# Seconds to wait for the provider's discovery, keys and token endpoints.
PROVIDER_TIMEOUT = 10


class SsoFailed(Exception):
    """The provider's answer could not be trusted or used: the message says why."""


def init_app(app: Flask) -> None:
    settings = app.config["SETTINGS"]
    if not settings.oidc_enabled:
        app.extensions[_KEY] = None
        return
    issuer = settings.oidc_issuer.rstrip("/")
    if settings.oidc_authorize_url:
        if not (settings.oidc_token_url and settings.oidc_jwks_url):
            raise ValueError(
                "OIDC_AUTHORIZE_URL needs OIDC_TOKEN_URL and OIDC_JWKS_URL too (no discovery)"
            )
        endpoints = {
            "authorize_url": settings.oidc_authorize_url,
            "access_token_url": settings.oidc_token_url,
            "jwks_uri": settings.oidc_jwks_url,
            "issuer": settings.oidc_issuer,
        }
    else:
        endpoints = {"server_metadata_url": f"{issuer}/.well-known/openid-configuration"}
    from authlib.integrations.flask_client import OAuth

    oauth = OAuth(app)
    app.extensions[_KEY] = oauth.register(
        "sso",
        client_id=settings.oidc_client_id,
        client_secret=settings.oidc_client_secret,
        client_kwargs={"scope": SCOPE, "default_timeout": PROVIDER_TIMEOUT},
        **endpoints,
    )


def enabled() -> bool:
    return current_app.extensions.get(_KEY) is not None


def begin(redirect_uri: str):
    """The redirect to the provider's sign-in (state and nonce kept in the session)."""
    from authlib.common.errors import AuthlibBaseError

    try:
        return current_app.extensions[_KEY].authorize_redirect(redirect_uri)
    except (AuthlibBaseError, requests.RequestException, RuntimeError, KeyError) as exc:
        raise SsoFailed(f"the sign-in provider could not be reached: {type(exc).__name__}") from exc


def finish() -> tuple[str | None, bool]:
    """(email, verified) from the provider's answer to `begin`; SsoFailed when the state,
    the code, the ID token or its nonce do not check out, or the provider is down."""
    from authlib.common.errors import AuthlibBaseError
    from joserfc.errors import JoseError

    client = current_app.extensions[_KEY]
    try:
        token = client.authorize_access_token()
    except (AuthlibBaseError, JoseError) as exc:
        raise SsoFailed(f"the provider's answer was refused: {type(exc).__name__}") from exc
    except (requests.RequestException, RuntimeError, KeyError, ValueError) as exc:
        raise SsoFailed(f"the sign-in provider could not be reached: {type(exc).__name__}") from exc
    claims = token.get("userinfo")
    if not claims:
        raise SsoFailed("the provider sent no ID token")
    return claims.get("email"), claims.get("email_verified") is True
