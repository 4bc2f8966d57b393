"""Group commit at intake against the moto server: POST /votes from many threads at once.

Faults are botocore event hooks on the app's own SQS client (as
tests/faulty_worker.py does for the worker): SQS really stores the entries
it is sent, and the hooks make it fail chosen entries of a batch, or stall.
"""

from __future__ import annotations

import json
import threading

import pytest
from botocore.awsrequest import AWSResponse

from tests.helpers.api import make_topic
from tests.helpers.observability import value
from tests.helpers.queued import queued_bodies
from tests.helpers.waiting import wait_until
from webapp import create_app


def vote_body(topic: dict, i: int) -> dict:
    return {"topic_id": topic["id"], "choice_id": topic["choices"][i % 3]["id"]}


def post_concurrently(app, bodies: list[dict]) -> list:
    """POST each body from its own thread (its own test client); the answers, in order."""
    answers: list = [None] * len(bodies)

    def post(i):
        answers[i] = app.test_client().post("/votes", json=bodies[i])

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return answers


def batch_sizes(voting) -> list[int]:
    """The number of entries of each SendMessageBatch from now on (a list that grows)."""
    sizes: list[int] = []
    voting.queue.client.meta.events.register(
        "before-call.sqs.SendMessageBatch",
        lambda params, **kw: sizes.append(len(json.loads(params["body"])["Entries"])),
    )
    return sizes


def hold_first_batch_until(voting, waiting: int):
    """Hold the first SendMessageBatch until `waiting` more votes arrived behind it: waiting
    for their batch, or sent beside it (a whole batch waiting leaves beside the one in
    flight, core/aws/group_send.py)."""
    held = threading.Event()
    beside: list[int] = []  # the entries of each batch sent while the first is held

    def hold(params, **kwargs):
        if held.is_set():
            beside.append(len(json.loads(params["body"])["Entries"]))
            return
        held.set()
        wait_until(lambda: len(voting.sender._pending) + sum(beside) >= waiting, timeout=30)

    voting.queue.client.meta.events.register("before-call.sqs.SendMessageBatch", hold)
    return held


def test_a_burst_shares_batches_and_every_202_is_queued(client, voting):
    topic = make_topic(client, "Burst", "ABC")
    sizes = batch_sizes(voting)
    held = hold_first_batch_until(voting, waiting=10)
    app, bodies = voting_app(client), [vote_body(topic, i) for i in range(30)]
    # The first vote is in flight alone before the others come (started together, a busy
    # machine could let ten arrive before the first leader takes its batch).
    lone: list = []
    first = threading.Thread(
        target=lambda: lone.append(app.test_client().post("/votes", json=bodies[0]))
    )
    first.start()
    assert held.wait(30)
    answers = post_concurrently(app, bodies[1:])
    first.join(60)
    answers = lone + answers
    assert [a.status_code for a in answers] == [202] * 30
    assert sum(sizes) == 30 and sizes[0] == 1 and max(sizes) == 10, sizes
    queued = queued_bodies(voting)
    assert sorted(b["id"] for b in queued) == sorted(a.json["id"] for a in answers)


def test_failed_entries_fail_only_their_votes(client, voting):
    """Every 202 has its message in the queue; every 503 does not."""
    topic = make_topic(client, "Partial", "ABC")
    doomed = topic["choices"][2]["id"]
    batches: list[tuple[int, int]] = []  # (entries, failed) per SendMessageBatch

    def drop_doomed(params, context, **kwargs):
        """Send SQS only the entries that live; remember the others to report them failed."""
        request = json.loads(params["body"])
        entries = request["Entries"]
        keep = [e for e in entries if json.loads(e["MessageBody"])["choice_id"] != doomed]
        context["doomed"] = [e["Id"] for e in entries if e not in keep]
        batches.append((len(entries), len(context["doomed"])))
        if not keep:  # nothing left to send: SQS would refuse an empty batch
            return AWSResponse("http://fault", 200, {}, None), {"Successful": [], "Failed": []}
        params["body"] = json.dumps({**request, "Entries": keep}).encode()
        return None

    def report_doomed(parsed, context, **kwargs):
        parsed.setdefault("Failed", []).extend(
            {"Id": i, "SenderFault": False, "Code": "InternalError", "Message": "injected"}
            for i in context.get("doomed", [])
        )

    events = voting.queue.client.meta.events
    events.register("before-call.sqs.SendMessageBatch", drop_doomed)
    events.register("after-call.sqs.SendMessageBatch", report_doomed)
    hold_first_batch_until(voting, waiting=9)
    answers = post_concurrently(voting_app(client), [vote_body(topic, i) for i in range(30)])

    accepted = [a.json["id"] for a in answers if a.status_code == 202]
    refused = [a for a in answers if a.status_code == 503]
    assert len(accepted) + len(refused) == 30
    assert len(refused) == 10  # the votes for the doomed choice, and only they
    assert all("not taken" in a.json["detail"] and a.headers["Retry-After"] for a in refused)
    queued = queued_bodies(voting)
    assert sorted(b["id"] for b in queued) == sorted(accepted)
    assert doomed not in {b["choice_id"] for b in queued}
    assert any(0 < failed < entries for entries, failed in batches), batches


