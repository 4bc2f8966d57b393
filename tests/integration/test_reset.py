"""Resetting a topic's results and deleting a topic, over a real moto server.

POST /topics/{id}/reset raises the topic's generation (one conditional write)
and deletes the older generations' records, ballots and tallies; votes queued
before it are recorded `rejected` (`reset`) by the worker's own batch code and
never counted. DELETE /topics/{id} deletes the topic first, so its queued
votes find no topic and are left for the DLQ, never recorded.
"""

from __future__ import annotations

import json

from core.aws.purge import Purged
from core.rules.topics import generation_of
from core.services import backups
from core.services.repair import recount
from core.services.worker import VoteWorker
from tests.helpers.api import ADMIN, all_votes, api_vote, make_topic, vote_counts
from tests.helpers.queued import record_queued, tallies_of
from tests.helpers.stacks import new_stack
from webapp import create_app, services


def reset(client, topic_id: str, headers=ADMIN):
    return client.post(f"/topics/{topic_id}/reset", headers=headers)


def test_reset_empties_results_records_and_ballots_and_keeps_the_topic_shape(client, voting):
    topic = make_topic(client, vote_limit="one_per_voter")
    before = client.get(f"/topics/{topic['id']}").get_json()
    for voter, index in (("ann", 0), ("bob", 1), ("cy", 1)):
        api_vote(client, topic, index, voter_id=voter)
    assert record_queued(voting) == 3
    assert vote_counts(client, topic["id"]) == [1, 2]

    answer = reset(client, topic["id"])
    assert answer.status_code == 200, answer.text
    assert answer.get_json() == {
        "id": topic["id"], "counted": 3, "votes": 3, "ballots": 3, "tallies": 2,
    }  # fmt: skip
    assert vote_counts(client, topic["id"]) == [0, 0]
    assert all_votes(admin_get(client), topic["id"]) == []
    # The generation is internal: the original API's topic shape does not change.
    after = client.get(f"/topics/{topic['id']}").get_json()
    assert set(after) == set(before) and "generation" not in after
    assert {k: v for k, v in after.items() if k != "last_upd"} == {
        k: v for k, v in before.items() if k != "last_upd"
    }
    # Ballots went too: a one-per-voter voter may vote again, once.
    api_vote(client, topic, 0, voter_id="ann")
    assert client.post("/votes", json={"topic_id": topic["id"], "voter_id": "ann",
                                       "choice_id": topic["choices"][1]["id"]}).status_code == 202
    record_queued(voting)
    assert vote_counts(client, topic["id"]) == [1, 0]
    assert recount(voting.store, topic["id"]).drift == {}


def test_votes_queued_before_a_reset_are_rejected_as_reset_and_never_counted(client, voting):
    """Votes in flight: three queued before the reset (held: no worker ran), two after.
    The fresh tallies are exactly the two; the three are recorded rejected `reset`
    and stay visible to their voters, and running the purge again keeps them."""
    topic = make_topic(client, vote_limit="changeable")
    early = [api_vote(client, topic, i % 2, voter_id=f"v{i}") for i in range(3)]
    assert reset(client, topic["id"]).status_code == 200
    late = [api_vote(client, topic, 1, voter_id="v0"), api_vote(client, topic, 0, voter_id="v9")]
    assert record_queued(voting) == 5

    assert tallies_of(voting, topic) == [1, 1]
    assert vote_counts(client, topic["id"]) == [1, 1]
    for vote_id in early:
        record = client.get(f"/votes/{vote_id}", headers=ADMIN).get_json()
        assert (record["status"], record["reason"]) == ("rejected", "reset")
    assert {client.get(f"/votes/{v}").get_json()["status"] for v in late} == {"counted"}
    result = recount(voting.store, topic["id"])
    assert (result.proven, result.drift) == ({c["id"]: 1 for c in topic["choices"]}, {})

    again = voting.topics.purge(topic["id"])
    assert (again.votes, again.ballots, again.tallies) == (0, 0, 0)
    assert len(all_votes(admin_get(client), topic["id"])) == 5


def test_a_ballot_the_purge_has_not_reached_holds_nothing_and_survives_a_rerun(
    client, voting, monkeypatch
):
    """A purge cut short leaves an old ballot: the voter's new vote counts once, takes
    the ballot over, and the purge run again keeps that (new) ballot."""
    topic = make_topic(client, vote_limit="one_per_voter")
    api_vote(client, topic, 0, voter_id="ann")
    record_queued(voting)
    monkeypatch.setattr(voting.backend.purge, "older_generations", lambda *_: Purged())
    assert reset(client, topic["id"]).status_code == 200
    monkeypatch.undo()
    assert voting.store.get_ballot(topic["id"], "ann") is not None  # left over
    assert vote_counts(client, topic["id"]) == [0, 0]  # it holds nothing all the same
    assert voting.ballot(topic["id"], "ann") is None

    api_vote(client, topic, 1, voter_id="ann")
    record_queued(voting)
    assert tallies_of(voting, topic) == [0, 1]
    purged = voting.topics.purge(topic["id"])
    assert purged.votes == 1 and purged.tallies == 1  # the old record and its tally
    ballot = voting.store.get_ballot(topic["id"], "ann")
    assert ballot["generation"] == 1 and ballot["choice_id"] == topic["choices"][1]["id"]
    assert recount(voting.store, topic["id"]).drift == {}


