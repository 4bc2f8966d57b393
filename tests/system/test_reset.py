"""Resetting results with votes in flight, with the web app and worker.py as processes.

The guarantee (docs/reliability.md): after POST /topics/{id}/reset, the tallies
equal exactly the votes cast after it. Votes counted before are deleted; votes
queued before it but recorded after are `rejected` (`reset`), never counted,
however long they waited in the queue.
"""

from __future__ import annotations

import random
from collections import Counter

import pytest

from core.services.repair import recount
from tests.helpers.api import ADMIN, make_topic, vote_counts
from tests.helpers.queued import queue_report, wait_drained
from tests.helpers.waiting import wait_until


def cast(http, base, topic, count, rng, prefix):
    """`count` votes from distinct voters on random choices: {vote id: choice index}."""
    cast = {}
    for n in range(count):
        index = rng.randrange(len(topic["choices"]))
        body = {"topic_id": topic["id"], "choice_id": topic["choices"][index]["id"],
                "voter_id": f"{prefix}-{n % 6}"}  # fmt: skip
        answer = http.post(f"{base}/votes", json=body)
        assert answer.status_code == 202, answer.text
        cast[answer.json()["id"]] = index
    return cast


# A short visibility timeout: a batch left for redelivery (a store error under a
# loaded CI machine) comes back in seconds, not half a minute.
@pytest.mark.env(VISIBILITY_TIMEOUT="10")
def test_reset_with_votes_in_flight_counts_only_the_votes_cast_after_it(procs, http, voting):
    rng = random.Random(12)
    base = procs.web(workers=2)
    topic = make_topic(http, "Rehearsal", ("A", "B", "C"), base=base, vote_limit="changeable")
    first = procs.worker()
    counted_before = cast(http, base, topic, 10, rng, "early")
    wait_until(lambda: all(http.get(f"{base}/votes/{v}").ok for v in counted_before))
    first.terminate()
    assert first.wait(30) == 0
    # Held back: queued before the reset, recorded only after it.
    in_flight = cast(http, base, topic, 20, rng, "early")

    answer = http.post(f"{base}/topics/{topic['id']}/reset", headers=ADMIN)
    assert answer.status_code == 200, answer.text
    assert answer.json()["votes"] == 10
    assert vote_counts(http, topic["id"], base=base, headers=ADMIN) == [0, 0, 0]
    # The same voters again (their old ballots hold nothing now), and new ones.
    after = cast(http, base, topic, 9, rng, "early") | cast(http, base, topic, 5, rng, "late")

    procs.worker()
    procs.worker()  # released: two workers take the old and new votes in any order
    wait_drained(voting, procs)
    missing = lambda: [v for v in [*in_flight, *after] if not http.get(f"{base}/votes/{v}").ok]  # noqa: E731
    try:
        wait_until(lambda: not missing())
    except AssertionError:  # once in a CI run: say which votes, and where the queue stands
        raise AssertionError(f"no record of {missing()}: {queue_report(voting, procs)}") from None

    for vote_id in in_flight:
        record = http.get(f"{base}/votes/{vote_id}", headers=ADMIN).json()
        assert (record["status"], record.get("reason")) == ("rejected", "reset"), record
    for vote_id in counted_before:
        assert http.get(f"{base}/votes/{vote_id}").status_code == 404  # deleted by the reset
    # changeable: each voter's latest vote since the reset counts, the rest are replaced.
    expected = Counter()
    for vote_id, index in after.items():
        status = http.get(f"{base}/votes/{vote_id}", headers=ADMIN).json()["status"]
        assert status in ("counted", "replaced")
        expected[index] += status == "counted"
    assert sum(expected.values()) == 6 + 5  # six "early" voters and five "late" ones
    assert vote_counts(http, topic["id"], base=base, headers=ADMIN) == [
        expected[i] for i in range(3)
    ]
    assert recount(voting.store, topic["id"]).drift == {}
