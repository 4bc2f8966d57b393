"""A question waiting in an event is closed and unlisted until the presenter reaches it
(core/services/events.py), however it joined the event: no vote counts by any
way in (409), and the home page does not list it. Reaching it opens it; it stays
unlisted after (an event's questions belong to the event)."""

from __future__ import annotations

import pytest

from tests.helpers.api import (
    ADMIN,
    api_vote,
    make_event,
    make_topic,
    move,
    sign_in,
    token_from,
    vote_counts,
)
from tests.helpers.queued import record_queued


def _existing_open_topic(client, event):
    topic = make_topic(client, "Waiting?", ("Yes", "No"))  # open and listed until added
    answer = client.post(f"/events/{event['id']}/questions", json={"topic_id": topic["id"]},
                         headers=ADMIN)  # fmt: skip
    assert answer.status_code == 201, answer.text
    return topic["id"]


def _new_topic_by_api(client, event):
    body = {"topic": {"title": "Waiting?", "choices": [{"description": "Yes"},
                                                      {"description": "No"}]}}  # fmt: skip
    answer = client.post(f"/events/{event['id']}/questions", json=body, headers=ADMIN)
    assert answer.status_code == 201, answer.text
    return answer.get_json()["questions"][-1]["topic_id"]


def _new_topic_in_the_console(client, event):
    sign_in(client)
    page = client.get(f"/admin/events/{event['id']}")
    form = {"csrf_token": token_from(page.text), "title": "Waiting?", "choices": "Yes\nNo"}
    answer = client.post(f"/admin/events/{event['id']}/questions", data=form)
    assert answer.status_code == 303, answer.text
    client.post("/admin/logout", data={"csrf_token": token_from(page.text)})
    return client.get(f"/events/{event['id']}", headers=ADMIN).get_json()["questions"][-1][
        "topic_id"
    ]


def _event_made_with_it(client, event):
    topic = make_topic(client, "Waiting?", ("Yes", "No"))
    event.update(make_event(client, [topic]))  # this event instead of the empty one
    return topic["id"]


WAYS = {
    "an existing open topic (API)": _existing_open_topic,
    "a new topic (API)": _new_topic_by_api,
    "a new question (console form)": _new_topic_in_the_console,
    "an event created over an open topic (API)": _event_made_with_it,
}


@pytest.mark.parametrize("added", WAYS)
def test_a_waiting_question_takes_no_vote_and_is_not_listed_until_reached(client, added):
    event = make_event(client, [])
    topic_id = WAYS[added](client, event)
    topic = client.get(f"/topics/{topic_id}").get_json()
    assert (topic["is_active"], topic.get("listed")) == (False, False)
    yes = topic["choices"][0]["id"]

    by_api = client.post("/votes", json={"topic_id": topic_id, "choice_id": yes})
    assert by_api.status_code == 409, by_api.text
    token = token_from(client.get(f"/t/{topic_id}").text)
    by_page = client.post(f"/t/{topic_id}/vote", data={"csrf_token": token, "choice_id": yes})
    assert by_page.status_code == 409 and "closed" in by_page.text
    by_embed = client.post(f"/t/{topic_id}/embed/vote", data={"choice_id": yes})
    assert by_embed.status_code == 409 and "closed" in by_embed.text
    assert "Waiting?" not in client.get("/").text

    # The presenter reaches it: it opens, and stays off the home page.
    move(client, event, to=0)
    assert client.post("/votes", json={"topic_id": topic_id, "choice_id": yes}).status_code == 202
    assert "Waiting?" not in client.get("/").text


def test_a_vote_taken_before_an_open_topic_joins_an_event_still_counts(client, event, voting):
    """Joining an event closes an open topic like any close: a vote answered 202 before it
    counts, one after it is refused (the close is stamped, as the presenter's)."""
    topic = make_topic(client, "Open before the talk", ("Yes", "No"))
    before = api_vote(client, topic, 0)
    added = client.post(f"/events/{event['id']}/questions", json={"topic_id": topic["id"]},
                        headers=ADMIN)  # fmt: skip
    assert added.status_code == 201
    late = client.post("/votes", json={"topic_id": topic["id"],
                                       "choice_id": topic["choices"][1]["id"]})  # fmt: skip
    assert late.status_code == 409
    record_queued(voting)
    assert client.get(f"/votes/{before}").get_json()["status"] == "counted"
    assert vote_counts(client, topic["id"], headers=ADMIN) == [1, 0]
