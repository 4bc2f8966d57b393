"""Hidden results stay hidden in the vote records.

A topic with results_visibility after_close or after_vote hides its tallies;
the vote records must not give them away: GET /votes answers 403 to anyone the
topic hides results from, and GET /votes/{id} and the vote-status partial show
a vote's choice only to its own voter or an admin.
"""

from __future__ import annotations

import pytest

from tests.helpers.api import ADMIN, HX, api_vote, make_topic, sign_in, token_from
from tests.helpers.queued import record_queued


def _close(client, topic):
    body = {"title": topic["title"], "is_active": False, "choices": topic["choices"]}
    assert client.put(f"/topics/{topic['id']}", json=body, headers=ADMIN).status_code == 200


@pytest.mark.parametrize("rule", ["after_close", "after_vote"])
def test_vote_listing_is_refused_while_results_are_hidden(client, voting, rule):
    topic = make_topic(client, results_visibility=rule, vote_limit="one_per_voter")
    api_vote(client, topic, 1, voter_id="alice")
    record_queued(voting)
    query = {"topic_id": topic["id"]}
    hidden = client.get("/votes", query_string=query)
    assert hidden.status_code == 403
    assert "hidden" in hidden.json["detail"] and topic["choices"][1]["id"] not in hidden.text
    admin = client.get("/votes", query_string=query, headers=ADMIN)
    assert admin.status_code == 200
    assert [v["choice_id"] for v in admin.json["items"]] == [topic["choices"][1]["id"]]
    if rule == "after_vote":  # a voter who voted sees the results, so the records too
        mine = client.get("/votes", query_string={**query, "voter_id": "alice"})
        assert mine.status_code == 200 and len(mine.json["items"]) == 1
    else:
        _close(client, topic)
        assert client.get("/votes", query_string=query).status_code == 200


def test_listing_of_an_unknown_topic_is_404(client):
    assert client.get("/votes", query_string={"topic_id": "nope"}).status_code == 404


def test_vote_record_shows_its_choice_only_to_its_voter_or_an_admin(client, voting):
    topic = make_topic(client, results_visibility="after_close", vote_limit="one_per_voter")
    vote_id = api_vote(client, topic, 1, voter_id="alice")
    record_queued(voting)
    choice = topic["choices"][1]["id"]
    anyone = client.get(f"/votes/{vote_id}")
    assert anyone.status_code == 200 and anyone.json["status"] == "counted"
    assert anyone.json["choice_id"] is None and choice not in anyone.text
    stranger = client.get(f"/votes/{vote_id}", query_string={"voter_id": "mallory"})
    assert stranger.json["choice_id"] is None
    assert (
        client.get(f"/votes/{vote_id}", query_string={"voter_id": "alice"}).json["choice_id"]
        == choice
    )
    assert client.get(f"/votes/{vote_id}", headers=ADMIN).json["choice_id"] == choice
    _close(client, topic)
    assert client.get(f"/votes/{vote_id}").json["choice_id"] == choice


def test_vote_record_of_a_visible_topic_keeps_the_original_shape(client, voting):
    topic = make_topic(client)
    vote_id = api_vote(client, topic, 0)
    record_queued(voting)
    record = client.get(f"/votes/{vote_id}").json
    assert set(record) == {"id", "topic_id", "choice_id", "created", "status"}
    assert record["choice_id"] == topic["choices"][0]["id"]


def test_vote_status_partial_hides_another_voters_choice(app, client, voting):
    topic = make_topic(client, choices=("Tabs", "Spaces"), results_visibility="after_close")
    vote_id = api_vote(client, topic, 1, voter_id="alice")
    record_queued(voting)
    url = f"/t/{topic['id']}/votes/{vote_id}"
    stranger = client.get(url, headers=HX)
    assert stranger.status_code == 200 and "was counted" in stranger.text
    assert "Spaces" not in stranger.text
    admin = app.test_client()
    sign_in(admin)
    assert "<strong>Spaces</strong>" in admin.get(url, headers=HX).text


def test_vote_status_partial_shows_the_voters_own_choice(client, voting):
    topic = make_topic(client, choices=("Tabs", "Spaces"), results_visibility="after_close")
    page = client.get(f"/t/{topic['id']}")
    answer = client.post(
        f"/t/{topic['id']}/vote",
        data={"csrf_token": token_from(page.text), "choice_id": topic["choices"][1]["id"]},
        headers=HX,
    )
    assert answer.status_code in (200, 202), answer.text
    record_queued(voting)
    vote_id = voting.store.list_votes(topic["id"], 1, None)[0][0]["id"]
    mine = client.get(f"/t/{topic['id']}/votes/{vote_id}", headers=HX)
    assert "<strong>Spaces</strong>" in mine.text
