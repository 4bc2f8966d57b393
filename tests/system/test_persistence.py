"""The embedded mode keeps its data: `embedded.py` (what `make run` runs) as a real process.

A clean stop and start gives the same API answers; a kill -9 of every
process comes back with the last periodic save; a damaged snapshot stops the
start with a clear message and is left as it was. The snapshot module itself
(tables, waiting messages, the consistency check) is tested on the moto server.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from core.aws.queue import VoteQueue
from core.aws.tables import TABLES, Tables
from core.schemas.topics import TopicIn
from core.schemas.votes import VoteIn
from core.services.backups import item_line
from local import launcher as embedded
from local import snapshot
from tests.helpers.accounts import make_user
from tests.helpers.api import api_answers, api_vote, make_topic, populate, recorded, vote_counts
from tests.helpers.queued import add_to_tally, record_queued
from tests.helpers.stacks import new_stack
from tests.helpers.waiting import wait_until


def saved_topic_ids(path: Path, scratch: Path) -> set[str]:
    """Topic ids in the snapshot; read from a copy, as the watcher may replace it meanwhile."""
    copy = scratch / "snapshot-copy.jsonl"
    shutil.copyfile(path, copy)
    return {
        item["id"]["S"]
        for kind, name, item in snapshot.records(copy)
        if kind == "table" and name == "topics"
    }


def test_clean_stop_and_start_give_the_same_answers(start, tmp_path, http):
    data = tmp_path / "data"
    first = start(data).ready()
    (lunch, _), _ = populate(http, first.base)
    before = api_answers(http, first.base)

    # A second run on the same data directory would overwrite this one's saves.
    second = start(data)
    assert second.process.wait(timeout=60) == 1
    assert "is in use by another `make run`" in second.output()

    assert first.ctrl_c() == 0, first.output()
    assert "saving data to" in first.output()
    again = start(data).ready()
    assert api_answers(http, again.base) == before
    # And it goes on working: a new vote is counted on top of the restored ones.
    late = api_vote(http, lunch, 1, base=again.base)
    wait_until(lambda: recorded(http, again.base, [late]))
    assert vote_counts(http, lunch["id"], base=again.base) == [2, 2]
    assert again.ctrl_c() == 0


def test_kill_9_comes_back_with_the_last_periodic_save(start, tmp_path, http):
    data = tmp_path / "data"
    first = start(data, SNAPSHOT_SECONDS="1").ready()
    kept = make_topic(http, "Saved before the crash", base=first.base)
    path = data / embedded.SNAPSHOT_FILE
    wait_until(lambda: path.exists() and kept["id"] in saved_topic_ids(path, tmp_path))
    make_topic(http, "Maybe saved, maybe lost", base=first.base)
    first.power_cut()

    expected = saved_topic_ids(path, tmp_path)  # whatever the last completed save holds
    again = start(data, SNAPSHOT_SECONDS="1").ready()
    topics = http.get(f"{again.base}/topics").json()
    assert {t["id"] for t in topics} == expected
    assert kept["id"] in expected
    vote = api_vote(http, kept, 0, base=again.base)
    wait_until(lambda: recorded(http, again.base, [vote]))
    assert again.ctrl_c() == 0


def _good_snapshot(voting, path: Path) -> None:
    voting.store.put_new_topic(
        {"id": "kept", "created": "2026-01-01T00:00:00", "last_upd": "2026-01-01T00:00:00",
         "is_active": True, "title": "Kept", "choices": [{"id": "a", "description": "A"},
                                                          {"id": "b", "description": "B"}]}
    )  # fmt: skip
    snapshot.save(voting.tables, path)


@pytest.mark.parametrize("damage", ["last line cut", "half a line", "not ours", "a directory"])
def test_a_damaged_snapshot_stops_the_start_and_is_left_alone(start, tmp_path, voting, damage):
    data = tmp_path / "data"
    path = data / embedded.SNAPSHOT_FILE
    data.mkdir()
    if damage == "a directory":
        path.mkdir()
    else:
        _good_snapshot(voting, path)
        content = path.read_bytes()
        damaged = {
            "last line cut": b"".join(content.splitlines(keepends=True)[:-1]),
            "half a line": content[: len(content) // 2],
            "not ours": b'{"hello": "world"}\n',
        }[damage]
        path.write_bytes(damaged)
    before = _fingerprint(path)

    run = start(data)
    assert run.process.wait(timeout=90) != 0
    output = run.output()
    assert "snapshot refused" in output and str(path) in output
    assert "left as it is" in output
    assert _fingerprint(path) == before


def _fingerprint(path: Path):
    if path.is_dir():
        return ("dir", sorted(p.name for p in path.iterdir()))
    return (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns)


# -- the snapshot module on the moto server ---------------------------------------------


def connect(env, client_of) -> tuple[Tables, dict[str, VoteQueue]]:
    store = Tables(client_of.store.client, env["TABLE_PREFIX"])
    sqs = client_of.queue.client
    queues = {
        "main": VoteQueue(sqs, f"{env['TABLE_PREFIX']}votes", f"{env['TABLE_PREFIX']}votes-dlq"),
        "dlq": VoteQueue(sqs, f"{env['TABLE_PREFIX']}votes-dlq"),
    }
    return store, queues


def table_lines(store) -> dict[str, set[str]]:
    return {base: {item_line(i) for i in store.scan_items(base)} for base in TABLES}


def drain(queue) -> list[str]:
    bodies = []
    while batch := queue.receive(0):
        bodies += [m.body for m in batch]
        queue.delete(batch)
    return sorted(bodies)


def test_save_and_restore_carry_tables_and_waiting_messages(
    client, voting, aws_env, moto_endpoint, tmp_path
):
    topic = make_topic(client, "Q", "AB")
    for index in (0, 1):  # queued; nothing consumes them: they wait in the queue
        api_vote(client, topic, index)
    make_user(client, "ada@example.org")
    store, queues = connect(aws_env, voting)
    queues["dlq"].send_raw("not json: a poison message kept for inspection")
    before = table_lines(store)
    path = tmp_path / "snap.jsonl"

    saved = snapshot.save(store, path, queues)
    assert saved.items["topics"] == 1
    assert saved.items["users"] == 2  # the account and its email's own item
    assert saved.messages == {"main": 2, "dlq": 1}

    fresh = new_stack(moto_endpoint)
    new_store, new_queues = connect(fresh, voting)
    counts = snapshot.restore(new_store, new_queues, path)
    assert counts["table:topics"] == 1 and counts["queue:main"] == 2
    assert table_lines(new_store) == before
    bodies = drain(new_queues["main"])
    assert [json.loads(b)["topic_id"] for b in bodies] == [topic["id"]] * 2
    assert drain(new_queues["dlq"]) == ["not json: a poison message kept for inspection"]
    with pytest.raises(snapshot.SnapshotError, match="tables that hold items"):
        snapshot.restore(new_store, new_queues, path)


def test_unchanged_data_leaves_the_file_alone(voting, tmp_path):
    path = tmp_path / "snap.jsonl"
    first = snapshot.save(voting.tables, path)
    stamp = path.stat().st_mtime_ns
    second = snapshot.save(voting.tables, path, previous_sha256=first.content_sha256)
    assert second.unchanged and path.stat().st_mtime_ns == stamp
    assert not list(tmp_path.glob(".*.tmp"))


def test_a_save_whose_tallies_disagree_with_the_vote_records_is_flagged(voting, tmp_path):
    # A tally increment without its vote record: what a save sees when a vote
    # is recorded between reading the votes and reading the tallies.
    topic = voting.topics.create(TopicIn(title="t", choices=[{"description": d} for d in "cd"]))
    choice = topic["choices"][0]["id"]
    add_to_tally(voting, topic["id"], f"{choice}#0", 1)
    path = tmp_path / "snap.jsonl"
    saved = snapshot.save(voting.tables, path, attempts=2)
    assert not saved.consistent
    assert snapshot.check(path)["table:tallies"] == 1  # kept anyway: better than no save
    voting.tables.put_items(
        "votes",
        [{"id": {"S": "v"}, "topic_id": {"S": topic["id"]}, "choice_id": {"S": choice},
          "created": {"S": "2026-01-01T00:00:00"}, "status": {"S": "counted"}}],
    )  # fmt: skip
    assert snapshot.save(voting.tables, path).consistent


def test_a_save_of_question_types_is_consistent(voting, tmp_path):
    # A ranking vote adds several counters (first preference, points, voters): the
    # tallies add up to the record's stored counts, not to one per record.
    topic = voting.topics.create(TopicIn(
        title="rank", type="ranking", choices=[{"description": d} for d in "abc"]))  # fmt: skip
    order = [c["id"] for c in topic["choices"]]
    voting.cast(VoteIn(topic_id=topic["id"], ranking=order))
    record_queued(voting)
    assert sum(voting.topics.counts(topic["id"], fresh=True).values()) == 1 + 6 + 1
    assert snapshot.save(voting.tables, tmp_path / "snap.jsonl").consistent


def test_a_reset_topics_tallies_are_checked_against_its_own_records(voting, tmp_path):
    # After a reset a topic's tallies live under "<topic_id>#1" and its new records say
    # generation 1: a clean reset topic is consistent, and real drift of its tallies is seen.
    choices = [{"description": "a"}, {"description": "b"}]
    topic = voting.topics.create(TopicIn(title="reset", choices=choices))
    voting.cast(VoteIn(topic_id=topic["id"], choice_id=topic["choices"][0]["id"]))
    record_queued(voting)
    voting.topics.reset(topic["id"])
    for index in (0, 1, 1):
        voting.cast(VoteIn(topic_id=topic["id"], choice_id=topic["choices"][index]["id"]))
    record_queued(voting)
    path = tmp_path / "snap.jsonl"
    assert snapshot.save(voting.tables, path).consistent
    add_to_tally(voting, f"{topic['id']}#1", f"{topic['choices'][0]['id']}#0", 1)
    assert not snapshot.save(voting.tables, path).consistent
