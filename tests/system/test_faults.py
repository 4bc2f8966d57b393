"""The fault-injection suite: every promise of docs/reliability.md, forced.

moto never duplicates, throttles, conflicts or drops anything by itself, so
each fault is injected (tests/faulty_worker.py hooks botocore inside a real
worker process) and each test checks that the fault really fired.
"""

from __future__ import annotations

import json
import random
import signal
import threading
from collections import Counter

import pytest
import requests

from tests.helpers.api import ADMIN, ADMIN_KEY, make_topic, sign_in
from tests.helpers.queued import queue_drained, queue_votes, queued_vote, tallies_of
from tests.helpers.waiting import wait_until


def fired(procs, fault: str) -> int:
    return procs.logs().count(f"injected fault {fault}")


def test_1_one_message_delivered_five_times_counts_once(procs, voting, topic):
    body = queued_vote(topic, 1)
    for _ in range(5):
        voting.queue.send(body)
    procs.worker()
    wait_until(lambda: queue_drained(voting) and voting.store.get_vote(body["id"]))
    assert tallies_of(voting, topic) == [0, 1, 0]
    assert len(list(voting.store.topic_votes(topic["id"]))) == 1


@pytest.mark.env(VISIBILITY_TIMEOUT="2")
def test_2_lost_delete_is_redelivered_and_counted_once(procs, voting, topic):
    queue_votes(voting, topic, [0, 1, 2])
    procs.faulty_worker("fail_delete:1")
    wait_until(lambda: fired(procs, "fail_delete") == 1)
    wait_until(
        lambda: queue_drained(voting), timeout=40, message="redelivered messages not deleted"
    )
    assert tallies_of(voting, topic) == [1, 1, 1]
    assert "delete_failed=3" in procs.logs() and "duplicates=3" in procs.logs()


def test_3_transaction_response_lost_after_commit_counts_once(procs, voting, topic):
    bodies = queue_votes(voting, topic, [2, 2, 2, 2])
    procs.faulty_worker("lose_tx_response:1")
    wait_until(lambda: queue_drained(voting))
    assert fired(procs, "lose_tx_response") == 1
    assert tallies_of(voting, topic) == [0, 0, 4]
    assert all(voting.store.get_vote(b["id"])["status"] == "counted" for b in bodies)


@pytest.mark.env(VISIBILITY_TIMEOUT="2")
def test_4_worker_sigkilled_mid_batch_then_restarted(procs, voting, topic):
    queue_votes(voting, topic, [i % 2 for i in range(6)])
    slow = procs.faulty_worker("slow_tx:30")
    wait_until(lambda: fired(procs, "slow_tx"))
    slow.send_signal(signal.SIGKILL)  # inside the batch, before its transaction is sent
    assert slow.wait(10) == -signal.SIGKILL
    assert tallies_of(voting, topic) == [0, 0, 0]
    procs.worker()
    wait_until(lambda: queue_drained(voting) and sum(tallies_of(voting, topic)) == 6, timeout=40)
    assert tallies_of(voting, topic) == [3, 3, 0]


@pytest.mark.env(VISIBILITY_TIMEOUT="1", MAX_RECEIVE_COUNT="2")
def test_5_poison_messages_go_to_the_dlq_and_the_rest_counts(procs, voting, topic):
    unknown_topic = {**queued_vote(topic, 0), "topic_id": "00000000-0000-4000-8000-00000000dead"}
    poison = ["not json at all", json.dumps({"id": "half a vote"}), json.dumps(unknown_topic)]
    for body in poison:
        voting.queue.client.send_message(QueueUrl=voting.queue.url, MessageBody=body)
    queue_votes(voting, topic, [0, 0, 0])
    procs.worker()
    wait_until(lambda: voting.queue.message_counts(dead_letters=True)["waiting"] == 3, timeout=40)
    wait_until(lambda: queue_drained(voting))
    assert tallies_of(voting, topic) == [3, 0, 0]
    assert voting.store.get_vote(unknown_topic["id"]) is None
    dlq = voting.queue.client.receive_message(
        QueueUrl=voting.queue._lookup(voting.queue.dlq_name), MaxNumberOfMessages=10
    )
    assert sorted(m["Body"] for m in dlq["Messages"]) == sorted(poison)


