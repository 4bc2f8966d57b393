"""The event embed (/<CODE>/embed): the presenter's current question for an iframe on
another site, framable like the topic embeds, remembering its voter (a token sent in
the X-Embed-Voter header: tests/integration/test_embed_voter.py) and its vote (in its
URLs) instead of cookies (which a cross-site frame does not get)."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.helpers.api import ADMIN, HX, make_event, make_topic, move, sign_in, vote_counts
from tests.helpers.queued import record_queued


def _frame_ancestors(response) -> str:
    return re.search(r"frame-ancestors ([^;]+)", response.headers["Content-Security-Policy"])[1]


@pytest.fixture
def live_event(client):
    """An event whose room is on its first question (one per voter), results shown."""
    topics = [
        make_topic(client, title="Tea or coffee?", choices=("Tea", "Coffee"),
                   vote_limit="one_per_voter"),
        make_topic(client, title="Cake?", choices=("Yes", "No")),
    ]  # fmt: skip
    event = make_event(client, topics, title="Rehearsal", results="shown")
    return move(client, event) | {"topics": topics}


def _voter_of(html: str) -> str:
    return re.search(r'data-embed-voter="([^"]+)"', html)[1]


def _as(voter: str) -> dict:
    """An htmx request of the frame whose storage keeps `voter` (static/embed.js)."""
    return {**HX, "X-Embed-Voter": voter}


def test_the_event_embed_may_be_framed_and_follows_the_presenter(app, live_event):
    client = app.test_client(use_cookies=False)
    embed = client.get(f"/{live_event['code']}/embed")
    assert embed.status_code == 200
    assert _frame_ancestors(embed) == "*" and "X-Frame-Options" not in embed.headers
    page = embed.text
    assert "Tea or coffee?" in page and 'class="site-header"' not in page
    voter = _voter_of(page)
    # The stage polls its own URL; the ballot posts to the embed (the voter in a header).
    assert f'hx-get="/{live_event["code"]}/embed/stage"' in page
    vote_url = f"/{live_event['code']}/embed/vote/{live_event['topics'][0]['id']}"
    assert f'hx-post="{vote_url}"' in page
    # The audience's own page is still not framable.
    assert _frame_ancestors(client.get(f"/{live_event['code']}")) == "'none'"
    stage = client.get(f"/{live_event['code']}/embed/stage", headers=_as(voter))
    assert stage.status_code == 200 and "Tea or coffee?" in stage.text
    same = client.get(f"/{live_event['code']}/embed/stage",
                      headers={**_as(voter), "If-None-Match": stage.headers["ETag"]})  # fmt: skip
    assert same.status_code == 304
    client.post(f"/events/{live_event['id']}/position", json={"to": "next"}, headers=ADMIN)
    moved = client.get(f"/{live_event['code']}/embed/stage",
                       headers={**_as(voter), "If-None-Match": stage.headers["ETag"]})  # fmt: skip
    assert moved.status_code == 200 and "Cake?" in moved.text


def test_the_embed_remembers_its_voter_and_vote_without_cookies(app, voting, live_event):
    client = app.test_client(use_cookies=False)
    topic = live_event["topics"][0]
    voter = _voter_of(client.get(f"/{live_event['code']}/embed").text)
    vote_url = f"/{live_event['code']}/embed/vote/{topic['id']}"
    choice = {"choice_id": topic["choices"][1]["id"]}
    cast = client.post(vote_url, data=choice, headers=_as(voter))
    assert cast.status_code == 202 and "waiting to be counted" in cast.text
    # The whole stage comes back, its poll and the frame's URL carrying the vote.
    assert cast.headers["HX-Retarget"] == "#stage"
    kept = parse_qs(urlsplit(cast.headers["HX-Replace-Url"]).query)
    assert "voter" not in kept and kept["for"] == [topic["id"]] and kept["vote"]
    assert f"vote={kept['vote'][0]}" in cast.text
    record_queued(voting)
    assert vote_counts(client, topic["id"]) == [0, 1]
    # A reload with what the URL kept: the vote is known; with what storage kept, the ballot.
    again = client.get(cast.headers["HX-Replace-Url"]).text
    assert "was counted" in again
    fresh = client.get(f"/{live_event['code']}/embed/stage", headers=_as(voter)).text
    assert "You voted for" in fresh and "Coffee" in fresh
    # One per voter: the same embed voter is refused a second vote...
    twice = client.post(vote_url, data={**choice, "choice_id": topic["choices"][0]["id"]},
                        headers=_as(voter))  # fmt: skip
    assert twice.status_code == 409
    # ...while an embed without that voter id is another voter.
    anonymous = f"/{live_event['code']}/embed/vote/{topic['id']}"
    other = client.post(anonymous, data={"choice_id": topic["choices"][0]["id"]}, headers=HX)
    assert other.status_code == 202
    record_queued(voting)
    assert vote_counts(client, topic["id"]) == [1, 1]


def test_the_embed_votes_without_javascript_and_refuses_a_forged_voter(app, voting, live_event):
    client = app.test_client(use_cookies=False)
    topic = live_event["topics"][0]
    vote_url = f"/{live_event['code']}/embed/vote/{topic['id']}"
    # A voter id not signed by this app is not taken: the embed makes a new one.
    forged = client.get(f"/{live_event['code']}/embed", headers={"X-Embed-Voter": "b-0123"})
    assert "b-0123" not in _voter_of(forged.text)
    answer = client.post(vote_url, data={"choice_id": topic["choices"][0]["id"]})
    assert answer.status_code == 303
    back = client.get(answer.headers["Location"])
    assert back.status_code == 200 and _frame_ancestors(back) == "*"
    assert "waiting to be counted" in back.text
    # A question the presenter left: refused on the embed, framable, nothing queued.
    client.post(f"/events/{live_event['id']}/position", json={"to": "next"}, headers=ADMIN)
    late = client.post(vote_url, data={"choice_id": topic["choices"][0]["id"]})
    assert late.status_code == 409 and _frame_ancestors(late) == "*"
    assert record_queued(voting) == 1
    assert client.get("/ZZZZZZ/embed").status_code == 404


def test_the_event_page_offers_the_embeds_copy_paste_snippet(client, live_event):
    sign_in(client)
    page = client.get(f"/admin/events/{live_event['id']}").text
    snippet = re.search(r'<textarea id="embed-code" rows="3" readonly>(.*?)</textarea>', page)[1]
    assert snippet.startswith(f'&lt;iframe src="http://localhost/{live_event["code"]}/embed" ')
    assert 'title="Rehearsal"' in snippet


@pytest.mark.env(RATE_LIMIT_VOTES="2 per minute", TRUSTED_PROXIES="")
def test_an_embed_without_a_signed_voter_falls_under_the_anonymous_limit(app, live_event):
    """A made-up or missing voter id must not buy a fresh per-voter budget each time."""
    client = app.test_client(use_cookies=False)
    topic = live_event["topics"][1]
    client.post(f"/events/{live_event['id']}/position", json={"to": "next"}, headers=ADMIN)
    vote_url = f"/{live_event['code']}/embed/vote/{topic['id']}"
    choice = {"choice_id": topic["choices"][0]["id"]}
    answers = [client.post(vote_url, data=choice, headers=HX).status_code for _ in range(3)]
    assert answers == [202, 202, 429]
    forged = client.post(vote_url, data=choice, headers=_as("b-0123"))
    assert forged.status_code == 429
    # A voter the embed signed has its own (per-voter) budget.
    voter = _voter_of(client.get(f"/{live_event['code']}/embed").text)
    assert client.post(vote_url, data=choice, headers=_as(voter)).status_code == 202
