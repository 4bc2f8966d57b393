"""Accounts and API tokens through the JSON API (the Flask test client on the moto server):
POST/GET/PATCH/DELETE /users, POST/GET/DELETE /auth/tokens, failed sign-ins counted
in the shared store, disabled accounts, secrets never stored or logged in clear, and
the audit log's lines."""

from __future__ import annotations

import json
import logging

import pytest

from core.logs import JsonFormatter
from tests.helpers.accounts import PASSWORD, bearer, make_user
from tests.helpers.api import ADMIN, ADMIN_KEY, SAMPLE_TOPIC
from tests.helpers.stacks import aws_client

SHOWN = {"id", "email", "role", "created", "last_upd", "disabled", "password"}


def user_body(email="ada@example.org", password=PASSWORD, role="organiser") -> dict:
    return {"email": email, "password": password, "role": role}


# -- /users ----------------------------------------------------------------------------------


def test_creating_an_account_answers_201_without_the_password_or_its_hash(client):
    answer = client.post("/users", json=user_body(role="admin"), headers=ADMIN)
    assert answer.status_code == 201
    assert set(answer.json) == SHOWN
    assert answer.json["email"] == "ada@example.org" and answer.json["role"] == "admin"
    assert answer.json["password"] is True  # it has one; never what it is
    assert PASSWORD not in answer.text and "argon2" not in answer.text
    listed = client.get("/users", headers=ADMIN)
    assert [u["email"] for u in listed.json] == ["ada@example.org"]
    assert "argon2" not in listed.text


@pytest.mark.parametrize(
    ("password", "said"),
    [("short", "at least 10"), ("1234567890", "common"), ("QWERTYUIOP", "common"),
     ("ada@example.org", "email")],
)  # fmt: skip
def test_a_weak_password_is_422_on_the_password_field(client, password, said):
    answer = client.post("/users", json=user_body(password=password), headers=ADMIN)
    assert answer.status_code == 422
    (error,) = answer.json["detail"]
    assert error["loc"] == ["password"] and said in error["msg"]
    assert client.get("/users", headers=ADMIN).json == []


def test_the_same_email_in_any_case_is_409(client):
    make_user(client, "Ada@Example.org")
    answer = client.post("/users", json=user_body(email="ada@EXAMPLE.ORG"), headers=ADMIN)
    assert answer.status_code == 409
    assert len(client.get("/users", headers=ADMIN).json) == 1


def test_accounts_need_credentials_and_an_admin(client):
    assert client.post("/users", json=user_body()).status_code == 401
    assert client.get("/users", headers={"X-API-Key": "wrong"}).status_code == 401
    make_user(client, "ada@example.org")
    ada = bearer(client, "ada@example.org")
    assert client.post("/users", json=user_body("eve@example.org"), headers=ada).status_code == 403
    assert client.get("/users", headers=ada).status_code == 403
    make_user(client, "root@example.org", role="admin")
    root = bearer(client, "root@example.org")
    assert client.post("/users", json=user_body("bob@example.org"), headers=root).status_code == 201
    assert len(client.get("/users", headers=root).json) == 3


def test_an_admin_changes_role_disabled_and_password_and_deletes(client):
    user = make_user(client, "ada@example.org")
    url = f"/users/{user['id']}"
    assert client.patch(url, json={"role": "admin"}, headers=ADMIN).json["role"] == "admin"
    assert client.patch(url, json={"password": "123"}, headers=ADMIN).status_code == 422
    new = "another long passphrase"
    assert client.patch(url, json={"password": new}, headers=ADMIN).status_code == 200
    assert client.post("/auth/tokens", json={"email": "ada@example.org",
                                             "password": PASSWORD}).status_code == 401  # fmt: skip
    assert bearer(client, "ada@example.org", new)
    assert client.delete(url, headers=ADMIN).json["email"] == "ada@example.org"
    assert client.get(url, headers=ADMIN).status_code == 404
    assert client.delete(url, headers=ADMIN).status_code == 404