def dead_letters(voting) -> list[str]:
    dlq = voting.queue.client.receive_message(
        QueueUrl=voting.queue._lookup(voting.queue.dlq_name), MaxNumberOfMessages=10
    )
    return [m["Body"] for m in dlq.get("Messages", [])]


@pytest.mark.env(VISIBILITY_TIMEOUT="1", MAX_RECEIVE_COUNT="2")
def test_5_a_key_dynamodb_refuses_is_poison_alone(procs, voting, topic):
    """As found: a 3,000-character topic id from a bad producer used to
    fail its batch's transaction (ValidationException) until all ten votes were in
    the DLQ. The worker checks message fields like intake: only it goes there."""
    bad = json.dumps({**queued_vote(topic, 0), "topic_id": "t" * 3000})
    voting.queue.client.send_message(QueueUrl=voting.queue.url, MessageBody=bad)
    queue_votes(voting, topic, [1] * 9)
    procs.worker()
    wait_until(lambda: voting.queue.message_counts(dead_letters=True)["waiting"] == 1, timeout=40)
    wait_until(lambda: queue_drained(voting))
    assert tallies_of(voting, topic) == [0, 9, 0]
    assert dead_letters(voting) == [bad]


@pytest.mark.env(VISIBILITY_TIMEOUT="1", MAX_RECEIVE_COUNT="2")
def test_5_a_batch_dynamodb_refuses_is_split_so_the_valid_votes_count_once(procs, voting, topic):
    """Whatever makes DynamoDB refuse one vote of a batch as malformed
    (injected: ValidationException for any transaction holding that vote), the
    others are recorded once and only that vote is left for the DLQ."""
    bad = queued_vote(topic, 0, id="refused-by-dynamodb")
    voting.queue.send(bad)
    queue_votes(voting, topic, [2] * 6)
    procs.faulty_worker("invalid_tx:refused-by-dynamodb")
    wait_until(lambda: voting.queue.message_counts(dead_letters=True)["waiting"] == 1, timeout=40)
    wait_until(lambda: queue_drained(voting))
    assert fired(procs, "invalid_tx:refused-by-dynamodb") >= 2  # at least once per receive
    assert tallies_of(voting, topic) == [0, 0, 6]
    assert voting.store.get_vote(bad["id"]) is None
    assert [json.loads(b)["id"] for b in dead_letters(voting)] == [bad["id"]]


@pytest.mark.parametrize(
    "fault",
    [
        "error_tx:ProvisionedThroughputExceededException:3",
        "error_tx:ThrottlingException:2",
        "cancel_tx:TransactionConflict:3",
        "cancel_tx:ThrottlingError:2",
    ],
)
def test_6_throttling_and_conflicts_are_retried(procs, voting, topic, fault):
    queue_votes(voting, topic, [1, 1, 1])
    procs.faulty_worker(fault)
    wait_until(lambda: queue_drained(voting) and sum(tallies_of(voting, topic)) == 3)
    name, code, times = fault.split(":")
    assert fired(procs, f"{name}:{code}") == int(times)
    assert tallies_of(voting, topic) == [0, 3, 0]
    assert "duplicates=0" in procs.logs()


@pytest.mark.env(VISIBILITY_TIMEOUT="3")
def test_6_when_retries_run_out_nothing_is_half_written(procs, voting, topic):
    bodies = queue_votes(voting, topic, [2, 2, 2])
    procs.faulty_worker("error_tx:ProvisionedThroughputExceededException:6")
    wait_until(lambda: "gave up after 6 attempts" in procs.logs(), timeout=40)
    # The batch was abandoned whole: no record, no tally, messages still queued.
    assert tallies_of(voting, topic) == [0, 0, 0]
    assert all(voting.store.get_vote(b["id"]) is None for b in bodies)
    assert not queue_drained(voting)
    wait_until(lambda: queue_drained(voting) and sum(tallies_of(voting, topic)) == 3, timeout=40)
    assert tallies_of(voting, topic) == [0, 0, 3]


