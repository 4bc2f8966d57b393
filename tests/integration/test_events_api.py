"""The events JSON API over the app (real moto server): admin writes, the public state by code."""

from __future__ import annotations

import pytest

from tests.helpers.api import SAMPLE_TOPIC, api_vote, make_topic, move
from tests.helpers.queued import record_queued


@pytest.fixture
def three(client, admin):
    return [make_topic(client, title=f"Question {n}") for n in (1, 2, 3)]


def _create(client, admin, questions=(), **extra):
    answer = client.post("/events", json={"title": "Talk", "questions": list(questions), **extra},
                         headers=admin)  # fmt: skip
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def test_writes_need_the_admin_key(client, admin):
    event = _create(client, admin)
    for method, path, body in [
        ("post", "/events", {"title": "x"}),
        ("get", "/events", None),
        ("get", f"/events/{event['id']}", None),
        ("put", f"/events/{event['id']}", {"title": "x"}),
        ("delete", f"/events/{event['id']}", None),
        ("post", f"/events/{event['id']}/position", {"to": "next"}),
        ("post", f"/events/{event['id']}/results", {"shown": True}),
        ("post", f"/events/{event['id']}/voting", {"open": True}),
        ("post", f"/events/{event['id']}/duplicate", None),
    ]:
        answer = getattr(client, method)(path, json=body)
        assert answer.status_code == 401, (method, path)
        assert "detail" in answer.get_json()


def test_create_and_read_an_event(client, admin, three):
    event = _create(client, admin, [t["id"] for t in three])
    assert len(event["code"]) == 6 and event["position"] == -1
    assert [q["title"] for q in event["questions"]] == ["Question 1", "Question 2", "Question 3"]
    assert {q["state"] for q in event["questions"]} == {"waiting"}
    assert {q["results"] for q in event["questions"]} == {"hidden"}
    assert client.get(f"/events/{event['id']}", headers=admin).get_json() == event
    assert [e["id"] for e in client.get("/events", headers=admin).get_json()] == [event["id"]]
    renamed = client.put(f"/events/{event['id']}", json={"title": "Keynote"}, headers=admin)
    assert renamed.get_json()["title"] == "Keynote"


def test_questions_added_moved_removed(client, admin, three):
    event = _create(client, admin, [three[0]["id"]])
    added = client.post(f"/events/{event['id']}/questions", json={"topic_id": three[1]["id"]},
                        headers=admin)  # fmt: skip
    assert added.status_code == 201
    new = client.post(f"/events/{event['id']}/questions",
                      json={"topic": SAMPLE_TOPIC, "results": "shown"}, headers=admin)  # fmt: skip
    assert new.status_code == 201
    questions = new.get_json()["questions"]
    assert questions[2]["title"] == SAMPLE_TOPIC["title"] and questions[2]["results"] == "shown"
    moved = client.post(f"/events/{event['id']}/questions/2/move", json={"to": 0}, headers=admin)
    assert [q["title"] for q in moved.get_json()["questions"]][0] == SAMPLE_TOPIC["title"]
    removed = client.delete(f"/events/{event['id']}/questions/0", headers=admin)
    assert [q["topic_id"] for q in removed.get_json()["questions"]] == [t["id"] for t in three[:2]]


@pytest.mark.parametrize(
    "body",
    [{}, {"topic_id": "x", "topic": {"title": "t", "choices": [{"description": "a"}] * 2}},
     {"topic_id": "no such topic!"}, {"topic": {"title": "t", "choices": []}}],
)  # fmt: skip
def test_bad_question_bodies_are_422(client, admin, body):
    event = _create(client, admin)
    answer = client.post(f"/events/{event['id']}/questions", json=body, headers=admin)
    assert answer.status_code == 422 and "detail" in answer.get_json()


def test_unknown_topic_and_unknown_positions(client, admin, three):
    event = _create(client, admin, [three[0]["id"]])
    missing = client.post(f"/events/{event['id']}/questions", json={"topic_id": "nope"},
                          headers=admin)  # fmt: skip
    assert missing.status_code == 404
    # A well-formed place the event does not have is a conflict with its state (409);
    # a malformed one is a 422.
    for to, status in ((1, 409), (5, 409), (-2, 422), ("last", 422), (None, 422)):
        answer = client.post(f"/events/{event['id']}/position", json={"to": to}, headers=admin)
        assert answer.status_code == status, to
    bad_move = client.post(f"/events/{event['id']}/questions/3/move", json={"to": 0},
                           headers=admin)  # fmt: skip
    assert bad_move.status_code == 409
    gone = client.delete(f"/events/{event['id']}/questions/3", headers=admin)
    assert gone.status_code == 409 and "no question 3" in gone.get_json()["detail"]
    early = client.post(f"/events/{event['id']}/results", json={"shown": True}, headers=admin)
    assert early.status_code == 409 and "detail" in early.get_json()


