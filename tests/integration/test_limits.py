"""Rate limits per voter and per client address; X-Forwarded-For only from trusted proxies."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.helpers.api import ADMIN_KEY, make_topic, sign_in, token_from
from tests.helpers.waiting import clear_of_a_minute_edge
from webapp import create_app


def vote(client, topic, voter_id=None, **headers):
    body = {"topic_id": topic["id"], "choice_id": topic["choices"][0]["id"]}
    if voter_id:
        body["voter_id"] = voter_id
    return client.post("/votes", json=body, headers=headers)


@pytest.mark.env(RATE_LIMIT_VOTES="3 per minute", TRUSTED_PROXIES="")
def test_votes_limited_with_429_and_retry_after(client, voting):
    topic = make_topic(client, "t", ("a", "b"))
    assert [vote(client, topic).status_code for _ in range(3)] == [202, 202, 202]
    refused = vote(client, topic)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert "detail" in refused.json
    # Three queued, the refused one not.
    assert len(voting.queue.receive(wait_seconds=1)) == 3
    # Untrusted peer: a forged X-Forwarded-For does not buy a fresh budget.
    assert vote(client, topic, **{"X-Forwarded-For": "203.0.113.9"}).status_code == 429


@pytest.mark.env(RATE_LIMIT_VOTES="2 per minute", TRUSTED_PROXIES="127.0.0.1")
def test_forwarded_for_counts_per_client_behind_a_trusted_proxy(client):
    topic = make_topic(client, "t", ("a", "b"))
    first = {"X-Forwarded-For": "198.51.100.1"}
    second = {"X-Forwarded-For": "198.51.100.2, 127.0.0.1"}
    assert [vote(client, topic, **first).status_code for _ in range(3)] == [202, 202, 429]
    assert [vote(client, topic, **second).status_code for _ in range(3)] == [202, 202, 429]


@pytest.mark.env(RATE_LIMIT_LOGIN="3 per minute")
def test_admin_login_is_rate_limited(client):
    assert [sign_in(client, "wrong").status_code for _ in range(3)] == [401, 401, 401]
    # Limited now: even the right key is not tried until the window passes.
    limited = sign_in(client, ADMIN_KEY)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert "session" not in limited.headers.get("Set-Cookie", "")


# -- a room behind one address: per voter, with a ceiling per address --------------


def hall_app(monkeypatch, **limits):
    """The app with the default vote limits (the test stack turns them off), or `limits`;
    made clear of a minute's end (the limits count in windows of a minute)."""
    clear_of_a_minute_edge()
    for name in ("RATE_LIMIT_VOTES", "RATE_LIMIT_VOTES_PER_VOTER", "RATE_LIMIT_VOTES_PER_ADDRESS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in limits.items():
        monkeypatch.setenv(name, value)
    return create_app({"TESTING": True})


# The production default for the intake's topic cache too (the test stack turns it off):
# a hall's votes do not each read the topic.
@pytest.mark.env(TOPIC_CACHE_SECONDS="2")
def test_two_thousand_voters_behind_one_address_all_vote_with_the_defaults(
    aws_env, monkeypatch, voting
):
    """A packed hall: 2,000 phones behind the venue's one address, each naming its voter."""
    client = hall_app(monkeypatch).test_client()
    topic = make_topic(client, "t", ("a", "b"))
    answers = Counter(
        vote(client, topic, voter_id=f"phone-{n}").status_code for n in range(2000)
    )
    assert answers == {202: 2000}


def test_one_voter_hammering_is_limited_and_others_are_not(aws_env, monkeypatch):
    client = hall_app(monkeypatch, RATE_LIMIT_VOTES_PER_VOTER="5 per minute").test_client()
    topic = make_topic(client, "t", ("a", "b"))
    hammering = [vote(client, topic, voter_id="same").status_code for _ in range(8)]
    assert hammering == [202] * 5 + [429] * 3
    # The same address, another voter: its own budget.
    assert vote(client, topic, voter_id="neighbour").status_code == 202


def test_a_browser_is_limited_by_its_voter_cookie(aws_env, monkeypatch):
    app = hall_app(monkeypatch, RATE_LIMIT_VOTES_PER_VOTER="3 per minute")
    topic = make_topic(app.test_client(), "t", ("a", "b"))
    choice = topic["choices"][0]["id"]
    path = f"/t/{topic['id']}/vote"
    browsers = []
    for _ in range(2):
        browser = app.test_client()
        page = browser.get(f"/t/{topic['id']}")  # gives the browser its voter cookie
        form = {"choice_id": choice, "csrf_token": token_from(page.text)}
        browsers.append(lambda browser=browser, form=form: browser.post(path, data=form))
    first, second = browsers
    answers = [first().status_code for _ in range(5)]
    assert answers.count(429) == 2 and 429 not in answers[:3], answers
    assert second().status_code not in (400, 429)


def test_anonymous_api_votes_keep_a_per_address_limit(aws_env, monkeypatch):
    client = hall_app(monkeypatch, RATE_LIMIT_VOTES="4 per minute").test_client()
    topic = make_topic(client, "t", ("a", "b"))
    assert [vote(client, topic).status_code for _ in range(6)] == [202] * 4 + [429] * 2
    # Voters who name themselves are not held back by the anonymous budget.
    assert vote(client, topic, voter_id="named").status_code == 202


def test_the_per_address_ceiling_holds_whatever_voter_ids_are_invented(aws_env, monkeypatch):
    client = hall_app(monkeypatch, RATE_LIMIT_VOTES_PER_ADDRESS="10 per minute").test_client()
    topic = make_topic(client, "t", ("a", "b"))
    answers = [vote(client, topic, voter_id=f"invented-{n}").status_code for n in range(12)]
    assert answers == [202] * 10 + [429] * 2


# -- a paused intake (webapp/pause.py): what make run does while its saves fail -----------------


def test_votes_pause_while_the_pause_file_has_words(aws_env, monkeypatch, tmp_path, voting):
    pause = tmp_path / "pause"
    monkeypatch.setenv("PAUSE_VOTES_FILE", str(pause))
    app = hall_app(monkeypatch)
    client = app.test_client()
    topic = make_topic(client, "t", ("a", "b"))
    assert vote(client, topic, voter_id="v1").status_code == 202
    assert client.get("/readyz").status_code == 200

    pause.write_text("saving the data failed: No space left on device")
    refused = vote(client, topic, voter_id="v2")
    assert refused.status_code == 503 and int(refused.headers["Retry-After"]) > 0
    assert "No space left on device" in refused.json["detail"]
    page = client.get(f"/t/{topic['id']}")
    form = {"choice_id": topic["choices"][0]["id"], "csrf_token": token_from(page.text)}
    assert client.post(f"/t/{topic['id']}/vote", data=form).status_code == 503
    ready = client.get("/readyz")
    assert ready.status_code == 503 and "No space left" in ready.json["detail"]["votes"]

    pause.write_text("")  # a save succeeded again
    assert vote(client, topic, voter_id="v3").status_code == 202
    assert client.get("/readyz").status_code == 200
    assert len(voting.queue.receive(wait_seconds=1)) == 2  # the refused vote was never queued


# -- every vote limit off: Flask-Limiter stays out of the vote's way ---------------


def test_with_vote_limits_off_a_vote_skips_the_limiter_and_the_pause_still_holds(
    aws_env, monkeypatch, tmp_path
):
    """Only sign-in limited: the limiter runs, yet a vote never asks it (it would only
    exempt each limit, at a vote's CPU), while the pause check still comes first."""
    from webapp.limits import limiter

    pause = tmp_path / "pause"
    monkeypatch.setenv("PAUSE_VOTES_FILE", str(pause))
    app = hall_app(monkeypatch, RATE_LIMIT_VOTES="", RATE_LIMIT_VOTES_PER_VOTER="",
                   RATE_LIMIT_VOTES_PER_ADDRESS="", RATE_LIMIT_LOGIN="3 per minute")  # fmt: skip
    client = app.test_client()
    topic = make_topic(client, "t", ("a", "b"))
    asked = []
    real_check = limiter._check_request_limit
    monkeypatch.setattr(
        limiter, "_check_request_limit", lambda *a, **k: asked.append(k) or real_check(*a, **k)
    )
    assert [vote(client, topic, voter_id="same").status_code for _ in range(70)] == [202] * 70
    assert asked == []
    pause.write_text("maintenance")
    assert vote(client, topic).status_code == 503
    # Sign-in is still limited by the same limiter.
    assert [sign_in(client, "wrong").status_code for _ in range(4)] == [401, 401, 401, 429]
    assert asked


def test_with_a_vote_limit_on_the_vote_goes_through_the_limiter(aws_env, monkeypatch):
    from webapp.limits import limiter

    client = hall_app(monkeypatch, RATE_LIMIT_VOTES_PER_VOTER="2 per minute").test_client()
    topic = make_topic(client, "t", ("a", "b"))
    asked = []
    real_check = limiter._check_request_limit
    monkeypatch.setattr(
        limiter, "_check_request_limit", lambda *a, **k: asked.append(k) or real_check(*a, **k)
    )
    answers = [vote(client, topic, voter_id="same").status_code for _ in range(3)]
    assert answers == [202, 202, 429] and len(asked) == 3


@pytest.mark.env(RATE_LIMIT_VOTES_PER_VOTER="3 per minute", TRUSTED_PROXIES="")
def test_one_voter_has_one_budget_across_every_vote_route(app, client):
    """The embed and POST /votes share the voter's count (one budget, not one per route)."""
    import re

    from webapp.audience import embed_voter

    topic = make_topic(client, "t", ("a", "b"), active=False)
    answer = client.post("/events", json={"title": "E", "questions": [topic["id"]]},
                         headers={"X-API-Key": ADMIN_KEY})  # fmt: skip
    event = answer.json
    client.post(f"/events/{event['id']}/position", json={"to": 0},
                headers={"X-API-Key": ADMIN_KEY})  # fmt: skip
    frame = app.test_client(use_cookies=False)
    token = re.search(r'data-embed-voter="([^"]+)"', frame.get(f"/{event['code']}/embed").text)[1]
    with app.app_context():
        voter_id = embed_voter.voter_in(event["id"], token)
    embed_vote = f"/{event['code']}/embed/vote/{topic['id']}"
    choice = {"choice_id": topic["choices"][0]["id"]}
    through_embed = [frame.post(embed_vote, data=choice, headers={"HX-Request": "true",
                                                                  "X-Embed-Voter": token})
                     for _ in range(2)]  # fmt: skip
    assert [a.status_code for a in through_embed] == [202, 202]
    assert vote(client, topic, voter_id).status_code == 202
    refused = vote(client, topic, voter_id)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    again = frame.post(embed_vote, data=choice, headers={"HX-Request": "true",
                                                         "X-Embed-Voter": token})  # fmt: skip
    assert again.status_code == 429
    assert vote(client, topic, "someone-else").status_code == 202
