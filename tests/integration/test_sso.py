"""Single sign-on (OpenID Connect, the code flow) against the small issuer of
tests/oidc_issuer.py: an account matched by its verified email, organiser accounts
made for an allowed domain, and every answer that must not sign anyone in: an
unverified email, another domain, a disabled account, a forged state, a replayed
code, a wrong nonce, a token signed with a key the issuer does not publish.
Discovery, and a provider without it (the endpoints given by hand)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests

from tests.helpers.accounts import make_user
from tests.helpers.api import ADMIN
from tests.oidc_issuer import FakeIssuer
from webapp import create_app


@pytest.fixture
def issuer():
    with FakeIssuer() as running:
        yield running


def sso_app(issuer, by_hand: bool = False):
    config = {"TESTING": True, "oidc_issuer": issuer.url, "oidc_client_id": issuer.client_id,
              "oidc_client_secret": issuer.client_secret, "oidc_name": "the school account",
              "oidc_allowed_domains": ["school.example"]}  # fmt: skip
    if by_hand:
        config |= {"oidc_authorize_url": issuer.endpoints["authorize"],
                   "oidc_token_url": issuer.endpoints["token"],
                   "oidc_jwks_url": issuer.endpoints["jwks"]}  # fmt: skip
    return create_app(config)


def round_trip(browser, state: str | None = None):
    """Off to the issuer and back: the answer to the callback (and its URL)."""
    start = browser.get("/admin/login/sso")
    assert start.status_code == 302
    back = requests.get(start.headers["Location"], allow_redirects=False, timeout=10)
    assert back.status_code == 302
    url = urlsplit(back.headers["Location"])
    query = url.query if state is None else url.query.replace("state=", f"state={state}", 1)
    return browser.get(f"{url.path}?{query}"), f"{url.path}?{url.query}"


def signed_in_as(browser) -> str | None:
    page = browser.get("/admin")
    if page.status_code != 200:
        return None
    return page.text.split("Signed in as ")[1].split("<")[0]


def test_a_verified_email_signs_its_account_in(aws_env, client, issuer):
    make_user(client, "Ada@Example.org")
    app = sso_app(issuer)
    browser = app.test_client()
    assert "Sign in with the school account" in browser.get("/admin/login").text
    answer, _ = round_trip(browser)
    assert answer.status_code == 303 and answer.headers["Location"] == "/admin"
    assert signed_in_as(browser) == "Ada@Example.org"
    assert issuer.discovery_reads == 1


def test_an_allowed_domain_gets_an_organiser_account_on_first_sign_in(aws_env, client, issuer):
    issuer.next_user = {"email": "teacher@school.example", "email_verified": True}
    app = sso_app(issuer)
    first = app.test_client()
    assert round_trip(first)[0].status_code == 303
    assert signed_in_as(first) == "teacher@school.example"
    (account,) = client.get("/users", headers=ADMIN).json
    assert account["role"] == "organiser" and account["password"] is False
    again = app.test_client()
    round_trip(again)
    assert signed_in_as(again) == "teacher@school.example"
    assert len(client.get("/users", headers=ADMIN).json) == 1  # the same account


@pytest.mark.parametrize(
    ("user", "status"),
    [({"email": "ada@example.org", "email_verified": False}, 401),  # not verified
     ({"email": "ada@example.org"}, 401),  # verification not said
     ({"email": "stranger@elsewhere.example", "email_verified": True}, 403),  # no account
     ({"email_verified": True}, 401)],  # no email at all
)  # fmt: skip
def test_what_the_provider_does_not_vouch_for_signs_nobody_in(
    aws_env, client, issuer, user, status
):
    make_user(client, "ada@example.org")
    issuer.next_user = user
    browser = sso_app(issuer).test_client()
    assert round_trip(browser)[0].status_code == status
    assert signed_in_as(browser) is None
    assert len(client.get("/users", headers=ADMIN).json) == 1


def test_a_disabled_account_cannot_sign_in_through_the_provider(aws_env, client, issuer):
    ada = make_user(client, "ada@example.org")
    client.patch(f"/users/{ada['id']}", json={"disabled": True}, headers=ADMIN)
    browser = sso_app(issuer).test_client()
    assert round_trip(browser)[0].status_code == 401
    assert signed_in_as(browser) is None


def test_a_forged_state_a_replayed_code_a_wrong_nonce_or_key_are_refused(
    aws_env, client, issuer
):
    make_user(client, "ada@example.org")
    app = sso_app(issuer)
    forged = app.test_client()
    assert round_trip(forged, state="forged")[0].status_code == 400
    assert signed_in_as(forged) is None
    # A callback URL used once (code and state) does nothing a second time, anywhere.
    first = app.test_client()
    answer, callback = round_trip(first)
    assert answer.status_code == 303
    for replay in (first, app.test_client()):
        assert replay.get(callback).status_code == 400
    for flaw in ("wrong_nonce", "foreign_key"):
        setattr(issuer, flaw, True)
        browser = app.test_client()
        assert round_trip(browser)[0].status_code == 400, flaw
        assert signed_in_as(browser) is None
        setattr(issuer, flaw, False)


def test_a_provider_without_discovery_works_from_the_endpoints_given(aws_env, client, issuer):
    make_user(client, "ada@example.org")
    browser = sso_app(issuer, by_hand=True).test_client()
    assert round_trip(browser)[0].status_code == 303
    assert signed_in_as(browser) == "ada@example.org"
    assert issuer.discovery_reads == 0


def test_without_a_provider_there_is_no_sso(client):
    assert "Sign in with" not in client.get("/admin/login").text
    assert client.get("/admin/login/sso").status_code == 404