@pytest.mark.env(SQS_SEND_MAX_WAIT_SECONDS="0.5")
def test_a_stalled_send_turns_new_votes_into_503_not_a_pile_up(client, voting):
    topic = make_topic(client, "Stall", "ABC")
    stalled, release = threading.Event(), threading.Event()

    def stall(**kwargs):
        if not stalled.is_set():
            stalled.set()
            release.wait(30)

    voting.queue.client.meta.events.register("before-call.sqs.SendMessageBatch", stall)
    app = voting_app(client)
    first: list = []
    in_flight = threading.Thread(
        target=lambda: first.append(app.test_client().post("/votes", json=vote_body(topic, 0)))
    )
    in_flight.start()
    assert stalled.wait(30)
    late = post_concurrently(app, [vote_body(topic, i) for i in range(1, 5)])
    assert [a.status_code for a in late] == [503] * 4
    assert all("not taken" in a.json["detail"] for a in late)
    assert in_flight.is_alive()  # the stalled vote still waits for SQS's own answer
    release.set()
    in_flight.join(30)
    assert first[0].status_code == 202
    assert [b["id"] for b in queued_bodies(voting)] == [first[0].json["id"]]


@pytest.mark.env(SQS_GROUP_MAX_LINGER_SECONDS="30")
def test_a_batch_waits_for_the_other_client_connection_active_in_the_process(client, voting):
    """The web hook names each vote's client connection (REMOTE_PORT) to the group sender."""
    topic = make_topic(client, "Clients", "ABC")
    sizes = batch_sizes(voting)
    app = voting_app(client)
    answers: dict[str, object] = {}

    def vote_from(name: str, port: str) -> threading.Thread:
        def post():
            answers[name] = app.test_client().post(
                "/votes", json=vote_body(topic, 0), environ_base={"REMOTE_PORT": port}
            )

        thread = threading.Thread(target=post, daemon=True)
        thread.start()
        return thread

    vote_from("first", "5001").join(30)  # alone in the process: leaves at once
    waiting = vote_from("other client", "5002")
    waiting.join(0.5)
    assert waiting.is_alive() and sizes == [1]  # held for client 5001, active a moment ago
    vote_from("first again", "5001").join(30)
    waiting.join(30)
    assert sizes == [1, 2]
    assert {name: a.status_code for name, a in answers.items()} == dict.fromkeys(answers, 202)
    assert len(queued_bodies(voting)) == 3


def test_a_vote_request_leaves_no_client_name_on_its_thread(client, voting):
    """A later send on the same thread (another connection) must not pass for this client."""
    topic = make_topic(client, "Forget", "ABC")
    answer = client.post("/votes", json=vote_body(topic, 0), environ_base={"REMOTE_PORT": "5003"})
    assert answer.status_code == 202
    assert getattr(voting.sender._caller, "client", None) is None


def test_batches_are_counted_in_metrics(client, voting):
    topic = make_topic(client, "Metrics", "ABC")
    before = scrape_text(client)
    hold_first_batch_until(voting, waiting=5)
    answers = post_concurrently(voting_app(client), [vote_body(topic, i) for i in range(6)])
    assert [a.status_code for a in answers] == [202] * 6
    after = scrape_text(client)

    def grew(name):
        return (value(after, name) or 0) - (value(before, name) or 0)

    assert grew("voting_sqs_batch_size_sum") == 6
    assert grew("voting_sqs_batch_size_count") == 2  # the held one, then the five together
    assert grew("voting_sqs_batch_wait_seconds_count") == 6


def test_group_commit_off_sends_one_message_per_vote(aws_env, moto_endpoint):
    app = create_app({"TESTING": True, "sqs_group_commit": False})
    client = app.test_client()
    topic = make_topic(client, "Ungrouped", "ABC")
    from webapp import services

    with app.app_context():
        voting = services.voting()
    assert voting.sender is None
    calls: list[str] = []
    voting.queue.client.meta.events.register(
        "before-call.sqs", lambda model, **kw: calls.append(model.name)
    )
    answers = post_concurrently(app, [vote_body(topic, i) for i in range(5)])
    assert [a.status_code for a in answers] == [202] * 5
    assert [c for c in calls if c.startswith("SendMessage")] == ["SendMessage"] * 5


def voting_app(client):
    return client.application


def scrape_text(client) -> str:
    return client.get("/metrics").text