def test_unknown_events_and_codes_are_json_404s(client, admin):
    for path in ("/events/no-such-event", "/events/bad%20id!"):
        answer = client.get(path, headers=admin)
        assert answer.status_code == 404 and answer.get_json() == {"detail": "Event not found"}
    for code in ("ZZZZZZ", "O0O0O0", "x"):
        answer = client.get(f"/events/code/{code}")
        assert answer.status_code == 404 and answer.get_json() == {"detail": "Event not found"}


def test_advancing_drives_topics_and_the_public_state(client, admin, three):
    event = _create(client, admin, [t["id"] for t in three])
    state = client.get(f"/events/code/{event['code'].lower()}")
    assert state.status_code == 200 and state.get_json()["current"] is None
    assert state.get_json()["question_count"] == 3
    event = move(client, event, "next")
    assert [q["state"] for q in event["questions"]] == ["open", "waiting", "waiting"]
    current = client.get(f"/events/code/{event['code']}").get_json()["current"]
    assert current["index"] == 0 and current["topic"]["id"] == three[0]["id"]
    assert current["topic"]["is_active"] is True and current["topic"]["results_hidden"] is True
    event = move(client, event, 2)
    assert [q["state"] for q in event["questions"]] == ["closed", "waiting", "open"]
    assert client.get(f"/topics/{three[0]['id']}").get_json()["is_active"] is False
    assert move(client, event, "previous")["position"] == 1
    assert move(client, event, -1)["position"] == -1


def test_public_state_has_an_etag_and_counts_only_once_revealed(client, admin, three, voting):
    topic = three[0]
    event = _create(client, admin, [topic["id"]])
    move(client, event, "next")
    api_vote(client, topic, 1)
    api_vote(client, topic, 1)
    assert record_queued(voting) == 2
    first = client.get(f"/events/code/{event['code']}")
    assert first.headers["ETag"] and first.headers["Cache-Control"] == "no-cache"
    assert "vote_count" not in str(first.get_json())  # hidden: no counts at all
    again = client.get(
        f"/events/code/{event['code']}", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304 and again.data == b""
    shown = client.post(f"/events/{event['id']}/results", json={"shown": True}, headers=admin)
    assert shown.get_json()["questions"][0]["results"] == "shown"
    revealed = client.get(
        f"/events/code/{event['code']}", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert revealed.status_code == 200
    choices = revealed.get_json()["current"]["topic"]["choices"]
    assert [c["vote_count"] for c in choices] == [0, 2]
    closed = client.post(f"/events/{event['id']}/voting", json={"open": False}, headers=admin)
    assert closed.get_json()["questions"][0]["state"] == "closed"
    refused = client.post(
        "/votes", json={"topic_id": topic["id"], "choice_id": topic["choices"][0]["id"]}
    )
    assert refused.status_code == 409  # POST /votes keeps its contract: a closed topic is 409


def test_duplicate_and_delete(client, admin, three):
    event = _create(client, admin, [t["id"] for t in three])
    copy = client.post(f"/events/{event['id']}/duplicate", headers=admin)
    assert copy.status_code == 201
    copied = copy.get_json()
    assert copied["code"] != event["code"] and len(copied["questions"]) == 3
    assert {q["topic_id"] for q in copied["questions"]}.isdisjoint(t["id"] for t in three)
    deleted = client.delete(f"/events/{event['id']}", headers=admin)
    assert deleted.status_code == 200 and deleted.get_json()["id"] == event["id"]
    assert client.get(f"/events/code/{event['code']}").status_code == 404
    assert client.get(f"/topics/{three[0]['id']}").status_code == 200  # topics stay


def test_events_are_in_the_openapi_document(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    for path, method in [
        ("/events", "post"), ("/events", "get"), ("/events/{event_id}", "delete"),
        ("/events/{event_id}/position", "post"), ("/events/{event_id}/results", "post"),
        ("/events/{event_id}/voting", "post"), ("/events/{event_id}/duplicate", "post"),
        ("/events/{event_id}/questions", "post"), ("/events/code/{code}", "get"),
        ("/events/{event_id}/questions/{index}/move", "post"),
    ]:  # fmt: skip
        assert method in paths[path], (path, method)
    assert "security" in paths["/events"]["post"]
    assert "security" not in paths["/events/code/{code}"]["get"]
