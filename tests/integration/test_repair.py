"""recount and dlq commands against a real moto server."""

from __future__ import annotations

import json
import re

import pytest

from core.rules.clock import new_id
from core.schemas.topics import TopicIn
from tests.helpers.api import sign_in
from tests.helpers.processes import run_flask
from tests.helpers.queued import queue_votes, queued_vote, record_queued


@pytest.fixture
def counted_topic(voting):
    topic = voting.topics.create(TopicIn(title="t", choices=[{"description": d} for d in "abc"]))
    queue_votes(voting, topic, [i % 2 for i in range(5)])
    assert record_queued(voting) == 5
    assert sum(voting.store.get_counts(topic["id"]).values()) == 5
    return topic


def test_recount_without_drift(runner, counted_topic):
    result = runner.invoke(args=["recount", counted_topic["id"]])
    assert result.exit_code == 0, result.output
    assert "5 counted votes, no drift" in result.output


def test_recount_finds_and_fixes_drift(runner, voting, counted_topic):
    topic_id, choice = counted_topic["id"], counted_topic["choices"][0]["id"]
    # Damage the tally behind the app's back (as a buggy writer would).
    voting.store.client.update_item(
        TableName=voting.store.names.tallies,
        Key={"topic_id": {"S": topic_id}, "slot": {"S": f"{choice}#3"}},
        UpdateExpression="ADD #c :n",
        ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues={":n": {"N": "4"}},
    )
    assert voting.store.get_counts(topic_id)[choice] == 7
    found = runner.invoke(args=["recount", topic_id])
    assert found.exit_code == 1
    assert "drift +4" in found.output and "--fix" in found.output
    assert voting.store.get_counts(topic_id)[choice] == 7  # read-only without --fix
    fixed = runner.invoke(args=["recount", "--all", "--fix"])
    assert fixed.exit_code == 0, fixed.output
    assert voting.store.get_counts(topic_id) == {choice: 3, counted_topic["choices"][1]["id"]: 2}
    assert "no drift" in runner.invoke(args=["recount", topic_id]).output


def test_recount_usage_and_unknown_topic(runner, aws_env):
    assert runner.invoke(args=["recount"]).exit_code == 2
    missing = runner.invoke(args=["recount", "00000000-0000-4000-8000-000000000000"])
    assert missing.exit_code == 1 and "not found" in missing.output


def test_dlq_show_and_redrive(runner, voting, counted_topic):
    dlq_url = voting.queue._lookup(voting.queue.dlq_name)
    good = queued_vote(counted_topic, 2)
    bodies = [
        "{broken",
        json.dumps({"id": "x"}),
        json.dumps({**good, "id": new_id(), "topic_id": "no-such-topic"}),
        json.dumps(good),
    ]
    for body in bodies:
        voting.queue.client.send_message(QueueUrl=dlq_url, MessageBody=body)
    shown = runner.invoke(args=["dlq", "show", "--limit", "10"])
    assert shown.exit_code == 0, shown.output
    assert "~4 waiting" in shown.output
    for why in ("not JSON", "not a vote message", "unknown topic", "looks valid now"):
        assert why in shown.output
    moved = runner.invoke(args=["dlq", "redrive"])
    assert moved.exit_code == 0 and "moved 4 messages" in moved.output
    assert voting.queue.message_counts(dead_letters=True)["waiting"] == 0
    # The valid one is now recorded by a worker like any other vote.
    record_queued(voting)
    assert voting.store.get_vote(good["id"])
    assert voting.store.get_counts(counted_topic["id"])[good["choice_id"]] == 1


def test_commands_fail_clearly_when_aws_is_unreachable(aws_env):
    env = {
        **aws_env,
        "DYNAMODB_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_SQS_ENDPOINT_URL": "http://127.0.0.1:9",
        "AWS_MAX_ATTEMPTS": "1",
    }
    for args in (["recount", "--all"], ["dlq", "show"], ["dlq", "redrive"]):
        done = run_flask(args, env, timeout=120)
        assert done.returncode == 1, (args, done.stderr)
        assert "Error:" in done.stderr and "Traceback" not in done.stderr


def test_admin_page_shows_queue_and_dlq_depth(client, voting, counted_topic):
    sign_in(client)
    voting.queue.send(queued_vote(counted_topic, 0))
    dlq_url = voting.queue._lookup(voting.queue.dlq_name)
    for body in ("x", "y"):
        voting.queue.client.send_message(QueueUrl=dlq_url, MessageBody=body)
    page = client.get("/admin").get_data(as_text=True)
    assert "~1 waiting" in page and "Dead-letter queue: ~2" in page
    assert '<td class="num" data-label="Votes">5</td>' in page  # the topic's counted votes


def test_dlq_show_lists_as_many_as_asked_and_leaves_them_there(runner, voting):
    """`dlq show --limit 20` lists all 12 messages, not one page of 10."""
    dlq_url = voting.queue._lookup(voting.queue.dlq_name)
    for n in range(12):
        voting.queue.client.send_message(QueueUrl=dlq_url, MessageBody=f"dead letter {n}")
    shown = runner.invoke(args=["dlq", "show", "--limit", "20"])
    assert shown.exit_code == 0, shown.output
    assert sorted(set(re.findall(r"dead letter \d+", shown.output))) == sorted(
        f"dead letter {n}" for n in range(12)
    )
    few = runner.invoke(args=["dlq", "show", "--limit", "3"])
    assert len(re.findall(r"^- ", few.output, re.M)) == 3
    # Released at once: all twelve are visible again for the next reader.
    assert voting.queue.message_counts(dead_letters=True)["waiting"] == 12