def test_an_admin_cannot_lock_themselves_out(client):
    root = make_user(client, "root@example.org", role="admin")
    headers = bearer(client, "root@example.org")
    url = f"/users/{root['id']}"
    for change in ({"disabled": True}, {"role": "organiser"}):
        assert client.patch(url, json=change, headers=headers).status_code == 403
    assert client.delete(url, headers=headers).status_code == 403
    assert client.get(url, headers=ADMIN).json["role"] == "admin"


# -- tokens ----------------------------------------------------------------------------------


def test_a_token_is_shown_once_used_as_bearer_and_dead_once_revoked(client):
    ada = make_user(client, "ada@example.org")
    made = client.post("/auth/tokens", json={"email": "ada@example.org", "password": PASSWORD,
                                             "name": "laptop"})  # fmt: skip
    assert made.status_code == 201 and {"id", "token"} <= set(made.json)
    headers = {"Authorization": f"Bearer {made.json['token']}"}
    assert client.get("/auth/me", headers=headers).json == {
        "id": ada["id"], "email": "ada@example.org", "role": "organiser"}  # fmt: skip
    listed = client.get("/auth/tokens", headers=headers)
    assert [(t["id"], t["name"]) for t in listed.json] == [(made.json["id"], "laptop")]
    assert made.json["token"] not in listed.text and "hash" not in listed.text
    assert listed.json[0]["last_used"] is not None
    assert client.post("/topics", json=SAMPLE_TOPIC, headers=headers).status_code == 201
    assert client.delete(f"/auth/tokens/{made.json['id']}", headers=headers).status_code == 200
    assert client.post("/topics", json=SAMPLE_TOPIC, headers=headers).status_code == 401
    assert client.get("/auth/tokens", headers=headers).status_code == 401


def test_made_up_tokens_and_wrong_passwords_are_401(client):
    make_user(client, "ada@example.org")
    real = bearer(client, "ada@example.org")["Authorization"].split()[1]
    token_id = real.split("_")[1]
    for fake in (f"vg_{token_id}_{'A' * 43}", "vg_" + "0" * 36 + "_" + "A" * 43, "nonsense"):
        answer = client.get("/auth/tokens", headers={"Authorization": f"Bearer {fake}"})
        assert answer.status_code == 401, fake
    for email, password in (("ada@example.org", "wrong password!"), ("nobody@x.org", PASSWORD)):
        answer = client.post("/auth/tokens", json={"email": email, "password": password})
        assert answer.status_code == 401 and answer.json == {"detail": "Wrong email or password"}


def test_a_token_of_another_account_is_not_theirs_to_revoke(client):
    make_user(client, "ada@example.org"), make_user(client, "bob@example.org")
    ada, bob = bearer(client, "ada@example.org"), bearer(client, "bob@example.org")
    ada_token = client.get("/auth/tokens", headers=ada).json[0]["id"]
    assert client.delete(f"/auth/tokens/{ada_token}", headers=bob).status_code == 404
    assert client.get("/auth/tokens", headers=ada).status_code == 200
    assert client.delete(f"/auth/tokens/{ada_token}", headers=ADMIN).status_code == 200


def test_a_disabled_account_cannot_sign_in_and_its_tokens_stop(client):
    ada = make_user(client, "ada@example.org")
    headers = bearer(client, "ada@example.org")
    client.patch(f"/users/{ada['id']}", json={"disabled": True}, headers=ADMIN)
    assert client.get("/auth/tokens", headers=headers).status_code == 401
    refused = client.post("/auth/tokens", json={"email": "ada@example.org", "password": PASSWORD})
    assert refused.status_code == 401
    client.patch(f"/users/{ada['id']}", json={"disabled": False}, headers=ADMIN)
    assert client.get("/auth/tokens", headers=headers).status_code == 200