def test_7_sqs_down_at_intake_is_503_and_no_vote_appears(procs, voting, topic, http):
    down = procs.web(AWS_SQS_ENDPOINT_URL="http://127.0.0.1:9", AWS_MAX_ATTEMPTS="2")
    answer = http.post(
        f"{down}/votes", json={"topic_id": topic["id"], "choice_id": topic["choices"][0]["id"]}
    )
    assert answer.status_code == 503 and "not taken" in answer.json()["detail"]
    procs.worker()
    # A control vote through the healthy path proves the worker is draining.
    control = queued_vote(topic, 1)
    voting.queue.send(control)
    wait_until(lambda: voting.store.get_vote(control["id"]))
    assert tallies_of(voting, topic) == [0, 1, 0]
    assert [v["id"] for v in voting.store.topic_votes(topic["id"])] == [control["id"]]


@pytest.mark.env(VISIBILITY_TIMEOUT="2")
def test_8_slow_batch_keeps_its_messages_from_a_second_worker(procs, voting, topic):
    body = queued_vote(topic, 0)
    voting.queue.send(body)
    procs.faulty_worker("slow_tx:6")
    wait_until(lambda: fired(procs, "slow_tx"))
    other = procs.worker()
    wait_until(lambda: voting.store.get_vote(body["id"]), timeout=30)
    wait_until(lambda: queue_drained(voting))
    assert tallies_of(voting, topic) == [1, 0, 0]
    assert "extended visibility" in procs.logs()
    # The second worker polled the whole time and never received the message.
    with open(other.log_path) as log:
        other_log = log.read()
    assert "worker started" in other_log and "received=" not in other_log


