"""Rate limits shared by two real web processes (gunicorn) over the counters table: one
voter hammering both gets one budget, not one per process."""

from __future__ import annotations

from collections import Counter

import pytest
import requests


@pytest.mark.env(RATE_LIMIT_VOTES_PER_VOTER="10 per day", TRUSTED_PROXIES="")
def test_one_voter_gets_one_budget_across_two_web_processes(procs, topic):
    bases = [procs.web(workers=1) for _ in range(2)]
    body = {"topic_id": topic["id"], "choice_id": topic["choices"][0]["id"], "voter_id": "alice"}
    answers = Counter()
    with requests.Session() as http:
        for n in range(40):  # alternating, as a load balancer would spread them
            answers[http.post(f"{bases[n % 2]}/votes", json=body, timeout=30).status_code] += 1
        # Another voter still votes: the limit is the voter's, not the address's.
        other = http.post(f"{bases[0]}/votes", json={**body, "voter_id": "bob"}, timeout=30)
    assert set(answers) == {202, 429}
    # Counted per process it would be 20. Shared: the limit, plus at most half of it
    # for hits the other process had counted and not added yet (shared_counts.py).
    assert 10 <= answers[202] <= 15, answers
    assert other.status_code == 202
