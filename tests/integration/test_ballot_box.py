"""One ballot box: every refusal answers with one status whichever way the vote came in.

The ways in: the JSON API (POST /votes), the topic page, the topic embed, the
event stage and the event embed. Each refusal is arranged once per way in and
the vote sent (the pages with and without htmx); the API gets the original's
`{"detail": ...}`, a page the refusal's message in its own words, and every
way in the same status. Nothing refused is queued.
"""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import dataclass, field

import pytest

from tests.helpers.api import ADMIN, HX, make_topic, token_from
from tests.helpers.queued import record_queued
from webapp import create_app

API, TOPIC_PAGE, TOPIC_EMBED, EVENT_STAGE, EVENT_EMBED = (
    "api", "topic page", "topic embed", "event stage", "event embed",
)  # fmt: skip
EVERY_WAY = (API, TOPIC_PAGE, TOPIC_EMBED, EVENT_STAGE, EVENT_EMBED)
PAGES = EVERY_WAY[1:]
EVENTS = (EVENT_STAGE, EVENT_EMBED)

# Each refusal: its one status, what the API says (the original's words, or the
# field a 422 names), what a page says, and the ways in that can meet it at all.
REFUSALS = {
    "topic not found": (404, "Topic not found", "Topic not found",
                        (API, TOPIC_PAGE, TOPIC_EMBED)),
    "choice not in topic": (409, "choice_id is not a choice of this topic",
                            "That choice is no longer part of this topic. Pick again.", EVERY_WAY),
    "topic closed": (409, "This topic is closed: it does not take votes",
                     "Voting on this topic is closed: your vote was not taken.", EVERY_WAY),
    # Pages always send their voter's id; only the API can leave it out.
    "voter required": (409, "voter_id is required: this topic counts one vote per voter", None,
                       (API,)),
    # The topic embed takes no vote on a topic that counts one per voter (below).
    "already voted": (409, "You have already voted on this topic",
                      "You have already voted on this question: one vote per voter.",
                      (API, TOPIC_PAGE, EVENT_STAGE, EVENT_EMBED)),
    "own page only": (409, None, "Vote on the topic's own page: it counts one vote each.",
                      (TOPIC_EMBED,)),
    "question not on screen": (409, None, "The presenter has moved on: this question is over.",
                               EVENTS),
    "answer invalid": (422, ["choice_ids"], "Choose between 1 and 2 choices.", EVERY_WAY),
    # What only a form can get wrong (the API's JSON has no ranks to repeat).
    "form invalid": (422, None, "Give each rank to one choice only.", PAGES),
    "queue unavailable": (503, "The vote queue is unavailable; the vote was not taken",
                          "We could not take your vote just now. Please try again in a moment.",
                          EVERY_WAY),
}  # fmt: skip
CASES = [(refusal, way) for refusal, spec in REFUSALS.items() for way in spec[3]]


@dataclass
class Scene:
    """A topic (in an event, on screen, for the event ways in), and the vote to send."""

    client: object
    topic: dict
    form: dict
    event: dict | None = None
    topic_id: str = ""
    voter: str = ""  # the event embed's voter token (sent in its X-Embed-Voter header)
    token: str = ""
    api_extra: dict = field(default_factory=dict)

    def __post_init__(self):
        self.topic_id = self.topic_id or self.topic["id"]


def _in_event(client, topics: list[dict]) -> dict:
    body = {"title": "Room", "questions": [t["id"] for t in topics], "results": "shown"}
    event = client.post("/events", json=body, headers=ADMIN).get_json()
    assert client.post(f"/events/{event['id']}/position", json={"to": "next"},
                       headers=ADMIN).status_code == 200  # fmt: skip
    return event


def _scene(client, way: str, topic: dict, form: dict, second: dict | None = None, **extra):
    """The scene for `way`: the event ways put the topic on screen, the pages read their token."""
    event = _in_event(client, [topic, second or make_topic(client)]) if way in EVENTS else None
    scene = Scene(client, topic, form, event=event, **extra)
    if way == TOPIC_PAGE:
        scene.token = token_from(client.get(f"/t/{topic['id']}").text)
    elif way == EVENT_STAGE:
        scene.token = token_from(client.get(f"/{event['code']}").text)
    elif way == EVENT_EMBED:
        page = client.get(f"/{event['code']}/embed").text
        scene.voter = re.search(r'data-embed-voter="([^"]+)"', page)[1]
    return scene


def send(way: str, scene: Scene, headers: dict | None = None):
    """The scene's vote, sent the way `way` sends it."""
    client, headers = scene.client, headers or {}
    if way == API:
        body = {"topic_id": scene.topic_id, **_as_json(scene.topic, scene.form), **scene.api_extra}
        return client.post("/votes", json=body)
    if way == TOPIC_PAGE:
        data = {**scene.form, "csrf_token": scene.token}
        return client.post(f"/t/{scene.topic_id}/vote", data=data, headers=headers)
    if way == TOPIC_EMBED:
        return client.post(f"/t/{scene.topic_id}/embed/vote", data=scene.form, headers=headers)
    code = scene.event["code"]
    if way == EVENT_STAGE:
        data = {**scene.form, "csrf_token": scene.token}
        return client.post(f"/{code}/vote/{scene.topic_id}", data=data, headers=headers)
    url = f"/{code}/embed/vote/{scene.topic_id}"
    return client.post(url, data=scene.form, headers={**headers, "X-Embed-Voter": scene.voter})


