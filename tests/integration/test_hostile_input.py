"""Hostile input answered as the client's error, never a 5xx."""

from __future__ import annotations

import base64
import json

import pytest
from flask.sessions import SecureCookieSessionInterface

from tests.helpers.api import ADMIN, api_vote, make_topic, sign_in, token_from
from tests.helpers.queued import record_queued


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
    """A cursor holding only topic_id is the client's error, not a 503 from the store."""
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
    """A validly signed session {"admin": true} of an older shape is no 500."""
    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    client.set_cookie("session", serializer.dumps({"admin": value}))
    answer = client.get("/admin")
    assert answer.status_code in (302, 303), answer.status_code  # to the sign-in page
    assert "login" in answer.headers["Location"]


# -- closes_at -----------------------------------------------------------------------


def topic_body(closes_at) -> dict:
    return {"title": "Deadline?", "choices": [{"description": "a"}, {"description": "b"}],
            "closes_at": closes_at}  # fmt: skip


@pytest.mark.parametrize(
    "closes_at",
    ["0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", 0, 1, 1.5, "0", "1700000000", True],
)
def test_out_of_range_or_numeric_closes_at_is_422(client, closes_at):
    """An out-of-range deadline was a 500 (OverflowError); a number was read as 1970."""
    created = client.post("/topics", json=topic_body(closes_at), headers=ADMIN)
    assert created.status_code == 422, created.text
    assert created.json["detail"][0]["loc"] == ["closes_at"]
    topic = make_topic(client)
    body = {**topic_body(closes_at), "choices": topic["choices"]}
    updated = client.put(f"/topics/{topic['id']}", json=body, headers=ADMIN)
    assert updated.status_code == 422, updated.text


def test_a_past_deadline_on_create_is_a_clear_422(client):
    answer = client.post("/topics", json=topic_body("2001-01-01T00:00:00Z"), headers=ADMIN)
    assert answer.status_code == 422
    assert "in the past" in answer.json["detail"][0]["msg"]
    # Updating to a past deadline stays the way to close a topic by its deadline.
    topic = make_topic(client)
    body = {**topic_body("2001-01-01T00:00:00Z"), "choices": topic["choices"]}
    assert client.put(f"/topics/{topic['id']}", json=body, headers=ADMIN).status_code == 200
    assert client.get(f"/topics/{topic['id']}").json["closes_at"] == "2001-01-01T00:00:00.000000"


@pytest.mark.parametrize(
    ("closes_at", "message"),
    [
        ("0001-01-01T00:00:00+01:00", "out of range"),
        ("9999-12-31T23:59:59-01:00", "out of range"),
        ("2001-01-01T10:00", "in the past"),
    ],
)
def test_admin_form_out_of_range_or_past_deadline_is_a_form_error(app, closes_at, message):
    browser = app.test_client()
    assert sign_in(browser).status_code in (302, 303)
    page = browser.get("/admin/topics/new")
    form = {
        "csrf_token": token_from(page.text),
        "title": "Deadline?",
        "vote_limit": "unlimited",
        "results_visibility": "always",
        "closes_at": closes_at,
        "choice_id": ["", ""],
        "choice": ["a", "b"],
    }
    answer = browser.post("/admin/topics/new", data=form)
    assert answer.status_code == 422, answer.status_code
    assert message in answer.text


# -- the schema and the answers agree (cases Schemathesis found) -------------------------------


@pytest.mark.parametrize(
    "field, value",
    [("is_active", 0), ("is_active", "yes"), ("tally_shards", True), ("tally_shards", "4")],
)
def test_a_json_true_false_or_number_only(client, field, value):
    """pydantic read 0 as false and true as 1; the schema says boolean / integer."""
    body = {**topic_body(None), field: value}
    answer = client.post("/topics", json=body, headers=ADMIN)
    assert answer.status_code == 422, answer.json


def test_a_whole_number_may_be_written_with_a_point(client):
    """JSON Schema's integer takes 4.0 as 4; so does the API."""
    answer = client.post("/topics", json={**topic_body(None), "tally_shards": 4.0}, headers=ADMIN)
    assert answer.status_code == 201 and answer.json["tally_shards"] == 4


def test_event_bodies_follow_their_schema(client):
    topic = make_topic(client, "q", ("a", "b"))
    event = client.post("/events", json={"title": "e", "questions": [topic["id"]]}, headers=ADMIN)
    base = f"/events/{event.json['id']}"
    for body in ({}, {"topic_id": None, "topic": None}, {"topic_id": topic["id"], "topic": None}):
        assert client.post(f"{base}/questions", json=body, headers=ADMIN).status_code == 422, body
    moved = client.post(f"{base}/questions/0/move", json={"to": False}, headers=ADMIN)
    assert moved.status_code == 422
    for to in (True, "0", 100, -2):
        assert client.post(f"{base}/position", json={"to": to}, headers=ADMIN).status_code == 422
    assert client.post(f"{base}/results", json={"shown": 1}, headers=ADMIN).status_code == 422
    assert client.post(f"{base}/voting", json={"open": "true"}, headers=ADMIN).status_code == 422
    # Well formed, but the event has one question: a conflict with its state, not a bad body.
    assert client.post(f"{base}/position", json={"to": 5}, headers=ADMIN).status_code == 409


def test_refusals_by_the_topics_state_are_409(client):
    """Schema-valid votes the topic refuses: 409 (a 422 means the schema refuses the body)."""
    topic = make_topic(client, "q", ("a", "b"), vote_limit="one_per_voter")
    vote = {"topic_id": topic["id"], "choice_id": topic["choices"][0]["id"]}
    no_voter = client.post("/votes", json=vote)
    assert no_voter.status_code == 409 and "voter_id" in no_voter.json["detail"]
    stranger = client.post("/votes", json={**vote, "choice_id": "x", "voter_id": "v"})
    assert stranger.status_code == 409


def test_openapi_lists_what_the_views_answer(client):
    paths = client.get("/openapi.json").json["paths"]
    for path, operations in paths.items():
        for method, operation in operations.items():
            codes = operation["responses"]
            assert "414" in codes and "422" in codes, (method, path)
            if "{" in path:
                assert "404" in codes, (method, path)
    assert "409" in paths["/events/{event_id}/position"]["post"]["responses"]
    assert "409" in paths["/votes"]["post"]["responses"]
    question = client.get("/openapi.json").json["components"]["schemas"]["QuestionIn"]
    assert question["oneOf"] == [{"required": ["topic_id"]}, {"required": ["topic"]}]
