"""Join codes cannot be guessed at will: misses are limited per address (a clear 429)
and cached briefly; events expire (`expires_at`) and are then archived: not joinable,
still their organiser's."""

from __future__ import annotations

import pytest

from tests.helpers.api import ADMIN, make_event, make_topic
from webapp import services

MISSING = "ZZZZZ2"


def _event(client) -> dict:
    return make_event(client, [make_topic(client, title="Q", active=False)])


@pytest.mark.env(RATE_LIMIT_JOIN_CODE_MISSES="5 per hour", TRUSTED_PROXIES="")
def test_join_code_misses_are_limited_per_address_with_a_clear_429(app, client):
    event = _event(client)
    # Hits do not count: a room's phones poll their code all the time.
    assert {client.get(f"/events/code/{event['code']}").status_code for _ in range(20)} == {200}
    assert [client.get(f"/events/code/{MISSING}").status_code for _ in range(5)] == [404] * 5
    refused = client.get(f"/events/code/{MISSING}")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert "join code" in refused.get_json()["detail"]
    # Spent: every lookup from this address waits, hits too (a guess learns nothing).
    assert client.get(f"/events/code/{event['code']}").status_code == 429
    page = client.get("/j/ABCDEF")
    assert page.status_code == 429 and "<html" in page.text and "Retry-After" in page.headers
    # Another address has its own budget.
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.1.2.3"
    assert other.get(f"/events/code/{event['code']}").status_code == 200


@pytest.mark.env(RATE_LIMIT_JOIN_CODE_MISSES="4 per hour", TRUSTED_PROXIES="")
def test_the_qna_and_quiz_apis_count_code_misses_and_wait_once_spent(client):
    event = _event(client)
    misses = [
        client.get(f"/events/code/{MISSING}/qna"),
        client.post(f"/events/code/{MISSING}/qna", json={"text": "Anyone?"}),
        client.get(f"/events/code/{MISSING}/leaderboard"),
        client.post(f"/events/code/{MISSING}/players", json={"name": "Guess", "voter_id": "v1"}),
    ]
    assert [r.status_code for r in misses] == [404] * 4
    for spent in (
        client.get(f"/events/code/{event['code']}/qna"),
        client.get(f"/events/code/{event['code']}/leaderboard"),
        client.post(f"/events/code/{MISSING}/qna/q1/upvote", json={"voter_id": "v1"}),
    ):
        assert spent.status_code == 429 and "join code" in spent.get_json()["detail"]


def test_a_burst_of_misses_of_one_code_costs_one_read(app, client, monkeypatch):
    with app.app_context():
        store = services.events().store
    reads = []
    original = store.event_id_for
    monkeypatch.setattr(store, "event_id_for", lambda code: reads.append(code) or original(code))
    for _ in range(20):
        assert client.get(f"/events/code/{MISSING}").status_code == 404
    assert reads == [MISSING]
    # A code made in this process is found at once, missed a moment before or not.
    event = _event(client)
    assert client.get(f"/events/code/{event['code']}").status_code == 200


def test_an_expired_event_is_archived_not_joinable_and_still_its_organisers(client):
    event = _event(client)
    assert client.get(f"/events/{event['id']}", headers=ADMIN).get_json()["expires_at"] > event[
        "last_upd"]  # fmt: skip
    ended = client.put(f"/events/{event['id']}", json={"title": "Keynote",
                       "expires_at": "2020-01-01T00:00:00Z"}, headers=ADMIN)  # fmt: skip
    assert ended.status_code == 200, ended.get_json()
    assert ended.get_json()["expires_at"].startswith("2020-01-01")
    gone = client.get(f"/events/code/{event['code']}")
    assert gone.status_code == 410 and "ended" in gone.get_json()["detail"]
    assert client.get(f"/{event['code']}").status_code in (404, 410)  # phones: not joinable
    assert client.get(f"/{event['code']}/embed").status_code in (404, 410)
    # Its organiser still sees and edits it; the default expiry brings it back.
    assert client.get(f"/events/{event['id']}", headers=ADMIN).status_code == 200
    back = client.put(f"/events/{event['id']}", json={"title": "Keynote", "expires_at": None},
                      headers=ADMIN)  # fmt: skip
    assert back.status_code == 200
    assert client.get(f"/events/code/{event['code']}").status_code == 200


@pytest.mark.env(EVENT_IDLE_DAYS="0")
def test_an_event_expires_its_idle_days_after_its_last_use(client):
    event = _event(client)
    assert client.get(f"/events/code/{event['code']}").status_code == 410
