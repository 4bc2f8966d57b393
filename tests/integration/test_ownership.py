"""Ownership: every admin route of the app, JSON API and pages alike, called by one
organiser with another's ids answers 403 or 404 and changes nothing; lists show each
organiser their own; co-hosts present and edit but do not own; what was made before
accounts is the operator's; public reads are as they were."""

from __future__ import annotations

import re

import pytest

from tests.helpers.accounts import bearer, make_user, sign_in_as
from tests.helpers.api import ADMIN, HX, SAMPLE_TOPIC, api_vote, token_from
from tests.helpers.queued import record_queued
from webapp.access import PUBLIC_BLUEPRINTS, is_json, is_public

# The public routes, said here a second time: making a route public is a decision
# this list records (a route left out of both lists fails the first test).
PUBLIC = {
    "static", "set_language", "api.list_topics", "api.get_topic", "api.cast_vote",
    "api.get_vote", "api.list_votes", "events_api.event_state", "present.view",
    "sign_in.login", "sign_in.logout", "sign_in.sso_begin", "sign_in.sso_callback",
    "accounts_api.create_token",
    "qna_api.ask", "qna_api.listed", "qna_api.upvote", "qna_api.withdraw",
    # A quiz's players join with a nickname and follow the leaderboard.
    "quiz_api.join", "quiz_api.leaderboard",
    "push.event_stream", "push.embed_stream", "push.topic_stream",
}  # fmt: skip
VARIABLE = re.compile(r"<(?:[^<>]*:)?(\w+)>")


@pytest.fixture
def two(app, client, voting):
    """Ada's topic, event (with the topic as its question), vote and token; Bob signed in
    (a browser session and an API token); Bob's own event."""
    ada_user, bob_user = make_user(client, "ada@example.org"), make_user(client, "bob@example.org")
    ada = bearer(client, "ada@example.org")
    topic = client.post("/topics", json=SAMPLE_TOPIC, headers=ada).json
    # Voted on before it joins the event: a question then waits, closed, for the presenter.
    vote_id = api_vote(client, topic)
    event = client.post("/events", json={"title": "Ada talk", "questions": [topic["id"]],
                                         "qna": "open"}, headers=ada).json  # fmt: skip
    question = client.post(f"/events/code/{event['code']}/qna", json={"text": "Ada's?"}).json
    record_queued(voting)
    token_id = client.get("/auth/tokens", headers=ada).json[0]["id"]
    bob = bearer(client, "bob@example.org")
    own_event = client.post("/events", json={"title": "Bob talk"}, headers=bob).json
    browser = app.test_client()
    assert sign_in_as(browser, "bob@example.org").status_code == 303
    csrf = token_from(browser.get("/admin").text)
    return {
        "ada": ada, "bob": bob, "browser": browser, "csrf": csrf, "topic": topic,
        "event": event, "own_event": own_event,
        "values": {"topic_id": topic["id"], "event_id": event["id"], "vote_id": vote_id,
                   "user_id": ada_user["id"], "token_id": token_id, "host_id": bob_user["id"],
                   "index": "0", "what": "reset", "question_id": question["id"]},
    }  # fmt: skip


def test_every_route_is_public_on_purpose_or_guarded(app):
    public = {r.endpoint for r in app.url_map.iter_rules() if is_public(r.endpoint)}
    by_blueprint = {e for e in public if e.partition(".")[0] in PUBLIC_BLUEPRINTS}
    assert public - by_blueprint == PUBLIC


