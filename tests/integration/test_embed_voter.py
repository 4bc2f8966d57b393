"""The event embed's voter is a credential: it never travels in a URL. The frame keeps a
timed token signed for its event (static/embed.js, in the frame's storage) and sends it
in the X-Embed-Voter header; a token in the query string, a token of another event, an
expired one and the voter cookie's own signature are not taken."""

from __future__ import annotations

import re
import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from tests.helpers.api import HX, make_event, make_topic, move
from tests.helpers.queued import record_queued

HEADER = "X-Embed-Voter"


@pytest.fixture
def live_event(client):
    """An event on its first question (one per voter), results shown."""
    topics = [make_topic(client, title="Tea or coffee?", choices=("Tea", "Coffee"),
                         vote_limit="one_per_voter")]  # fmt: skip
    event = make_event(client, topics, title="Rehearsal", results="shown")
    return move(client, event) | {"topics": topics}


def _token_of(html: str) -> str:
    return re.search(r'data-embed-voter="([^"]+)"', html)[1]


def _knows_the_ballot(client, event, headers) -> bool:
    stage = client.get(f"/{event['code']}/embed/stage", headers={**HX, **headers})
    return "You voted for" in stage.text


def test_no_voter_in_any_url_of_the_embed(app, voting, live_event):
    client = app.test_client(use_cookies=False)
    code, topic = live_event["code"], live_event["topics"][0]
    page = client.get(f"/{code}/embed").text
    token = _token_of(page)
    assert page.count(token) == 1 and "?voter=" not in page and "&amp;voter=" not in page
    vote_url = f"/{code}/embed/vote/{topic['id']}"
    choice = {"choice_id": topic["choices"][1]["id"]}
    cast = client.post(vote_url, data=choice, headers={**HX, HEADER: token})
    assert cast.status_code == 202
    assert "voter=" not in cast.headers["HX-Replace-Url"] and token not in cast.text
    assert "vote=" in cast.headers["HX-Replace-Url"]  # the vote id is no credential
    plain = client.post(vote_url, data=choice)  # without JavaScript: post/redirect/get
    assert plain.status_code in (303, 409) and "voter=" not in plain.headers.get("Location", "")
    record_queued(voting)
    # The header names the voter: its ballot is known, one per voter holds.
    assert _knows_the_ballot(client, live_event, {HEADER: token})
    again = client.post(vote_url, data={"choice_id": topic["choices"][0]["id"]},
                        headers={**HX, HEADER: token})  # fmt: skip
    assert again.status_code == 409


def test_the_token_is_refused_anywhere_but_its_header_and_its_event(app, client, voting,
                                                                     live_event):  # fmt: skip
    anonymous = app.test_client(use_cookies=False)
    code, topic = live_event["code"], live_event["topics"][0]
    token = _token_of(anonymous.get(f"/{code}/embed").text)
    cast = anonymous.post(f"/{code}/embed/vote/{topic['id']}",
                          data={"choice_id": topic["choices"][1]["id"]},
                          headers={**HX, HEADER: token})  # fmt: skip
    assert cast.status_code == 202
    record_queued(voting)
    assert _knows_the_ballot(anonymous, live_event, {HEADER: token})
    # In the query string (a copied frame URL): not this voter.
    stage = anonymous.get(f"/{code}/embed/stage?voter={token}", headers=HX)
    assert "You voted for" not in stage.text
    # As the voter cookie of the audience's page: not this voter either.
    browser = app.test_client()
    browser.set_cookie("voter", token)
    assert "You voted for" not in browser.get(f"/{code}").text
    # Signed for another event: not taken there.
    other = make_event(client, [make_topic(client, title="Other?", active=False)])
    move(client, other, 0)
    assert "You voted for" not in anonymous.get(f"/{other['code']}/embed/stage",
                                                headers={**HX, HEADER: token}).text  # fmt: skip


def test_an_expired_token_is_a_new_voter(app, voting, live_event):
    from webapp.audience import embed_voter

    client = app.test_client(use_cookies=False)
    code, topic = live_event["code"], live_event["topics"][0]
    token = _token_of(client.get(f"/{code}/embed").text)
    client.post(f"/{code}/embed/vote/{topic['id']}", data={"choice_id": topic["choices"][1]["id"]},
                headers={**HX, HEADER: token})  # fmt: skip
    record_queued(voting)
    assert _knows_the_ballot(client, live_event, {HEADER: token})
    with app.app_context():
        voter_id = embed_voter.voter_in(live_event["id"], token)

    class SignedLongAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - embed_voter.MAX_AGE_SECONDS - 60

    old = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=embed_voter.salt(live_event["id"]),
                                 signer=SignedLongAgo).dumps(voter_id)  # fmt: skip
    assert not _knows_the_ballot(client, live_event, {HEADER: old})
    # A fresh token comes back with every answer, so a frame in use never expires.
    answer = client.get(f"/{code}/embed/stage", headers={**HX, HEADER: token})
    with app.app_context():
        assert embed_voter.voter_in(live_event["id"], answer.headers[HEADER]) == voter_id
