"""The JSON API contract: the original README's worked example and every refusal."""

from __future__ import annotations

import json

import pytest
from botocore.awsrequest import AWSResponse

from tests.helpers.api import ADMIN_KEY, api_vote, make_topic, vote_counts
from tests.helpers.queued import record_queued

WORKED_EXAMPLE = "I want to quit working computers and become a ..."
CAREERS = ("Woodworker", "Baker", "Farmer", "Potter", "Smith")


def create(client, n=3):
    """The original README's worked example: a topic of `n` careers."""
    return make_topic(client, WORKED_EXAMPLE, CAREERS[:n])


def test_create_topic_shape(client, admin):
    topic = create(client)
    original = {"id", "created", "last_upd", "is_active", "title", "choices"}
    # The original's fields, plus the integrity settings with their defaults.
    assert set(topic) == original | {"vote_limit", "closes_at", "results_visibility"}
    assert (topic["vote_limit"], topic["closes_at"], topic["results_visibility"]) == (
        "unlimited",
        None,
        "always",
    )
    assert len(topic["id"]) == 36 and topic["created"] == topic["last_upd"]
    # UTC ISO-8601 with microseconds, no offset: the original's format.
    assert len(topic["created"]) == len("2021-12-28T00:48:55.871230")
    assert [c["description"] for c in topic["choices"]] == ["Woodworker", "Baker", "Farmer"]
    assert all(c["votes"] is None and len(c["id"]) == 36 for c in topic["choices"])
    assert len({c["id"] for c in topic["choices"]}) == 3


def test_worked_example_update_keeps_ids(client, admin):
    topic = create(client)
    ids = [c["id"] for c in topic["choices"]]
    body = {
        "is_active": False,
        "title": "I want to quit working computers and become a:",
        "choices": [
            {"id": ids[0], "description": "Woodworker"},
            {"id": ids[1], "description": "Baker"},
            {"id": ids[2], "description": "Organic Farmer"},
            {"description": "Chef"},
        ],
    }
    answer = client.put(f"/topics/{topic['id']}", json=body, headers=admin)
    assert answer.status_code == 200
    assert answer.data == b"null" and answer.mimetype == "application/json"
    stored = client.get(f"/topics/{topic['id']}").json
    assert [c["id"] for c in stored["choices"]][:3] == ids
    assert stored["choices"][3]["id"] not in ids and stored["choices"][3]["description"] == "Chef"
    assert stored["choices"][2]["description"] == "Organic Farmer"
    assert stored["title"].endswith("become a:") and stored["is_active"] is False
    assert stored["created"] == topic["created"] and stored["last_upd"] > topic["last_upd"]


def test_update_refuses_unknown_choice_id_and_unknown_topic(client, admin):
    topic = create(client)
    body = {
        "title": "t",
        "choices": [{"id": "not-a-choice", "description": "x"}, {"description": "y"}],
    }
    # Well formed, but the topic has no such choice: a conflict with its state.
    assert client.put(f"/topics/{topic['id']}", json=body, headers=admin).status_code == 409
    ok = {"title": "t", "choices": [{"description": "x"}, {"description": "y"}]}
    missing = client.put("/topics/00000000-0000-4000-8000-000000000000", json=ok, headers=admin)
    assert missing.status_code == 404 and missing.json == {"detail": "Topic not found"}
    # Nothing changed on the refused update.
    assert client.get(f"/topics/{topic['id']}").json["title"] == topic["title"]


def test_duplicate_choices_are_a_422_naming_the_repeat(client, admin):
    body = {"title": "Best?", "choices": [{"description": "Rust"}, {"description": " rust "}]}
    answer = client.post("/topics", json=body, headers=admin)
    assert answer.status_code == 422
    (error,) = answer.json["detail"]
    assert error["loc"] == ["choices"] and error["type"] == "duplicate_choice"
    assert error["msg"].startswith("Choice “rust” is listed twice")
    assert client.get("/topics").json == []
    topic = create(client)
    same = [{"id": c["id"], "description": c["description"]} for c in topic["choices"]]
    renamed = {"title": "t", "choices": [*same, {"description": same[0]["description"].upper()}]}
    refused = client.put(f"/topics/{topic['id']}", json=renamed, headers=admin)
    assert refused.status_code == 422 and "is listed twice" in refused.json["detail"][0]["msg"]
    assert client.get(f"/topics/{topic['id']}").json["choices"] == topic["choices"]


