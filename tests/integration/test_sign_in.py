"""Signing in on the admin pages with an account (the Flask test client on the moto
server): server-side sessions (sign-out ends them, a copied cookie stops, a new
sign-in rotates the id), disabled accounts, failed attempts shared by every process,
CSRF on every form, and the accounts pages: users, my tokens, co-hosts, owners."""

from __future__ import annotations

import pytest

from tests.helpers.accounts import PASSWORD, bearer, make_user, sign_in_as
from tests.helpers.api import ADMIN, SAMPLE_TOPIC, sign_in, token_from
from webapp import create_app
from webapp.access import is_json
from webapp.security import csrf


@pytest.fixture
def ada(client):
    return make_user(client, "ada@example.org")


def test_an_account_signs_in_with_email_and_password(app, client, ada):
    browser = app.test_client()
    wrong = sign_in_as(browser, "ada@example.org", "not the password")
    assert wrong.status_code == 401 and "That email or password is wrong." in wrong.text
    assert browser.get("/admin").status_code == 303
    answer = sign_in_as(browser, "ADA@example.org")
    assert answer.status_code == 303 and answer.headers["Location"] == "/admin"
    page = browser.get("/admin")
    assert page.status_code == 200 and "Signed in as ada@example.org" in page.text
    cookie = browser.get_cookie("session").value
    assert PASSWORD not in cookie


def test_sign_out_ends_the_session_on_the_server(app, ada):
    browser = app.test_client()
    sign_in_as(browser, "ada@example.org")
    copied = browser.get_cookie("session").value
    thief = app.test_client()
    thief.set_cookie("session", copied)
    assert thief.get("/admin").status_code == 200
    browser.post("/admin/logout", data={"csrf_token": token_from(browser.get("/admin").text)})
    assert browser.get("/admin").status_code == 303
    assert thief.get("/admin").status_code == 303  # the copy of the cookie is dead too
    # The same holds for the operator's break-glass session.
    sign_in(browser)
    copied = browser.get_cookie("session").value
    browser.post("/admin/logout", data={"csrf_token": token_from(browser.get("/admin").text)})
    thief.set_cookie("session", copied)
    assert thief.get("/admin").status_code == 303


def test_signing_in_rotates_the_session_id(app, ada):
    """Session fixation: a cookie planted before sign-in is not signed in by it, and a
    second sign-in ends the first session."""
    make_user(app.test_client(), "bob@example.org")
    browser = app.test_client()
    browser.get("/admin/login")
    planted = browser.get_cookie("session").value
    sign_in_as(browser, "ada@example.org")
    signed = browser.get_cookie("session").value
    assert signed != planted
    attacker = app.test_client()
    attacker.set_cookie("session", planted)
    assert attacker.get("/admin").status_code == 303
    # Signing in again (as another account) leaves the earlier session dead.
    token = token_from(browser.get("/admin").text)
    again = browser.post("/admin/login", data={"csrf_token": token, "email": "bob@example.org",
                                               "password": PASSWORD})  # fmt: skip
    assert again.status_code == 303
    assert browser.get_cookie("session").value != signed
    attacker.set_cookie("session", signed)
    assert attacker.get("/admin").status_code == 303
    assert "Signed in as bob@example.org" in browser.get("/admin").text


def test_disabling_or_a_new_password_signs_an_account_out(app, client, ada):
    browser = app.test_client()
    sign_in_as(browser, "ada@example.org")
    client.patch(f"/users/{ada['id']}", json={"disabled": True}, headers=ADMIN)
    assert browser.get("/admin").status_code == 303
    assert sign_in_as(browser, "ada@example.org").status_code == 401
    client.patch(f"/users/{ada['id']}", json={"disabled": False}, headers=ADMIN)
    assert sign_in_as(browser, "ada@example.org").status_code == 303
    client.patch(f"/users/{ada['id']}", json={"password": "a brand new passphrase"},
                 headers=ADMIN)  # fmt: skip
    assert browser.get("/admin").status_code == 303


def test_failed_sign_ins_count_across_processes_then_429(aws_env, ada):
    """Two apps stand for two web processes: the count is in the shared table."""
    first, second = create_app({"TESTING": True}), create_app({"TESTING": True})
    for n in range(10):
        app = first if n % 2 else second
        assert sign_in_as(app.test_client(), "ada@example.org", "wrong!").status_code == 401
    limited = sign_in_as(first.test_client(), "ada@example.org")
    assert limited.status_code == 429 and "Too many failed sign-ins" in limited.text
    assert int(limited.headers["Retry-After"]) > 0