def test_reset_twice_and_recount_counts_only_the_current_generation(client, voting):
    topic = make_topic(client)
    api_vote(client, topic, 0)
    record_queued(voting)
    assert reset(client, topic["id"]).status_code == 200
    api_vote(client, topic, 1)
    record_queued(voting)
    assert reset(client, topic["id"]).get_json()["counted"] == 1
    api_vote(client, topic, 1)
    api_vote(client, topic, 1)
    record_queued(voting)
    assert generation_of(voting.store.get_topic(topic["id"])) == 2
    assert vote_counts(client, topic["id"]) == [0, 2]
    result = recount(voting.store, topic["id"])
    assert (sum(result.proven.values()), result.drift) == (2, {})
    csv = client.get(f"/topics/{topic['id']}/export.csv", headers=ADMIN).get_data(as_text=True)
    assert csv.count("\r\nvote,") == 2 and ",2,100\r\n" in csv


def test_reset_and_delete_need_the_admin_key_and_an_existing_topic(client):
    topic = make_topic(client)
    assert reset(client, topic["id"], headers={}).status_code == 401
    assert client.delete(f"/topics/{topic['id']}").status_code == 401
    for missing in ("no-such-topic", "bad%20id"):
        for answer in (reset(client, missing), client.delete(f"/topics/{missing}", headers=ADMIN)):
            assert answer.status_code == 404 and "detail" in answer.get_json()


def test_deleting_a_topic_takes_its_votes_and_its_queued_votes_never_resurrect_it(
    client, voting
):
    topic = make_topic(client, vote_limit="one_per_voter")
    other = make_topic(client)
    api_vote(client, topic, 0, voter_id="ann")
    api_vote(client, other, 1)
    record_queued(voting)
    queued = api_vote(client, topic, 1, voter_id="bob")  # still in the queue

    answer = client.delete(f"/topics/{topic['id']}", headers=ADMIN)
    assert answer.status_code == 200, answer.text
    assert answer.get_json() == {
        "id": topic["id"], "counted": 1, "votes": 1, "ballots": 1, "tallies": 1,
    }  # fmt: skip
    assert client.get(f"/topics/{topic['id']}").status_code == 404
    assert client.delete(f"/topics/{topic['id']}", headers=ADMIN).status_code == 404
    assert voting.store.get_counts(topic["id"]) == {}
    assert voting.store.get_ballot(topic["id"], "ann") is None

    messages = voting.queue.receive(0)
    report = voting_worker(voting).process(messages)
    assert (report.failed, report.counted) == (1, 0)  # left for the DLQ, unknown topic
    assert voting.store.get_vote(queued) is None
    assert list(voting.store.topic_votes(topic["id"])) == []
    assert vote_counts(client, other["id"]) == [0, 1]  # the other topic is untouched


def test_refused_votes_of_a_deleted_topic_leave_no_record(client, voting):
    """A vote the plan refuses without reading the topic (an older generation beside a
    newer one in the batch) is still recorded only while its topic exists."""
    topic = make_topic(client)
    old = api_vote(client, topic, 0)
    assert reset(client, topic["id"]).status_code == 200
    new = api_vote(client, topic, 1)
    assert client.delete(f"/topics/{topic['id']}", headers=ADMIN).status_code == 200
    report = voting_worker(voting).process(voting.queue.receive(0))
    assert (report.failed, report.rejected, report.counted) == (2, 0, 0)
    assert voting.store.get_vote(old) is None and voting.store.get_vote(new) is None


def admin_get(client):
    """get(path, params) -> JSON as the admin, for helpers.all_votes."""
    return lambda path, params: client.get(path, query_string=params, headers=ADMIN).get_json()


def voting_worker(voting) -> VoteWorker:
    return VoteWorker.over(voting.backend, voting.settings)


def test_a_batch_of_only_pre_reset_votes_is_refused_by_the_transactions_generation_check(
    client, voting
):
    """No newer vote beside them to tell: the worker plans them counted, the topic
    ConditionCheck (generation) cancels the transaction, and the re-plan with the
    topic as stored refuses them as `reset`."""
    topic = make_topic(client)
    early = [api_vote(client, topic, 0), api_vote(client, topic, 1)]
    assert reset(client, topic["id"]).status_code == 200
    report = voting_worker(voting).process(voting.queue.receive(0))
    assert (report.rejected, report.counted) == (2, 0)
    assert {voting.store.get_vote(v)["reason"] for v in early} == {"reset"}
    assert voting.store.get_slot_counts(topic["id"], 0) == {}  # nothing counted, anywhere