def test_list_with_and_without_votes(client, admin, voting):
    topic = create(client)
    plain = client.get("/topics").json
    assert [t["id"] for t in plain] == [topic["id"]]
    assert all(c["votes"] is None and "vote_count" not in c for c in plain[0]["choices"])
    assert "total_votes" not in plain[0]
    counted = client.get("/topics?include_votes=true").json[0]
    assert counted["total_votes"] == 0
    assert [c["votes"] for c in counted["choices"]] == [0, 0, 0]
    assert [c["vote_count"] for c in counted["choices"]] == [0, 0, 0]


@pytest.mark.parametrize("spelling", ["true", "True", "1", "yes", "on", "t", "Y"])
def test_include_votes_truthy(client, admin, spelling):
    topic = create(client)
    assert client.get(f"/topics/{topic['id']}?include_votes={spelling}").json["total_votes"] == 0


@pytest.mark.parametrize("spelling", ["false", "0", "no", "off", "F"])
def test_include_votes_falsy(client, admin, spelling):
    topic = create(client)
    assert "total_votes" not in client.get(f"/topics/{topic['id']}?include_votes={spelling}").json


@pytest.mark.parametrize("spelling", ["maybe", "2", "", "truee"])
def test_include_votes_nonsense_is_422(client, admin, spelling):
    topic = create(client)
    answer = client.get(f"/topics/{topic['id']}?include_votes={spelling}")
    assert answer.status_code == 422 and "detail" in answer.json


def test_get_unknown_topic_404_json(client):
    answer = client.get("/topics/00000000-0000-4000-8000-000000000000")
    assert answer.status_code == 404 and answer.json == {"detail": "Topic not found"}
    assert client.get("/topics/" + "x" * 500).status_code == 404


def test_vote_is_queued_with_original_shape(client, admin, voting):
    topic = create(client)
    choice = topic["choices"][0]["id"]
    answer = client.post("/votes", json={"topic_id": topic["id"], "choice_id": choice})
    assert answer.status_code == 202
    assert set(answer.json) == {"id", "topic_id", "choice_id", "queued_at"}
    assert answer.json["topic_id"] == topic["id"] and answer.json["choice_id"] == choice
    # Durably queued: the message is in SQS with the same id.
    messages = voting.queue.receive(wait_seconds=1)
    assert [json.loads(m.body)["id"] for m in messages] == [answer.json["id"]]
    # Not recorded yet: 404 until the worker records it.
    assert client.get(f"/votes/{answer.json['id']}").status_code == 404


def test_update_dropping_voted_choices_needs_drop_votes(client, admin, voting):
    topic = create(client, n=3)
    api_vote(client, topic, 1)
    api_vote(client, topic, 1)
    record_queued(voting)
    woodworker, baker, farmer = topic["choices"]
    without_baker = {"title": topic["title"], "choices": [woodworker, farmer]}

    refused = client.put(f"/topics/{topic['id']}", json=without_baker, headers=admin)
    assert refused.status_code == 409
    assert refused.json == {
        "detail": 'Removing "Baker" (2 votes) would drop its votes. '
        "Send drop_votes=true to remove them anyway"
    }
    assert vote_counts(client, topic["id"], headers=admin) == [0, 2, 0]  # nothing changed

    # A choice without votes goes without the flag (the original's clients' edits).
    without_farmer = {"title": topic["title"], "choices": [woodworker, baker]}
    assert (
        client.put(f"/topics/{topic['id']}", json=without_farmer, headers=admin).status_code == 200
    )
    # Confirmed: the choice goes, and its votes leave the results.
    without_baker["choices"] = [woodworker]
    without_baker["choices"].append({"description": "Chef"})
    confirmed = client.put(
        f"/topics/{topic['id']}?drop_votes=true", json=without_baker, headers=admin
    )
    assert confirmed.status_code == 200 and confirmed.json is None
    stored = client.get(f"/topics/{topic['id']}?include_votes=true", headers=admin).json
    assert [c["description"] for c in stored["choices"]] == ["Woodworker", "Chef"]
    assert stored["total_votes"] == 0
    bad_flag = client.put(
        f"/topics/{topic['id']}?drop_votes=maybe", json=without_baker, headers=admin
    )
    assert bad_flag.status_code == 422