def test_every_admin_route_refuses_another_organisers_ids(app, client, two):
    """Bob, signed in and holding a token, calls every admin route naming Ada's ids."""
    called = []
    for rule in app.url_map.iter_rules():
        names = set(rule.arguments)
        if is_public(rule.endpoint) or not names:
            continue
        assert names <= set(two["values"]), f"{rule.rule}: give the test a value for it"
        path = VARIABLE.sub(lambda m: two["values"][m[1]], rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if is_json(rule.endpoint):
                answer = client.open(path, method=method, json={}, headers=two["bob"])
            else:
                answer = two["browser"].open(path, method=method, data={"email": "x@y.org"},
                                             headers={"X-CSRFToken": two["csrf"]})  # fmt: skip
            assert answer.status_code in (403, 404), (method, path, answer.status_code)
            called.append(rule.endpoint)
    assert len(called) > 40  # every id-naming route of the API and the pages
    # Ids named in a body or a form are checked as those in the path.
    refused = [
        client.post("/events", json={"title": "x", "questions": [two["topic"]["id"]]},
                    headers=two["bob"]),
        client.post(f"/events/{two['own_event']['id']}/questions",
                    json={"topic_id": two["topic"]["id"]}, headers=two["bob"]),
        two["browser"].post(f"/admin/events/{two['own_event']['id']}/questions",
                            data={"topic_id": two["topic"]["id"], "csrf_token": two["csrf"]}),
    ]  # fmt: skip
    assert [r.status_code for r in refused] == [404, 404, 404]
    # Nothing of Ada's changed, and it was there to be refused: she reaches it.
    event = client.get(f"/events/{two['event']['id']}", headers=two["ada"])
    assert event.status_code == 200 and event.json["questions"][0]["state"] == "waiting"
    assert event.json["title"] == "Ada talk" and event.json["position"] == -1
    topic = client.get(f"/topics/{two['topic']['id']}?include_votes=true", headers=two["ada"]).json
    assert topic["title"] == SAMPLE_TOPIC["title"] and topic["total_votes"] == 1
    assert client.get("/auth/tokens", headers=two["ada"]).status_code == 200
    asked = client.get(f"/events/{two['event']['id']}/qna", headers=two["ada"]).json["top"]
    assert [(q["state"], q["pinned"]) for q in asked] == [("open", False)]
    assert client.get(f"/events/{two['event']['id']}", headers=two["ada"]).json["qna"] == "open"
    assert client.get(f"/events/{two['own_event']['id']}", headers=two["bob"]).json[
        "questions"] == []  # fmt: skip


def test_each_organiser_lists_only_their_own_and_admins_list_everything(client, two):
    operator_topic = client.post("/topics", json={**SAMPLE_TOPIC, "title": "By the operator"},
                                 headers=ADMIN).json  # fmt: skip
    assert [e["title"] for e in client.get("/events", headers=two["ada"]).json] == ["Ada talk"]
    assert [e["title"] for e in client.get("/events", headers=two["bob"]).json] == ["Bob talk"]
    assert {e["title"] for e in client.get("/events", headers=ADMIN).json} == {
        "Ada talk", "Bob talk"}  # fmt: skip
    page = two["browser"].get("/admin").text
    assert SAMPLE_TOPIC["title"] not in page and "By the operator" not in page
    console = two["browser"].get("/admin/events").text
    assert "Bob talk" in console and "Ada talk" not in console
    # The public list is the original's: every listed topic, whoever made it.
    titles = {t["title"] for t in client.get("/topics").json}
    assert {SAMPLE_TOPIC["title"], "By the operator"} <= titles
    for shown in client.get("/topics").json + [client.get(f"/topics/{operator_topic['id']}").json]:
        assert "owner" not in shown


def test_what_was_made_before_accounts_is_the_operators(app, client, two, voting):
    legacy = {**client.post("/topics", json={**SAMPLE_TOPIC, "title": "Legacy"},
                            headers=ADMIN).json}  # fmt: skip
    stored = voting.store.get_topic(legacy["id"])
    stored.pop("owner")  # as a topic stored before owners existed
    voting.store.replace_topic(stored, expected_last_upd=stored["last_upd"])
    assert client.put(f"/topics/{legacy['id']}", json=SAMPLE_TOPIC,
                      headers=two["ada"]).status_code == 404  # fmt: skip
    root = make_user(client, "root@example.org", role="admin")
    admin_browser = app.test_client()
    sign_in_as(admin_browser, root["email"])
    page = admin_browser.get("/admin").text
    assert "Legacy" in page and "ada@example.org" in page  # and Ada's, with its owner
    assert client.put(f"/topics/{legacy['id']}", json=SAMPLE_TOPIC,
                      headers=bearer(client, root["email"])).status_code == 200  # fmt: skip


def test_a_co_host_presents_and_edits_but_does_not_own(client, two):
    event_id, topic_id = two["event"]["id"], two["topic"]["id"]
    hosts = client.post(f"/events/{event_id}/hosts", json={"email": "Bob@Example.org"},
                        headers=two["ada"])  # fmt: skip
    assert hosts.status_code == 201
    assert [h["email"] for h in hosts.json["hosts"]] == ["bob@example.org"]
    assert hosts.json["owner"]["email"] == "ada@example.org"
    bob, browser = two["bob"], two["browser"]
    assert client.post(f"/events/{event_id}/position", json={"to": "next"},
                       headers=bob).json["position"] == 0  # fmt: skip
    present = browser.post(f"/admin/events/{event_id}/control",
                           data={"action": "reveal", "csrf_token": two["csrf"]}, headers=HX)
    assert present.status_code == 200
    assert browser.get(f"/admin/events/{event_id}/present").status_code == 200
    assert client.put(f"/topics/{topic_id}", json={**SAMPLE_TOPIC, "choices":
                      two["topic"]["choices"], "title": "Edited"}, headers=bob).status_code == 200
    # Owner-only: deleting the event, changing who co-hosts.
    assert client.delete(f"/events/{event_id}", headers=bob).status_code == 403
    assert client.post(f"/events/{event_id}/hosts", json={"email": "bob@example.org"},
                       headers=bob).status_code == 403  # fmt: skip
    assert client.delete(f"/events/{event_id}/hosts/{hosts.json['hosts'][0]['id']}",
                         headers=bob).status_code == 403  # fmt: skip
    # Removed, Bob reaches nothing of it again.
    bob_id = hosts.json["hosts"][0]["id"]
    assert client.delete(f"/events/{event_id}/hosts/{bob_id}", headers=two["ada"]).json[
        "hosts"] == []  # fmt: skip
    assert client.get(f"/events/{event_id}", headers=bob).status_code == 404
    assert client.put(f"/topics/{topic_id}", json=SAMPLE_TOPIC, headers=bob).status_code == 404


def test_adding_a_co_host_needs_an_account(client, two):
    answer = client.post(f"/events/{two['event']['id']}/hosts", json={"email": "nobody@x.org"},
                         headers=two["ada"])  # fmt: skip
    assert answer.status_code == 404 and answer.json == {"detail": "User not found"}


def test_hidden_results_show_to_the_topics_organiser_only(client, two):
    hidden = client.post("/topics", json={**SAMPLE_TOPIC, "results_visibility": "after_close"},
                         headers=two["ada"]).json  # fmt: skip
    url = f"/topics/{hidden['id']}?include_votes=true"
    assert client.get(url, headers=two["ada"]).json.get("results_hidden") is None
    assert client.get(url, headers=two["bob"]).json["results_hidden"] is True
    assert client.get(url).json["results_hidden"] is True
    assert client.get(url, headers=ADMIN).json.get("results_hidden") is None
