"""The API and the pages as a client uses them: through a Flask test client (paths as they
are) or a requests session (with `base`, the server's URL), so one helper serves the in-process
tests and the ones against real processes alike."""

from __future__ import annotations

import re

from tests.helpers.waiting import wait_until

ADMIN_KEY = "test-admin-key-0123456789"


ADMIN = {"X-API-Key": ADMIN_KEY}


HX = {"HX-Request": "true"}


TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


SAMPLE_TOPIC = {
    "title": "Tabs or spaces?",
    "choices": [{"description": "Tabs"}, {"description": "Spaces"}],
}


def json_of(answer):
    """The JSON body of a Flask test response or a requests response."""
    return answer.json() if callable(answer.json) else answer.json


def make_topic(
    client, title="Tabs or spaces?", choices=("Tabs", "Spaces"), active=True, base="", **settings
) -> dict:
    """POST /topics as the admin; the created topic."""
    body = {
        "title": title,
        "is_active": active,
        "choices": [{"description": c} for c in choices],
        **settings,
    }
    answer = client.post(f"{base}/topics", json=body, headers=ADMIN)
    assert answer.status_code == 201, answer.text
    return json_of(answer)


def make_topic_past_its_deadline(client, base: str = "", **settings) -> dict:
    """A topic whose closes_at has passed: created open, then given a past deadline by
    PUT (POST /topics refuses a deadline in the past); the topic as updated."""
    topic = make_topic(client, base=base, **settings)
    body = {"title": topic["title"], "choices": topic["choices"], "closes_at": "2000-01-01T00:00Z"}
    answer = client.put(f"{base}/topics/{topic['id']}", json=body, headers=ADMIN)
    assert answer.status_code == 200, answer.text
    return json_of(client.get(f"{base}/topics/{topic['id']}"))


def api_vote(client, topic: dict, index: int = 0, base: str = "", **extra) -> str:
    """POST /votes for the topic's choice `index`; the id of the queued vote."""
    body = {"topic_id": topic["id"], "choice_id": topic["choices"][index]["id"], **extra}
    answer = client.post(f"{base}/votes", json=body)
    assert answer.status_code == 202, answer.text
    return json_of(answer)["id"]


def vote_counts(client, topic_id: str, base: str = "", headers=None) -> list[int]:
    """The API's vote_count of each choice (GET /topics/{id}?include_votes=true)."""
    answer = client.get(f"{base}/topics/{topic_id}?include_votes=true", headers=headers or {})
    return [c["vote_count"] for c in json_of(answer)["choices"]]


def recorded(http, base: str, vote_ids) -> bool:
    """Has the worker recorded every one of these votes (GET /votes/{id} answers 200)?"""
    return all(http.get(f"{base}/votes/{v}").status_code == 200 for v in vote_ids)


def all_votes(get, topic_id: str) -> list[dict]:
    """Every vote record of a topic through GET /votes, following the cursor.

    `get(path, params)` returns a JSON answer of the API.
    """
    records, cursor = [], None
    while True:
        params = {"topic_id": topic_id, "limit": 100, **({"next": cursor} if cursor else {})}
        page = get("/votes", params)
        records += page["items"]
        cursor = page["next"]
        if not cursor:
            return records


def api_answers(http, base: str) -> dict:
    """Every read answer of the API for every topic and each of its votes, as clients see them."""
    get = lambda path, params=None: http.get(f"{base}{path}", params=params).json()  # noqa: E731
    answers = {"list": get("/topics", {"include_votes": "true"}), "plain": get("/topics")}
    for topic in answers["list"]:
        topic_id = topic["id"]
        answers[topic_id] = get(f"/topics/{topic_id}")
        answers[f"results {topic_id}"] = get(f"/topics/{topic_id}", {"include_votes": "true"})
        answers[f"votes {topic_id}"] = votes = all_votes(get, topic_id)
        for record in votes:
            answers[record["id"]] = get(f"/votes/{record['id']}")
    return answers


def populate(http, base: str) -> tuple[list[dict], list[str]]:
    """Through the API: "Lunch?" (open) and "Tabs or spaces?" (then closed), four votes
    recorded by the worker. Returns ([lunch, tabs], vote ids)."""
    lunch = make_topic(http, "Lunch?", ("Yes", "No"), base=base)
    tabs = make_topic(http, "Tabs or spaces?", ("Yes", "No"), base=base)
    picks = [(lunch, 0), (lunch, 1), (lunch, 0), (tabs, 1)]
    votes = [api_vote(http, topic, index, base=base) for topic, index in picks]
    wait_until(lambda: recorded(http, base, votes))
    closed = {**tabs, "is_active": False}
    assert http.put(f"{base}/topics/{tabs['id']}", json=closed, headers=ADMIN).ok
    return [lunch, tabs], votes


def token_from(html: str) -> str:
    """The CSRF token of a page's form."""
    match = TOKEN.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def sign_in(client, secret: str = ADMIN_KEY, base: str = ""):
    """The admin sign-in form, filled in and posted; the answer to the post."""
    page = client.get(f"{base}/admin/login")
    return client.post(
        f"{base}/admin/login", data={"csrf_token": token_from(page.text), "password": secret}
    )


def make_event(client, topics: list[dict], base: str = "", **body) -> dict:
    """A new event over `topics` (title "Keynote" unless given), with its topics kept."""
    body = {"title": "Keynote", "questions": [t["id"] for t in topics], **body}
    answer = client.post(f"{base}/events", json=body, headers=ADMIN)
    assert answer.status_code == 201, json_of(answer)
    return json_of(answer) | {"topics": topics}


def move(client, event: dict, to="next", base: str = "") -> dict:
    """The presenter moves the room (`to`: "next", "previous" or an index); the event after."""
    answer = client.post(f"{base}/events/{event['id']}/position", json={"to": to}, headers=ADMIN)
    assert answer.status_code == 200, json_of(answer)
    return json_of(answer)
