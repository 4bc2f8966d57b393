"""Hot topics: a choice's tally spread over shards counts exactly what one item would.

Real processes: the web app under gunicorn and two worker.py processes drain
one queue at once, so batches of different topics and shards commit
concurrently. The same votes go to a topic with one tally item per choice,
one using the server's TALLY_SHARDS and one with its own, larger override.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.helpers.api import make_topic, vote_counts
from tests.helpers.queued import tallies_of
from tests.helpers.waiting import wait_until

VOTES_PER_TOPIC = 240
# Uneven on purpose: a mix-up between choices would change the answer.
PATTERN = [0, 1, 1, 2, 2, 2]


def _topic(http, base, **extra) -> dict:
    return make_topic(http, "Hot", ("a", "b", "c"), base=base, **extra)


def _wait_for(check):
    wait_until(check, 120, 0.3, "the workers did not record every vote in time")


@pytest.mark.env(TALLY_SHARDS="4")
def test_sharded_and_unsharded_tallies_agree_under_concurrent_workers(procs, http, admin, voting):
    base = procs.web(workers=2)
    procs.worker()
    procs.worker()
    single = _topic(http, base, tally_shards=1)
    default = _topic(http, base)  # the workers' TALLY_SHARDS=4
    wide = _topic(http, base, tally_shards=16)
    topics = [single, default, wide]
    assert single["tally_shards"] == 1 and wide["tally_shards"] == 16
    assert "tally_shards" not in default  # the original shape when not overridden

    # Interleaved, so batches mix topics and every topic sees the same votes.
    plan = [
        (topic, topic["choices"][PATTERN[i % len(PATTERN)]]["id"])
        for i in range(VOTES_PER_TOPIC)
        for topic in topics
    ]

    def cast(item):
        topic, choice_id = item
        return http.post(f"{base}/votes", json={"topic_id": topic["id"], "choice_id": choice_id})

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = [answer.status_code for answer in pool.map(cast, plan)]
    assert statuses == [202] * len(plan)

    _wait_for(lambda: all(sum(tallies_of(voting, t)) == VOTES_PER_TOPIC for t in topics))
    expected = [
        sum(1 for i in range(VOTES_PER_TOPIC) if PATTERN[i % len(PATTERN)] == k) for k in range(3)
    ]
    assert [tallies_of(voting, t) for t in topics] == [expected] * 3

    # The answer is the same through the API, which sums the shards in one Query.
    for topic in topics:
        assert vote_counts(http, topic["id"], base=base) == expected

    # And the shards were really used: one item per choice on the unsharded
    # topic; several (never more than allowed) on the others. 240 votes make
    # at least 24 batches per topic, so all of a choice's batches landing on
    # one of 4 shards has a chance below 4**-23.
    for topic, allowed in ((single, 1), (default, 4), (wide, 16)):
        slots = voting.store.get_slot_counts(topic["id"])
        shards = {int(key.rsplit("#", 1)[1]) for key in slots}
        assert shards <= set(range(allowed)), (topic["id"], sorted(shards))
        if allowed == 1:
            assert len(slots) == 3
        else:
            assert len(shards) > 1, (topic["id"], slots)
    # The override is the topic's own: the wide topic goes past TALLY_SHARDS.
    assert max(int(key.rsplit("#", 1)[1]) for key in voting.store.get_slot_counts(wide["id"])) >= 4


def test_tally_shards_keeps_its_value_on_put_and_rejects_out_of_range(client, admin):
    body = {"title": "t", "choices": [{"description": "a"}, {"description": "b"}]}
    created = client.post("/topics", json={**body, "tally_shards": 8}, headers=admin).json
    assert created["tally_shards"] == 8
    choices = [{"id": c["id"], "description": c["description"]} for c in created["choices"]]
    # An original client's PUT without the field keeps the override.
    assert (
        client.put(
            f"/topics/{created['id']}", json={**body, "choices": choices}, headers=admin
        ).status_code
        == 200
    )
    assert client.get(f"/topics/{created['id']}").json["tally_shards"] == 8
    for bad in (0, 101, "many"):
        answer = client.post("/topics", json={**body, "tally_shards": bad}, headers=admin)
        assert answer.status_code == 422, (bad, answer.status_code)


@pytest.mark.env(TALLY_SHARDS="8")
def test_deleting_a_sharded_vote_takes_it_off_its_own_shard(procs, http, admin, voting):
    base = procs.web()
    procs.worker()
    topic = _topic(http, base)
    choice = topic["choices"][0]["id"]
    ids = [
        http.post(f"{base}/votes", json={"topic_id": topic["id"], "choice_id": choice}).json()["id"]
        for _ in range(30)
    ]
    _wait_for(lambda: sum(tallies_of(voting, topic)) == 30)
    before = voting.store.get_slot_counts(topic["id"])
    record = voting.store.get_vote(ids[0])
    answer = http.delete(f"{base}/votes/{ids[0]}", headers=admin)
    assert answer.status_code == 200
    after = voting.store.get_slot_counts(topic["id"])
    own = f"{choice}#{record['shard']}"
    assert after[own] == before[own] - 1
    assert {k: v for k, v in after.items() if k != own} == {
        k: v for k, v in before.items() if k != own
    }
