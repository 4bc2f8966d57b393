"""Results an event's presenter hides are hidden on every read, from everyone but the
people who manage the event (one rule: Voting.results_visible)."""

from __future__ import annotations

from tests.helpers.api import ADMIN, HX, api_vote, make_event, make_topic, move
from tests.helpers.queued import record_queued


def _reads(client, topic: dict, event: dict, headers=None) -> dict:
    """Every way to read the topic's results or votes, as (status, body text)."""
    topic_id, code = topic["id"], event["code"]
    paths = {
        "topic": f"/topics/{topic_id}?include_votes=true",
        "listing": "/topics?include_votes=true",
        "votes": f"/votes?topic_id={topic_id}",
        "results page": f"/t/{topic_id}/results",
        "results fragment": f"/t/{topic_id}/results?view=present",
        "topic page": f"/t/{topic_id}",
        "present": f"/t/{topic_id}/present",
        "topic embed": f"/t/{topic_id}/embed",
        "event state": f"/events/code/{code}",
        "event embed": f"/{code}/embed",
    }
    answers = {}
    for name, path in paths.items():
        extra = HX if name == "results fragment" else {}
        answer = client.get(path, headers={**extra, **(headers or {})})
        answers[name] = (answer.status_code, answer.get_data(as_text=True))
    return answers


def _counts_shown(name: str, status: int, text: str) -> bool:
    """Does this answer give the 4 votes away?"""
    if name in ("topic", "listing", "event state"):
        return '"vote_count":4' in text.replace(" ", "")
    if name == "votes":
        return status == 200
    return "4 votes" in text


def test_results_hidden_by_the_presenter_are_hidden_on_every_read(app, client, voting):
    topic = make_topic(client, title="Secret ballot", active=False)
    event = make_event(client, [topic])
    assert event["questions"][0]["results"] == "hidden"
    move(client, event, 0)  # opens the question
    for _ in range(4):
        api_vote(client, topic, 0)
    record_queued(voting)

    anonymous = _reads(client, topic, event)
    leaks = [name for name, (status, text) in anonymous.items()
             if _counts_shown(name, status, text)]  # fmt: skip
    assert leaks == []
    assert anonymous["votes"][0] == 403
    assert '"results_hidden":true' in anonymous["topic"][1].replace(" ", "")

    # The event's managers see them (the API key here).
    assert '"vote_count":4' in client.get(
        f"/topics/{topic['id']}?include_votes=true", headers=ADMIN
    ).get_data(as_text=True).replace(" ", "")
    assert client.get(f"/votes?topic_id={topic['id']}", headers=ADMIN).status_code == 200

    # Revealed, everyone sees them; hidden again, no one but the managers.
    shown = client.post(f"/events/{event['id']}/results", json={"shown": True}, headers=ADMIN)
    assert shown.status_code == 200
    revealed = _reads(client, topic, event)
    assert all(_counts_shown(n, *revealed[n]) for n in ("topic", "listing", "votes", "results page",
                                                         "event state"))  # fmt: skip
    client.post(f"/events/{event['id']}/results", json={"shown": False}, headers=ADMIN)
    again = _reads(client, topic, event)
    assert [n for n, (s, t) in again.items() if _counts_shown(n, s, t)] == []


def test_a_question_taken_out_of_its_event_is_no_longer_held(client, voting):
    topic = make_topic(client, title="Held", active=False)
    event = make_event(client, [topic, make_topic(client, title="Other", active=False)])
    move(client, event, 0)
    api_vote(client, topic, 1)
    record_queued(voting)
    assert client.get(f"/votes?topic_id={topic['id']}").status_code == 403
    removed = client.delete(f"/events/{event['id']}/questions/0", headers=ADMIN)
    assert removed.status_code == 200, removed.get_json()
    assert client.get(f"/votes?topic_id={topic['id']}").status_code == 200


def test_a_held_rankings_runoff_is_hidden_with_its_results(client, voting):
    topic = make_topic(client, "Capital?", ["Memphis", "Knoxville"], type="ranking", active=False)
    event = make_event(client, [topic])
    move(client, event, 0)
    ranking = [c["id"] for c in reversed(topic["choices"])]
    cast = client.post("/votes", json={"topic_id": topic["id"], "ranking": ranking})
    assert cast.status_code == 202
    record_queued(voting)
    closed = client.post(f"/events/{event['id']}/voting", json={"open": False}, headers=ADMIN)
    assert closed.status_code == 200, closed.get_json()
    runoff = client.post(f"/topics/{topic['id']}/runoff", headers=ADMIN)
    assert runoff.status_code == 200, runoff.get_json()
    for path in (f"/topics/{topic['id']}", f"/topics/{topic['id']}?include_votes=true"):
        shown = client.get(path).get_json()
        assert shown["runoff"] is None and "results" not in shown, path
    state = client.get(f"/events/code/{event['code']}").get_json()
    assert state["current"]["topic"]["runoff"] is None
    assert client.get(f"/topics/{topic['id']}", headers=ADMIN).get_json()["runoff"] is not None