def test_vote_refusals_queue_nothing(client, admin, voting):
    topic = create(client)
    choice = topic["choices"][0]["id"]
    unknown = client.post(
        "/votes", json={"topic_id": "00000000-0000-4000-8000-000000000000", "choice_id": choice}
    )
    assert unknown.status_code == 404
    wrong_choice = client.post("/votes", json={"topic_id": topic["id"], "choice_id": "nope"})
    assert wrong_choice.status_code == 409 and "not a choice" in wrong_choice.json["detail"]
    body = {"title": topic["title"], "is_active": False, "choices": topic["choices"]}
    assert client.put(f"/topics/{topic['id']}", json=body, headers=admin).status_code == 200
    closed = client.post("/votes", json={"topic_id": topic["id"], "choice_id": choice})
    assert closed.status_code == 409 and "closed" in closed.json["detail"]
    assert voting.queue.receive(wait_seconds=1) == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"topic_id": "abc"},
        {"topic_id": 1, "choice_id": 2},
        {"topic_id": ["a"], "choice_id": "b"},
        {"topic_id": "a b", "choice_id": "c"},
        {"topic_id": "a", "choice_id": "b", "voter_id": "x" * 500},
    ],
)
def test_vote_bad_bodies_422(client, body):
    answer = client.post("/votes", json=body)
    assert answer.status_code == 422 and answer.json["detail"]


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        ("{not json", "application/json", 400),
        ("[" * 5000 + "]" * 5000, "application/json", 400),
        ("[1, 2]", "application/json", 422),
        ("null", "application/json", 422),
        ('"a string"', "application/json", 422),
        ("topic_id=a&choice_id=b", "application/x-www-form-urlencoded", 415),
        ('{"topic_id": "a"}', "text/plain", 415),
        (b"\xff\xfe\x00garbage", "application/json", 400),
    ],
)
def test_vote_malformed_requests(client, data, content_type, status):
    answer = client.post("/votes", data=data, content_type=content_type)
    assert answer.status_code == status
    assert isinstance(answer.json["detail"], str | list)


def test_oversized_body_is_413(client, admin):
    answer = client.post(
        "/votes", data=b'{"x": "' + b"a" * 70_000 + b'"}', content_type="application/json"
    )
    assert answer.status_code == 413 and "detail" in answer.json


@pytest.mark.parametrize(
    "body",
    [
        {"title": "", "choices": [{"description": "a"}, {"description": "b"}]},
        {"title": "x" * 301, "choices": [{"description": "a"}, {"description": "b"}]},
        {"title": "ok", "choices": [{"description": "a"}]},
        {"title": "ok", "choices": [{"description": str(i)} for i in range(51)]},
        {"title": "ok", "choices": [{"description": ""}, {"description": "b"}]},
        {"title": "ok", "choices": [{"description": "x" * 201}, {"description": "b"}]},
        {"title": "ok", "choices": "ab"},
        {"title": 5, "choices": [{"description": "a"}, {"description": "b"}]},
        {
            "title": "ok",
            "is_active": "perhaps",
            "choices": [{"description": "a"}, {"description": "b"}],
        },
    ],
)
def test_topic_limits_422(client, admin, body):
    answer = client.post("/topics", json=body, headers=admin)
    assert answer.status_code == 422, answer.json
    assert client.get("/topics").json == []


def test_topic_limits_accept_the_bounds(client, admin):
    # Fifty different choices (the same text twice is refused), each at the limit.
    body = {
        "title": "x" * 300,
        "choices": [{"description": f"{i:02}" + "d" * 198} for i in range(50)],
    }
    assert client.post("/topics", json=body, headers=admin).status_code == 201


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-API-Key": "wrong"},
        {"X-API-Key": ""},
        {"X-API-Key": ADMIN_KEY[:-1]},
        {"Authorization": f"Basic {ADMIN_KEY}"},
        {"Authorization": "Bearer "},
    ],
)
def test_admin_writes_need_the_key(client, headers):
    body = {"title": "t", "choices": [{"description": "a"}, {"description": "b"}]}
    answer = client.post("/topics", json=body, headers=headers)
    assert answer.status_code == 401 and "detail" in answer.json
    assert (
        client.post(f"/topics?api_key={ADMIN_KEY}", json=body, headers=headers).status_code == 401
    )
    assert client.get("/topics").json == []


