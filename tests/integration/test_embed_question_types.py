"""A vote of every question type through both embeds is taken and counted.

The embeds show every type's ballot (templates/ballots/); what that ballot
posts, the topic embed (/t/<id>/embed) and the event embed (/<CODE>/embed)
each take, queue and the worker's batch code counts.
"""

from __future__ import annotations

import re

import pytest

from tests.helpers.api import ADMIN, HX, make_topic
from tests.helpers.queued import record_queued

FRUIT = ("Apples", "Bananas", "Cherries")


def _ids(topic: dict) -> list[str]:
    return [c["id"] for c in topic["choices"]]


# type: (topic settings, the form a voter sends, what the results then say)
TYPES = {
    "single": (
        {},
        lambda a, b, c: {"choice_id": b},
        lambda t, a, b, c: [ch["vote_count"] for ch in t["choices"]] == [0, 1, 0],
    ),
    "multiple": (
        {"type": "multiple"},
        lambda a, b, c: {"choice_ids": [a, c]},
        lambda t, a, b, c: [ch["count"] for ch in t["results"]["choices"]] == [1, 0, 1],
    ),
    "ranking": (
        {"type": "ranking"},
        lambda a, b, c: {f"rank-{c}": "1", f"rank-{a}": "2", f"rank-{b}": "3"},
        lambda t, a, b, c: {ch["id"]: ch["points"] for ch in t["results"]["choices"]}
        == {c: 3, a: 2, b: 1},
    ),
    "rating": (
        {"type": "rating"},
        lambda a, b, c: {"rating": "4"},
        lambda t, a, b, c: t["results"]["mean"] == 4 and t["results"]["voters"] == 1,
    ),
    "rate each": (
        {"type": "rating", "rate_each": True},
        lambda a, b, c: {f"rating-{a}": "5", f"rating-{c}": "2"},
        lambda t, a, b, c: [ch.get("mean") for ch in t["results"]["choices"]] == [5, None, 2],
    ),
    "text": (
        {"type": "text"},
        lambda a, b, c: {"text": "  Great "},
        lambda t, a, b, c: [(x["text"], x["count"]) for x in t["results"]["answers"]]
        == [("Great", 1)],  # shown as typed (trimmed)
    ),
    "game": (
        {"type": "game"},
        lambda a, b, c: {"choice_id": a},
        lambda t, a, b, c: t["results"]["cast"] == 1
        and [ch["standing"] for ch in t["results"]["choices"]][0] == 1,
    ),
}


def _topic(client, kind: str) -> dict:
    settings = TYPES[kind][0]
    # Text, and a rating of the question itself, have no choices.
    choices = () if kind in ("text", "rating") else FRUIT
    return make_topic(client, f"A {kind} question?", choices, **settings)


def _topic_embed_vote(client, topic: dict, form: dict):
    page = client.get(f"/t/{topic['id']}/embed").text
    assert f'hx-post="/t/{topic["id"]}/embed/vote"' in page
    return client.post(f"/t/{topic['id']}/embed/vote", data=form, headers=HX)


def _event_embed_vote(client, topic: dict, form: dict):
    body = {"title": "Room", "questions": [topic["id"]], "results": "shown"}
    event = client.post("/events", json=body, headers=ADMIN).get_json()
    client.post(f"/events/{event['id']}/position", json={"to": "next"}, headers=ADMIN)
    page = client.get(f"/{event['code']}/embed").text
    voter = re.search(r'data-embed-voter="([^"]+)"', page)[1]
    vote_url = f"/{event['code']}/embed/vote/{topic['id']}"
    assert f'hx-post="{vote_url}"' in page  # the embed shows this type's ballot
    return client.post(vote_url, data=form, headers={**HX, "X-Embed-Voter": voter})


@pytest.mark.parametrize("embed", ["topic embed", "event embed"])
@pytest.mark.parametrize("kind", list(TYPES))
def test_every_question_type_votes_through_the_embeds(app, voting, kind, embed):
    client = app.test_client(use_cookies=False)
    topic = _topic(client, kind)
    ids = (_ids(topic) + [None, None, None])[:3]
    form = TYPES[kind][1](*ids)
    send = _topic_embed_vote if embed == "topic embed" else _event_embed_vote
    answer = send(client, topic, form)
    assert answer.status_code == 202, answer.text[:2000]
    assert "waiting to be counted" in answer.text
    assert record_queued(voting) == 1
    counted = client.get(f"/topics/{topic['id']}?include_votes=true", headers=ADMIN).get_json()
    assert TYPES[kind][2](counted, *ids), counted