def _as_json(topic: dict, form: dict) -> dict:
    """The form's answer as the API's JSON fields."""
    if "choice_ids" in form:
        return {"choice_ids": form["choice_ids"]}
    return {"choice_id": form.get("choice_id", "")}


def arrange(refusal: str, way: str, app):
    """The scene in which the vote sent `way` meets `refusal` (with any vote before it)."""
    client = app.test_client()
    if refusal == "topic not found":
        topic = make_topic(client)
        return _scene(client, way, topic, {"choice_id": topic["choices"][0]["id"]},
                      topic_id="no-such-topic")  # fmt: skip
    if refusal == "choice not in topic":
        return _scene(client, way, make_topic(client), {"choice_id": "not-a-choice"})
    if refusal == "topic closed":
        topic = make_topic(client, active=False)  # an event opens it on screen
        scene = _scene(client, way, topic, {"choice_id": topic["choices"][0]["id"]})
        if scene.event:  # the presenter closes voting on the question on screen
            answer = client.post(f"/events/{scene.event['id']}/voting", json={"open": False},
                                 headers=ADMIN)  # fmt: skip
            assert answer.status_code == 200
        return scene
    if refusal in ("voter required", "already voted"):
        topic = make_topic(client, vote_limit="one_per_voter")
        extra = {"api_extra": {"voter_id": "v-1"}} if refusal == "already voted" else {}
        scene = _scene(client, way, topic, {"choice_id": topic["choices"][0]["id"]}, **extra)
        if refusal == "already voted":
            assert send(way, scene).status_code in (202, 303)
            assert record_queued(app_voting(app)) == 1
        return scene
    if refusal == "own page only":
        topic = make_topic(client, vote_limit="one_per_voter")
        return _scene(client, way, topic, {"choice_id": topic["choices"][0]["id"]})
    if refusal == "question not on screen":
        topic = make_topic(client)
        scene = _scene(client, way, topic, {"choice_id": topic["choices"][0]["id"]})
        moved = client.post(f"/events/{scene.event['id']}/position", json={"to": "next"},
                            headers=ADMIN)  # fmt: skip
        assert moved.status_code == 200
        return scene
    if refusal == "answer invalid":
        topic = make_topic(client, "Fruit?", ("Apples", "Bananas", "Cherries"), type="multiple",
                           max_choices=2)  # fmt: skip
        return _scene(client, way, topic, {"choice_ids": [c["id"] for c in topic["choices"]]})
    if refusal == "form invalid":
        topic = make_topic(client, "Rank", ("Apples", "Bananas"), type="ranking")
        return _scene(client, way, topic, {f"rank-{c['id']}": "1" for c in topic["choices"]})
    assert refusal == "queue unavailable"
    topic = make_topic(client)
    return _scene(client, way, topic, {"choice_id": topic["choices"][0]["id"]})


def app_voting(app):
    from webapp import services

    with app.app_context():
        return services.voting()


def page_message(answer) -> str | None:
    found = re.search(r"data-error-message>\s*(.*?)\s*</p>", answer.text, re.S)
    return html.unescape(found[1]) if found else None


@pytest.mark.parametrize(("refusal", "way"), CASES, ids=[f"{r}-{w}" for r, w in CASES])
def test_every_refusal_has_one_status_whichever_way_the_vote_came_in(aws_env, refusal, way):
    status, detail, message, _ = REFUSALS[refusal]
    config = {"TESTING": True}
    if refusal == "queue unavailable":
        config["queue_name"] = f"missing-{uuid.uuid4().hex[:8]}"
    app = create_app(config)
    scene = arrange(refusal, way, app)
    if way == API:
        answer = send(way, scene)
        assert answer.status_code == status, answer.text
        if isinstance(detail, list):
            assert [e["loc"] for e in answer.json["detail"]] == [detail]
        else:
            assert answer.json == {"detail": detail}
    else:
        for headers in (HX, {}):
            answer = send(way, scene, headers)
            assert answer.status_code == status, (headers, answer.text[:2000])
            assert answer.mimetype == "text/html"
            assert page_message(answer) == message, answer.text[:3000]
            assert answer.text.count("data-error-message") == 1  # said once
    if status == 503:
        assert answer.headers["Retry-After"] == "5"
    if refusal != "queue unavailable":
        assert record_queued(app_voting(app)) == 0


def test_the_refusals_table_says_the_same(app):
    """webapp/refusals.py, the one table the error handlers and the pages read."""
    from core.rules.errors import (
        AlreadyVoted,
        ChoiceNotInTopic,
        FieldInvalid,
        QuestionNotOnScreen,
        QueueUnavailable,
        TopicClosed,
        TopicNotFound,
        VoterRequired,
    )
    from webapp.audience.ballot_forms import FormInvalid
    from webapp.refusals import OwnPageOnly, refusal_for

    named = {
        "topic not found": TopicNotFound("t"), "choice not in topic": ChoiceNotInTopic("c"),
        "topic closed": TopicClosed("t"), "voter required": VoterRequired("t"),
        "already voted": AlreadyVoted("t"), "own page only": OwnPageOnly("t"),
        "question not on screen": QuestionNotOnScreen("e"),
        "answer invalid": FieldInvalid("choice_ids", "no"), "form invalid": FormInvalid("no"),
        "queue unavailable": QueueUnavailable("down"),
    }  # fmt: skip
    for refusal, exc in named.items():
        assert refusal_for(exc).status == REFUSALS[refusal][0], refusal
