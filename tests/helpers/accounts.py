"""Organiser accounts as a client uses them: an account, its token, its sign-in."""

from __future__ import annotations

from tests.helpers.api import ADMIN, json_of, token_from

PASSWORD = "a long and quiet passphrase"


def make_user(client, email: str, role: str = "organiser", password: str = PASSWORD,
              base: str = "") -> dict:  # fmt: skip
    """POST /users with the operator key; the account made."""
    answer = client.post(f"{base}/users", json={"email": email, "password": password,
                                                "role": role}, headers=ADMIN)  # fmt: skip
    assert answer.status_code == 201, answer.text
    return json_of(answer)


def bearer(client, email: str, password: str = PASSWORD, base: str = "") -> dict:
    """Headers with a new API token of the account (POST /auth/tokens)."""
    answer = client.post(f"{base}/auth/tokens", json={"email": email, "password": password})
    assert answer.status_code == 201, answer.text
    return {"Authorization": f"Bearer {json_of(answer)['token']}"}


def sign_in_as(client, email: str, password: str = PASSWORD, base: str = ""):
    """The sign-in form with an account's email and password; the answer to the post."""
    page = client.get(f"{base}/admin/login")
    return client.post(f"{base}/admin/login", data={
        "csrf_token": token_from(page.text), "email": email, "password": password})  # fmt: skip