def test_admin_key_ways_accepted(client):
    body = {"title": "t", "choices": [{"description": "a"}, {"description": "b"}]}
    assert (
        client.post(
            "/topics", json=body, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
        ).status_code
        == 201
    )
    assert client.post("/topics", json={**body, "api_key": ADMIN_KEY}).status_code == 201
    assert client.post("/topics", json=body, headers={"X-API-Key": ADMIN_KEY}).status_code == 201
    assert len(client.get("/topics").json) == 3


def test_admin_writes_503_without_configured_key(aws_env, monkeypatch):
    monkeypatch.delenv("API_KEY")
    from webapp import create_app

    client = create_app({"TESTING": True}).test_client()
    body = {"title": "t", "choices": [{"description": "a"}, {"description": "b"}]}
    answer = client.post("/topics", json=body, headers={"X-API-Key": ""})
    assert answer.status_code == 503 and "API_KEY" in answer.json["detail"]


def test_list_votes_paginates_newest_first(client, admin, voting):
    topic = create(client)
    ids = [api_vote(client, topic, i % 3) for i in range(5)]
    record_queued(voting)
    seen, cursor = [], None
    while True:
        params = {"topic_id": topic["id"], "limit": 2, **({"next": cursor} if cursor else {})}
        page = client.get("/votes", query_string=params).json
        assert len(page["items"]) <= 2
        seen += page["items"]
        cursor = page["next"]
        if not cursor:
            break
    assert sorted(v["id"] for v in seen) == sorted(ids)
    created = [v["created"] for v in seen]
    assert created == sorted(created, reverse=True)
    assert (
        client.get("/votes", query_string={"topic_id": topic["id"], "next": "garbage!"}).status_code
        == 422
    )
    assert (
        client.get("/votes", query_string={"topic_id": topic["id"], "limit": 0}).status_code == 422
    )
    assert client.get("/votes").status_code == 422


def test_delete_vote_takes_it_off_the_tally(client, admin, voting):
    topic = create(client)
    vote_ids = [api_vote(client, topic, 1) for _ in range(2)]
    record_queued(voting)
    assert client.delete(f"/votes/{vote_ids[0]}").status_code == 401
    deleted = client.delete(f"/votes/{vote_ids[0]}", headers=admin)
    assert deleted.status_code == 200 and deleted.json["id"] == vote_ids[0]
    assert client.get(f"/votes/{vote_ids[0]}").status_code == 404
    assert client.delete(f"/votes/{vote_ids[0]}", headers=admin).status_code == 404
    assert vote_counts(client, topic["id"]) == [0, 1, 0]


def test_percentages_like_the_original(client, admin, voting):
    topic = create(client, n=2)
    for index in (0, 1, 1):
        api_vote(client, topic, index)
    record_queued(voting)
    result = client.get(f"/topics/{topic['id']}?include_votes=true").json
    assert [c["votes"] for c in result["choices"]] == [33, 67]
    assert [c["vote_count"] for c in result["choices"]] == [1, 2]
    assert result["total_votes"] == 3


@pytest.mark.parametrize("group_commit", [True, False])
def test_queue_down_is_503_never_202(client, admin, voting, group_commit):
    """SQS refusing the send (grouped or one message per request) is a 503 and queues nothing."""
    topic = create(client)
    if not group_commit:
        voting.sender = None
    refusals = []

    def refuse(model, **kwargs):
        if not model.name.startswith("SendMessage"):
            return None
        refusals.append(model.name)
        return AWSResponse("http://fault", 403, {}, None), {
            "Error": {"Code": "AccessDenied", "Message": "connection refused"}
        }

    voting.queue.client.meta.events.register("before-call.sqs", refuse)
    try:
        answer = client.post(
            "/votes", json={"topic_id": topic["id"], "choice_id": topic["choices"][0]["id"]}
        )
    finally:
        voting.queue.client.meta.events.unregister("before-call.sqs", refuse)
    assert answer.status_code == 503 and "not taken" in answer.json["detail"]
    assert refusals == ["SendMessageBatch" if group_commit else "SendMessage"]
    assert voting.queue.receive(wait_seconds=0) == []