# The production default for the intake's topic cache: 5,000 intake checks
# need not each read the topic (the worker's transaction checks it anyway).
@pytest.mark.env(WORKER_WAIT_SECONDS="1", TOPIC_CACHE_SECONDS="2")
@pytest.mark.timeout(900)  # a generous bound for a slow, shared CI machine
def test_10_load_three_workers_gunicorn_duplicates_no_drift(procs, voting, http, admin, app):
    base = procs.web(workers=3)
    for _ in range(3):
        procs.worker()
    created = make_topic(http, "Load", "abcd", base=base)
    total, threads = 5000, 10
    statuses: Counter = Counter()
    accepted: list[dict] = []
    lock = threading.Lock()

    def voter(n: int):
        rng = random.Random(n)
        with requests.Session() as session:
            for _ in range(total // threads):
                choice = created["choices"][rng.randrange(4)]["id"]
                answer = session.post(
                    f"{base}/votes",
                    json={"topic_id": created["id"], "choice_id": choice},
                    timeout=60,
                )
                with lock:
                    statuses[answer.status_code // 100 * 100] += 1
                    if answer.status_code == 202:
                        accepted.append(answer.json())

    workers = [threading.Thread(target=voter, args=(n,)) for n in range(threads)]
    for thread in workers:
        thread.start()
    # 10% of the accepted messages sent again, as a duplicate-sending producer would.
    for thread in workers:
        thread.join()
    for message in random.Random(1).sample(accepted, len(accepted) // 10):
        voting.queue.send(message)
    assert statuses == Counter({200: total})  # every one a 2xx (202), zero 5xx
    distinct = Counter(v["choice_id"] for v in accepted)

    def tallies():
        return voting.store.get_counts(created["id"])

    wait_until(
        lambda: sum(tallies().values()) == len(accepted) and queue_drained(voting), timeout=300
    )
    assert tallies() == dict(distinct)
    result = app.test_cli_runner().invoke(args=["recount", created["id"]])
    assert result.exit_code == 0 and "no drift" in result.output, result.output


def test_11_admin_auth_bypass_attempts_change_nothing(procs, http, topic):
    base = procs.web()
    attempts = [
        {},
        {"X-API-Key": ""},
        {"X-API-Key": "wrong"},
        {"X-API-Key": ADMIN_KEY[:8]},
        {"X-API-Key": ADMIN_KEY + "x"},
        {"Authorization": "Bearer"},
        {"Authorization": f"Token {ADMIN_KEY}"},
    ]
    change = {"title": "hacked", "choices": [{"description": "a"}, {"description": "b"}]}
    for headers in attempts:
        assert (
            http.put(f"{base}/topics/{topic['id']}", json=change, headers=headers).status_code
            == 401
        )
        assert http.post(f"{base}/topics", json=change, headers=headers).status_code == 401
    assert (
        http.put(f"{base}/topics/{topic['id']}?api_key={ADMIN_KEY}", json=change).status_code == 401
    )
    assert (
        http.put(f"{base}/topics/{topic['id']}", json={**change, "api_key": ""}).status_code == 401
    )
    assert http.get(f"{base}/topics/{topic['id']}").json()["title"] == topic["title"]
    assert len(http.get(f"{base}/topics").json()) == 1


@pytest.mark.env(API_CORS_ORIGINS="https://allowed.example")
def test_11_cors_preflight_only_for_listed_origins(procs, http):
    base = procs.web()
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    allowed = http.options(
        f"{base}/votes", headers={"Origin": "https://allowed.example", **preflight}
    )
    assert allowed.headers.get("Access-Control-Allow-Origin") == "https://allowed.example"
    assert "Access-Control-Allow-Credentials" not in allowed.headers
    other = http.options(f"{base}/votes", headers={"Origin": "https://evil.example", **preflight})
    assert "Access-Control-Allow-Origin" not in other.headers


def test_11_ten_megabyte_body_is_413(client):
    answer = client.post(
        "/votes", data=b"{" + b" " * (10 * 1024 * 1024) + b"}", content_type="application/json"
    )
    assert answer.status_code == 413 and "detail" in answer.json


def test_11_admin_form_without_csrf_token_is_refused(client, voting, topic):
    signed = sign_in(client)
    assert signed.status_code in (302, 303)
    refused = client.post(f"/admin/topics/{topic['id']}/active", data={"active": "0"})
    assert refused.status_code == 400
    assert voting.store.get_topic(topic["id"])["is_active"] is True


@pytest.mark.env(VISIBILITY_TIMEOUT="2")
def test_12_upvotes_through_gunicorn_count_once_across_a_killed_worker(procs, voting, http):
    """Audience Q&A: upvotes and withdrawals taken by real web processes, a worker
    SIGKILLed after its transaction committed and before it deleted the messages,
    then a fresh worker receiving them again: each voter's last tap counts, once."""
    base = procs.web(workers=2)
    event = http.post(f"{base}/events", json={"title": "Q&A", "qna": "open"}, headers=ADMIN).json()
    ask = f"{base}/events/code/{event['code']}/qna"
    questions = [http.post(ask, json={"text": f"Question {n}?"}).json() for n in range(3)]
    expected = Counter()
    for n in range(12):
        question = questions[n % 3]
        path = f"{ask}/{question['id']}/upvote"
        assert http.post(path, json={"voter_id": f"v{n}"}).status_code == 202
        if n % 4 == 0:  # a quarter change their mind: the withdrawal is queued after
            assert http.delete(path, json={"voter_id": f"v{n}"}).status_code == 202
            continue
        expected[question["id"]] += 1
        # A second tap: 202, refused by the worker, never counted twice.
        assert http.post(path, json={"voter_id": f"v{n}"}).status_code == 202
    killed = procs.faulty_worker("kill_before_delete")
    assert killed.wait(40) == -signal.SIGKILL  # committed, nothing deleted
    procs.worker()
    wait_until(lambda: queue_drained(voting), timeout=60)
    assert fired(procs, "kill_before_delete") == 1 and "duplicates=" in procs.logs()
    shown = http.get(ask).json()
    assert {q["id"]: q["upvotes"] for q in shown} == {q["id"]: expected[q["id"]] for q in questions}
    for question in questions:  # the count is the voters whose upvote stands
        standing = voting.backend.upvotes.standings([(question["id"], f"v{n}") for n in range(12)])
        assert sum(item["up"] for item in standing.values()) == expected[question["id"]]