def test_every_form_of_the_app_needs_its_csrf_token(app, ada):
    browser = app.test_client()
    sign_in(browser)
    # Exempt on purpose: the embeds' votes (no session to bind a token to, see
    # webapp/audience/*_embed.py), and the key- or token-authenticated JSON API.
    exempt = {"embed.vote", "event_embed.vote", "qna_embed.ask", "qna_embed.upvote"}
    forms = [r for r in app.url_map.iter_rules() if "POST" in r.methods
             and not is_json(r.endpoint) and r.endpoint not in exempt]  # fmt: skip
    assert len(forms) > 20
    views = {f"{v.__module__}.{v.__name__}" for v in map(app.view_functions.get, exempt)}
    assert csrf._exempt_views == views
    for rule in forms:
        path = rule.rule.replace("<int:index>", "0")
        path = path.replace("<any(reset, delete):what>", "reset")
        for name in rule.arguments - {"index", "what"}:
            path = path.replace(f"<{name}>", "x").replace(f"<string(length=6):{name}>", "ABCDEF")
        answer = browser.post(path, data={"email": "x@y.org", "password": "p"})
        assert answer.status_code == 400, (rule.rule, answer.status_code)
    assert browser.get("/admin").status_code == 200  # still signed in: nothing happened


def test_admins_manage_accounts_on_the_users_page(app, client, ada):
    root = make_user(client, "root@example.org", role="admin")
    browser = app.test_client()
    sign_in_as(browser, root["email"])
    page = browser.get("/admin/users")
    assert page.status_code == 200 and "ada@example.org" in page.text
    token = token_from(page.text)
    weak = browser.post("/admin/users", data={"csrf_token": token, "email": "bob@example.org",
                                              "password": "1234567890", "role": "organiser"})
    assert weak.status_code == 422 and "list of common passwords" in weak.text
    assert 'value="bob@example.org"' in weak.text  # what was typed is kept
    made = browser.post("/admin/users", data={"csrf_token": token, "email": "bob@example.org",
                                              "password": PASSWORD, "role": "organiser"})
    assert made.status_code == 303
    taken = browser.post("/admin/users", data={"csrf_token": token, "email": "BOB@example.org",
                                               "password": PASSWORD, "role": "organiser"})
    assert taken.status_code == 409
    browser.post(f"/admin/users/{ada['id']}", data={"csrf_token": token, "change": "disable"})
    assert client.get(f"/users/{ada['id']}", headers=ADMIN).json["disabled"] is True
    browser.post(f"/admin/users/{ada['id']}", data={"csrf_token": token, "change": "role",
                                                    "role": "admin"})  # fmt: skip
    assert client.get(f"/users/{ada['id']}", headers=ADMIN).json["role"] == "admin"
    own = browser.post(f"/admin/users/{root['id']}", data={"csrf_token": token,
                                                           "change": "disable"})  # fmt: skip
    assert own.status_code == 403 and "your own account" in own.text
    browser.post(f"/admin/users/{ada['id']}/delete", data={"csrf_token": token})
    assert client.get(f"/users/{ada['id']}", headers=ADMIN).status_code == 404
    organiser = app.test_client()
    sign_in_as(organiser, "bob@example.org")
    assert organiser.get("/admin/users").status_code == 403
    assert "/admin/users" not in organiser.get("/admin").text  # no link to it either


def test_my_tokens_page_shows_a_new_token_once(app, client, ada):
    browser = app.test_client()
    sign_in_as(browser, "ada@example.org")
    page = browser.get("/admin/tokens")
    made = browser.post("/admin/tokens", data={"csrf_token": token_from(page.text),
                                               "name": "slides laptop"})  # fmt: skip
    assert made.status_code == 201 and made.headers["Cache-Control"] == "no-store"
    token = made.text.split('id="new-token" class="share-url" type="text" readonly value="')[1]
    token = token.split('"')[0]
    assert token.startswith("vg_")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/auth/me", headers=headers).json["email"] == "ada@example.org"
    listed = browser.get("/admin/tokens").text
    assert "slides laptop" in listed and token not in listed
    token_id = client.get("/auth/tokens", headers=headers).json[0]["id"]
    browser.post(f"/admin/tokens/{token_id}/revoke", data={"csrf_token": token_from(listed)})
    assert client.get("/auth/me", headers=headers).status_code == 401


def test_the_event_page_has_a_co_hosts_panel_and_lists_show_owners(app, client, ada):
    make_user(client, "bob@example.org")
    headers = bearer(client, "ada@example.org")
    client.post("/topics", json=SAMPLE_TOPIC, headers=headers)
    event = client.post("/events", json={"title": "Ada talk"}, headers=headers).json
    browser = app.test_client()
    sign_in_as(browser, "ada@example.org")
    page = browser.get(f"/admin/events/{event['id']}")
    assert "Co-hosts" in page.text and "No co-hosts yet." in page.text
    token = token_from(page.text)
    added = browser.post(f"/admin/events/{event['id']}/hosts",
                         data={"csrf_token": token, "email": "bob@example.org"})  # fmt: skip
    assert added.status_code == 303
    page = browser.get(f"/admin/events/{event['id']}").text
    assert "bob@example.org now co-hosts this event." in page and "Remove" in page
    co_host = app.test_client()
    sign_in_as(co_host, "bob@example.org")
    shared = co_host.get(f"/admin/events/{event['id']}").text
    assert "Ada talk" in shared and "Add co-host" not in shared  # hosts are the owner's
    console = co_host.get("/admin/events").text
    assert "ada@example.org" in console  # the owner column
    operator = app.test_client()
    sign_in(operator)
    assert "ada@example.org" in operator.get("/admin").text
