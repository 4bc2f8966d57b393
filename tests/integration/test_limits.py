"""Rate limits per client address, and X-Forwarded-For only from trusted proxies."""

from __future__ import annotations

import pytest

from tests.helpers import ADMIN_KEY, make_topic, sign_in


def vote(client, topic, **headers):
    body = {"topic_id": topic["id"], "choice_id": topic["choices"][0]["id"]}
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