def test_ten_failures_per_account_then_429_from_any_address(client):
    make_user(client, "ada@example.org")
    wrong = {"email": "ada@example.org", "password": "not the password"}
    for n in range(10):
        address = {"X-Forwarded-For": f"198.51.100.{n}"}  # ten addresses, one account
        assert client.post("/auth/tokens", json=wrong, headers=address).status_code == 401
    right = {"email": "ada@example.org", "password": PASSWORD}
    limited = client.post("/auth/tokens", json=right, headers={"X-Forwarded-For": "203.0.113.9"})
    assert limited.status_code == 429 and 0 < int(limited.headers["Retry-After"]) <= 900
    # Another account from a fresh address is not held up by Ada's.
    make_user(client, "bob@example.org")
    bob = {"email": "bob@example.org", "password": PASSWORD}
    assert client.post("/auth/tokens", json=bob, headers={"X-Forwarded-For": "203.0.113.10"}
                       ).status_code == 201  # fmt: skip


def test_ten_failures_per_address_then_429_for_any_account(client):
    make_user(client, "ada@example.org")
    here = {"X-Forwarded-For": "198.51.100.77"}
    for n in range(10):  # ten guessed accounts from one address
        body = {"email": f"guess{n}@example.org", "password": "not the password"}
        assert client.post("/auth/tokens", json=body, headers=here).status_code == 401
    right = {"email": "ada@example.org", "password": PASSWORD}
    assert client.post("/auth/tokens", json=right, headers=here).status_code == 429
    assert client.post("/auth/tokens", json=right, headers={"X-Forwarded-For": "198.51.100.78"}
                       ).status_code == 201  # fmt: skip


# -- secrets and the audit log ---------------------------------------------------------------


def test_passwords_and_tokens_are_never_stored_or_logged_in_clear(client, aws_env, caplog):
    caplog.set_level(logging.DEBUG)
    ada = make_user(client, "ada@example.org")
    token = bearer(client, "ada@example.org")["Authorization"].split()[1]
    client.post("/topics", json=SAMPLE_TOPIC, headers={"Authorization": f"Bearer {token}"})
    new = "yet another passphrase"
    client.patch(f"/users/{ada['id']}", json={"password": new}, headers=ADMIN)
    ddb = aws_client("dynamodb", aws_env["DYNAMODB_ENDPOINT_URL"])
    stored = json.dumps(ddb.scan(TableName=f"{aws_env['TABLE_PREFIX']}users")["Items"])
    assert "argon2id" in stored  # the hashes are there...
    for secret in (PASSWORD, new, token, token.split("_", 2)[2]):
        assert secret not in stored  # ...never what they hash
        assert secret not in caplog.text
        formatted = "\n".join(JsonFormatter().format(r) for r in caplog.records)
        assert secret not in formatted
    assert ADMIN_KEY not in caplog.text


def test_each_change_is_an_audit_line_naming_who_acted(client, caplog):
    caplog.set_level(logging.INFO, logger="audit")
    ada = make_user(client, "ada@example.org")
    headers = bearer(client, "ada@example.org")
    topic = client.post("/topics", json=SAMPLE_TOPIC, headers=headers).json
    client.post("/events", json={"title": "Talk", "questions": [topic["id"]]}, headers=headers)
    client.patch(f"/users/{ada['id']}", json={"role": "admin"}, headers=ADMIN)
    lines = [(r.audit, r.target, r.actor) for r in caplog.records if r.name == "audit"]
    assert ("user.create", ada["id"], "operator") in lines
    assert ("topic.create", topic["id"], ada["id"]) in lines
    assert any(action == "token.create" and actor == ada["id"] for action, _, actor in lines)
    assert any(action == "event.create" and actor == ada["id"] for action, _, actor in lines)
    assert ("user.update", ada["id"], "operator") in lines
    entry = json.loads(JsonFormatter().format(next(r for r in caplog.records
                                                   if getattr(r, "audit", "") == "user.update")))
    assert entry["actor"] == "operator" and entry["changed"] == ["role"]