def test_unknown_route_and_method_are_json(client):
    missing = client.get("/nope", headers={"Accept": "application/json"})
    assert missing.status_code == 404 and isinstance(missing.json["detail"], str)
    wrong_method = client.patch("/topics")
    assert wrong_method.status_code == 405 and isinstance(wrong_method.json["detail"], str)
    assert "GET" in wrong_method.headers["Allow"]


def test_openapi_generated_from_models(client):
    spec = client.get("/openapi.json").json
    assert spec["openapi"].startswith("3.")
    assert {"/topics", "/topics/{topic_id}", "/votes", "/votes/{vote_id}"} <= set(spec["paths"])
    post_votes = spec["paths"]["/votes"]["post"]
    assert post_votes["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/VoteIn"
    )
    assert "202" in post_votes["responses"] and "503" in post_votes["responses"]
    topic_in = spec["components"]["schemas"]["TopicIn"]
    # Limits come from the pydantic model, not from a hand-written document.
    # How few choices a topic may have depends on its type (text and
    # rating questions take none), so the model states that rule in words.
    assert "minItems" not in topic_in["properties"]["choices"]
    assert "At least 2 for single" in topic_in["properties"]["choices"]["description"]
    assert topic_in["properties"]["choices"]["maxItems"] == 50
    assert topic_in["properties"]["scale_max"]["anyOf"][0]["maximum"] == 10
    assert "security" in spec["paths"]["/topics"]["post"]


def test_docs_page_uses_local_assets(client):
    page = client.get("/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/static/vendor/swagger-ui-5.35.0/swagger-ui-bundle.js" in html
    assert "//cdn" not in html and "unpkg" not in html
    bundle = client.get("/static/vendor/swagger-ui-5.35.0/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    bundle.close()


def test_health_and_ready(client):
    assert client.get("/healthz").json == {"status": "ok"}
    assert client.get("/readyz").json == {"status": "ready"}


def test_ready_fails_when_tables_missing(aws_env, monkeypatch):
    monkeypatch.setenv("TABLE_PREFIX", "nothing-here-")
    from webapp import create_app

    answer = create_app({"TESTING": True}).test_client().get("/readyz")
    assert answer.status_code == 503
    assert set(answer.json["detail"]) == {"dynamodb", "sqs"}


def test_reopening_a_closed_topic_starts_a_new_open_period(client, admin, voting):
    """The stored topic remembers when it reopened (opened_at), the
    worker's check; the API's topic shape does not change."""
    topic = create(client, n=2)
    body = {"title": topic["title"], "choices": topic["choices"]}
    assert client.put(f"/topics/{topic['id']}", json=body, headers=admin).status_code == 200
    assert "opened_at" not in voting.store.get_topic(topic["id"])  # never closed: no period
    client.put(f"/topics/{topic['id']}", json={**body, "is_active": False}, headers=admin)
    client.put(f"/topics/{topic['id']}", json={**body, "is_active": True}, headers=admin)
    stored = voting.store.get_topic(topic["id"])
    assert stored["opened_at"] == stored["last_upd"]
    assert "opened_at" not in client.get(f"/topics/{topic['id']}").json


def test_unlisted_topic_is_kept_off_the_home_page_but_reachable(client, admin):
    listed = make_topic(client, title="Everyone sees me")
    hidden = make_topic(client, title="Only by link", listed=False)
    assert "listed" not in listed and hidden["listed"] is False
    home = client.get("/").text
    assert "Everyone sees me" in home and "Only by link" not in home
    assert client.get(f"/t/{hidden['id']}").status_code == 200
    assert client.get(f"/t/{hidden['id']}/present").status_code == 200
    # A PUT that leaves `listed` out (an original client) keeps it; true lists it again.
    body = {"title": "Only by link", "choices": hidden["choices"]}
    assert client.put(f"/topics/{hidden['id']}", json=body, headers=admin).status_code == 200
    assert client.get(f"/topics/{hidden['id']}").json["listed"] is False
    relisted = {**body, "listed": True}
    assert client.put(f"/topics/{hidden['id']}", json=relisted, headers=admin).status_code == 200
    assert "listed" not in client.get(f"/topics/{hidden['id']}").json
    assert "Only by link" in client.get("/").text
    refused = client.post("/topics", json={**body, "listed": "maybe"}, headers=admin)
    assert refused.status_code == 422 and refused.json["detail"][0]["loc"] == ["listed"]
