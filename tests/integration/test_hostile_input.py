"""Hostile input answered as the client's error, never a 5xx (issue 15 #6, #7, #8, #10)."""

from __future__ import annotations

import base64
import json

import pytest
from flask.sessions import SecureCookieSessionInterface

from tests.helpers import api_vote, make_topic, record_queued


def cursor(key: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


@pytest.mark.parametrize(
    "forged",
    [
        {},
        {"topic_id": "TOPIC"},
        {"topic_id": "TOPIC", "id": "x"},
        {"topic_id": "TOPIC", "created": "2030-01-01T00:00:00.000000"},
        {"topic_id": "TOPIC", "id": "", "created": ""},
        {"topic_id": "TOPIC", "id": "x", "created": "y", "extra": "z"},
    ],
)
def test_forged_cursor_is_422_never_503(client, voting, forged):
    """Issue 15 #8: a cursor holding only topic_id reached the store as a 503."""
    topic = make_topic(client)
    for _ in range(3):
        api_vote(client, topic)
    record_queued(voting)
    forged = {k: {"S": v.replace("TOPIC", topic["id"])} for k, v in forged.items()}
    answer = client.get("/votes", query_string={"topic_id": topic["id"], "next": cursor(forged)})
    assert answer.status_code == 422, answer.text
    assert "cursor" in answer.json["detail"]


def test_a_real_cursor_still_pages(client, voting):
    topic = make_topic(client)
    ids = {api_vote(client, topic) for _ in range(3)}
    record_queued(voting)
    first = client.get("/votes", query_string={"topic_id": topic["id"], "limit": 2}).json
    rest = client.get(
        "/votes", query_string={"topic_id": topic["id"], "limit": 2, "next": first["next"]}
    ).json
    assert {v["id"] for v in first["items"] + rest["items"]} == ids


@pytest.mark.parametrize("value", [True, 1, ["x"], {"a": 1}, None, ""])
def test_a_signed_session_of_the_wrong_shape_is_not_signed_in(app, client, value):
    """Issue 15 #10: a validly signed session {"admin": true} was a 500."""
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    client.set_cookie("session", serializer.dumps({"admin": value}))
    answer = client.get("/admin")
    assert answer.status_code in (302, 303), answer.status_code  # to the sign-in page
    assert "login" in answer.headers["Location"]
