"""A change made through one web process is never refused from the other's cached copy.

Two gunicorn servers of one process each stand for the web processes behind a
load balancer, with caches of a minute: a stale copy is certain, not a matter
of timing. A topic reopened, or an event moved on, through one of them: votes
through the other are accepted at once (202), since a refusal is only answered
once a copy read after the vote arrived agrees.
"""

from __future__ import annotations

import pytest
import requests

from tests.helpers.api import ADMIN, make_topic, token_from

CACHES = {"TOPIC_CACHE_SECONDS": "60", "RESULTS_CACHE_SECONDS": "60"}
VOTES = 5


def _put(base: str, topic: dict, **changes) -> None:
    body = {"title": topic["title"], "choices": topic["choices"], **changes}
    answer = requests.put(f"{base}/topics/{topic['id']}", json=body, headers=ADMIN, timeout=30)
    assert answer.status_code == 200, answer.text


def _api_vote(base: str, topic: dict) -> requests.Response:
    body = {"topic_id": topic["id"], "choice_id": topic["choices"][0]["id"]}
    return requests.post(f"{base}/votes", json=body, timeout=30)


@pytest.mark.env(**CACHES)
def test_votes_right_after_a_reopen_through_the_other_web_process_are_accepted(procs):
    here, there = procs.web(workers=1), procs.web(workers=1)
    topic = make_topic(requests, base=here)
    _put(here, topic, is_active=False)
    # Both processes hold the closed copy, as after votes refused while it was closed.
    for base in (here, there):
        refused = _api_vote(base, topic)
        assert refused.status_code == 409 and "closed" in refused.json()["detail"]

    _put(here, topic, is_active=True)
    answers = [_api_vote(base, topic).status_code for base in [there] * VOTES + [here]]
    assert answers == [202] * (VOTES + 1)


@pytest.mark.env(**CACHES)
def test_votes_for_the_question_moved_to_through_the_other_web_process_are_accepted(procs):
    here, there = procs.web(workers=1), procs.web(workers=1)
    first, second = (make_topic(requests, f"Q{n}", active=False, base=here) for n in (1, 2))
    body = {"title": "Keynote", "questions": [first["id"], second["id"]]}
    event = requests.post(f"{here}/events", json=body, headers=ADMIN, timeout=30).json()
    position = f"{here}/events/{event['id']}/position"
    assert requests.post(position, json={"to": 0}, headers=ADMIN, timeout=30).status_code == 200
    phone = requests.Session()
    # The other process shows the first question, and holds the second one closed.
    page = phone.get(f"{there}/{event['code']}", timeout=30)
    assert page.status_code == 200 and "Q1" in page.text
    assert _api_vote(there, second).status_code == 409

    assert requests.post(position, json={"to": 1}, headers=ADMIN, timeout=30).status_code == 200
    form = {"choice_id": second["choices"][0]["id"], "csrf_token": token_from(page.text)}
    vote_url = f"{there}/{event['code']}/vote/{second['id']}"
    answers = [phone.post(vote_url, data=form, headers={"HX-Request": "true"}, timeout=30)
               for _ in range(VOTES)]  # fmt: skip
    assert [a.status_code for a in answers] == [202] * VOTES, [a.text[:200] for a in answers]
    assert not any("moved on" in a.text for a in answers)
