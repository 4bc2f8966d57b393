"""Duplicating, resetting and deleting an event's questions (core/services/event_questions.py),
over the JSON API, the presenter's control bar and the console (real moto server)."""

from __future__ import annotations

from tests.helpers.api import (
    ADMIN,
    HX,
    api_vote,
    make_topic,
    move,
    sign_in,
    token_from,
    vote_counts,
)
from tests.helpers.queued import record_queued


def test_duplicate_a_question_same_content_no_votes_right_after_it(client, voting, event):
    first = event["topics"][0]
    move(client, event)
    move(client, event)  # the room is on question 2 (index 1)
    answer = client.post(f"/events/{event['id']}/questions/0/duplicate", headers=ADMIN)
    assert answer.status_code == 201, answer.text
    copied = answer.get_json()
    assert [q["title"] for q in copied["questions"]] == ["Question 1", "Question 1", "Question 2"]
    assert copied["position"] == 2  # still on "Question 2"
    copy = copied["questions"][1]
    assert copy["topic_id"] != first["id"] and copy["state"] == "waiting"
    # The question's results are hidden: its managers see them.
    topic = client.get(f"/topics/{copy['topic_id']}?include_votes=true", headers=ADMIN).get_json()
    assert [c["description"] for c in topic["choices"]] == ["Tabs", "Spaces"]
    assert not topic["is_active"] and topic["total_votes"] == 0
    # A question the event lacks is a state refusal (409), like every event write's.
    assert client.post(f"/events/{event['id']}/questions/7/duplicate",
                       headers=ADMIN).status_code == 409  # fmt: skip
    assert client.post(f"/events/{event['id']}/questions/0/duplicate").status_code == 401


def test_reset_a_question_while_votes_are_in_flight(client, voting, event):
    topic = event["topics"][0]
    move(client, event)  # opens question 1
    api_vote(client, topic, 0)
    api_vote(client, topic, 0)
    record_queued(voting)
    in_flight = api_vote(client, topic, 1)

    answer = client.post(f"/events/{event['id']}/questions/0/reset", headers=ADMIN)
    assert answer.status_code == 200, answer.text
    assert answer.get_json() | {"id": None} == {
        "id": None, "counted": 2, "votes": 2, "ballots": 0, "tallies": 1,
    }  # fmt: skip
    after = api_vote(client, topic, 1)
    record_queued(voting)
    assert vote_counts(client, topic["id"], headers=ADMIN) == [0, 1]
    assert voting.vote(in_flight)["reason"] == "reset"
    assert voting.vote(after)["status"] == "counted"
    # The question keeps its place and state: still open, still current.
    state = client.get(f"/events/{event['id']}", headers=ADMIN).get_json()
    assert (state["position"], state["questions"][0]["state"]) == (0, "open")
    assert client.post(f"/events/{event['id']}/questions/5/reset", headers=ADMIN).status_code == 409


def test_the_presenters_reset_button_empties_the_current_question(client, voting, event):
    topic = event["topics"][0]
    move(client, event)
    api_vote(client, topic, 1)
    record_queued(voting)
    sign_in(client)
    page = client.get(f"/admin/events/{event['id']}/present").get_data(as_text=True)
    assert 'value="reset"' in page and "hx-confirm=" in page
    control = f"/admin/events/{event['id']}/control"
    answer = client.post(control, data={"action": "reset", "csrf_token": token_from(page)},
                         headers=HX)  # fmt: skip
    assert answer.status_code == 200 and 'id="present-stage"' in answer.get_data(as_text=True)
    assert vote_counts(client, topic["id"], headers=ADMIN) == [0, 0]
    assert list(voting.store.topic_votes(topic["id"])) == []


def test_a_phone_offers_the_vote_again_after_a_reset(client, voting, event):
    topic = event["topics"][0]
    move(client, event)
    page = client.get(f"/{event['code']}").get_data(as_text=True)
    form = {"choice_id": topic["choices"][0]["id"], "csrf_token": token_from(page)}
    assert client.post(f"/{event['code']}/vote/{topic['id']}", data=form,
                       headers=HX).status_code == 202  # fmt: skip
    record_queued(voting)
    assert "was counted" in client.get(f"/{event['code']}").get_data(as_text=True)
    client.post(f"/events/{event['id']}/questions/0/reset", headers=ADMIN)
    again = client.get(f"/{event['code']}").get_data(as_text=True)
    assert "was counted" not in again
    assert f'hx-post="/{event["code"]}/vote/{topic["id"]}"' in again


def test_console_says_how_many_votes_go_before_deleting_a_question(client, voting, event):
    topic = event["topics"][1]
    client.put(f"/topics/{topic['id']}", json={**topic, "is_active": True}, headers=ADMIN)
    for index in (0, 1, 1):
        api_vote(client, topic, index)
    record_queued(voting)
    sign_in(client)
    edit = client.get(f"/admin/events/{event['id']}").get_data(as_text=True)
    confirm_url = f"/admin/events/{event['id']}/questions/1/delete"
    assert f'href="{confirm_url}"' in edit
    confirm = client.get(confirm_url).get_data(as_text=True)
    assert "Delete “Question 2”?" in confirm and "3 votes" in confirm
    answer = client.post(confirm_url, data={"csrf_token": token_from(confirm)})
    assert answer.status_code == 303
    shown = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Deleted “Question 2” with its 3 votes." in shown
    assert client.get(f"/topics/{topic['id']}").status_code == 404
    state = client.get(f"/events/{event['id']}", headers=ADMIN).get_json()
    assert [q["title"] for q in state["questions"]] == ["Question 1"]
    assert list(voting.store.topic_votes(topic["id"])) == []


def test_console_resets_and_duplicates_a_question_and_deletes_a_standalone_topic(
    client, voting, event
):
    alone = make_topic(client, title="Not in any event")
    api_vote(client, alone, 0)
    record_queued(voting)
    sign_in(client)
    console = client.get("/admin/events").get_data(as_text=True)
    delete_url = f"/admin/events/topics/{alone['id']}/delete"
    assert f'href="{delete_url}"' in console
    confirm = client.get(delete_url).get_data(as_text=True)
    assert "Delete “Not in any event”?" in confirm
    assert "<strong>1 vote goes with it.</strong>" in confirm
    answer = client.post(delete_url, data={"csrf_token": token_from(confirm)})
    assert answer.status_code == 303
    assert client.get(f"/topics/{alone['id']}").status_code == 404
    assert client.get(delete_url).status_code == 404

    token = token_from(client.get(f"/admin/events/{event['id']}").get_data(as_text=True))
    duplicated = client.post(f"/admin/events/{event['id']}/questions/0/duplicate",
                             data={"csrf_token": token})  # fmt: skip
    assert duplicated.status_code == 303
    state = client.get(f"/events/{event['id']}", headers=ADMIN).get_json()
    assert [q["title"] for q in state["questions"]] == ["Question 1", "Question 1", "Question 2"]
    reset_url = f"/admin/events/{event['id']}/questions/0/reset"
    confirm = client.get(reset_url).get_data(as_text=True)
    assert "Reset the results of “Question 1”?" in confirm and "0 votes" in confirm
    assert client.post(reset_url, data={"csrf_token": token_from(confirm)}).status_code == 303
    assert client.get(f"/admin/events/{event['id']}/questions/9/reset").status_code == 404
    # Forms without the CSRF token are refused, as every admin form.
    assert client.post(reset_url).status_code in (400, 403)