def test_reset_and_delete_are_in_the_openapi_document_as_admin_calls(client):
    spec = client.get("/openapi.json").get_json()
    paths = spec["paths"]
    for path, method in [
        ("/topics/{topic_id}/reset", "post"), ("/topics/{topic_id}", "delete"),
        ("/events/{event_id}/questions/{index}/reset", "post"),
        ("/events/{event_id}/questions/{index}/duplicate", "post"),
    ]:  # fmt: skip
        assert "security" in paths[path][method], (path, method)
    answer = paths["/topics/{topic_id}/reset"]["post"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"]["$ref"].endswith("/TopicCleared")
    assert "generation" not in spec["components"]["schemas"]["TopicOut"]["properties"]


def test_a_reset_topic_exports_and_imports_with_its_current_results(
    client, voting, tmp_path, moto_endpoint
):
    """A per-topic export finds the tallies under the generation's key, and a fresh
    stack restored from it answers the same results, with recount agreeing."""
    topic = make_topic(client)
    api_vote(client, topic, 0)
    record_queued(voting)
    assert reset(client, topic["id"]).status_code == 200
    for index in (1, 1, 0):
        api_vote(client, topic, index)
    record_queued(voting)
    manifest = backups.write_export(voting.backend, tmp_path / "one", topic["id"])
    assert manifest["tables"]["tallies"]["itemCount"] == 2
    assert manifest["tables"]["votes"]["itemCount"] == 3

    fresh = new_stack(moto_endpoint)
    restored = create_app({"TESTING": True, "table_prefix": fresh["TABLE_PREFIX"]})
    with restored.app_context():
        backups.load_export(services.backend().tables, backups.ExportDir(tmp_path / "one"))
        again = services.topics()
        before = voting.topics.counts(topic["id"], fresh=True)
        assert again.counts(topic["id"], fresh=True) == before
        assert recount(again.store, topic["id"]).drift == {}
    assert vote_counts(restored.test_client(), topic["id"]) == [1, 2]


def test_removing_a_choice_after_a_reset_is_judged_by_the_current_rounds_votes(client, voting):
    """The edit guard (PUT without drop_votes answers 409) counts this round's votes only."""
    topic = make_topic(client, choices=["Python", "Rust", "Go", "C"])
    api_vote(client, topic, 1)
    assert record_queued(voting) == 1
    assert reset(client, topic["id"]).status_code == 200
    api_vote(client, topic, 2)
    assert record_queued(voting) == 1
    rows = [{"id": c["id"], "description": c["description"]} for c in topic["choices"]]
    body = {"title": topic["title"], "is_active": True}
    # Rust's only vote went with the reset: removing it drops nothing now.
    kept = [rows[0], rows[2], rows[3]]
    answer = client.put(f"/topics/{topic['id']}", headers=ADMIN, json={**body, "choices": kept})
    assert answer.status_code == 200, answer.text
    # Go holds this round's vote: removing it needs drop_votes.
    kept = [rows[0], rows[3]]
    answer = client.put(f"/topics/{topic['id']}", headers=ADMIN, json={**body, "choices": kept})
    assert answer.status_code == 409, answer.text
    assert "Go" in answer.get_json()["detail"]


def test_a_pre_reset_vote_whose_voter_already_holds_a_new_ballot_is_refused_as_reset(
    client, voting
):
    """Two workers after a reset: one records the voter's new vote (a ballot of the new
    generation) before the other sends a batch of only the voter's old vote. That
    transaction fails both the ballot guard and the topic's generation check; the
    topic's answer must win (the re-plan refuses the vote as `reset`), as re-reading
    the ballot alone plans the same write again until the batch is given up and,
    received MAX_RECEIVE_COUNT times, dead-lettered: a 202 never recorded."""
    topic = make_topic(client, vote_limit="changeable")
    early = api_vote(client, topic, 0, voter_id="ann")
    assert reset(client, topic["id"]).status_code == 200
    late = api_vote(client, topic, 1, voter_id="ann")
    messages = {json.loads(m.body)["id"]: m for m in voting.queue.receive(0)}
    assert set(messages) == {early, late}

    assert voting_worker(voting).process([messages[late]]).counted == 1
    report = voting_worker(voting).process([messages[early]])
    assert (report.rejected, report.failed, report.counted) == (1, 0, 0), report.line()
    record = voting.store.get_vote(early)
    assert (record["status"], record["reason"]) == ("rejected", "reset")
    assert voting.queue.message_counts() == {"waiting": 0, "in_flight": 0}  # both deleted
    assert vote_counts(client, topic["id"]) == [0, 1]
    assert recount(voting.store, topic["id"]).drift == {}
