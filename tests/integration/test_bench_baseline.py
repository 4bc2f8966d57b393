"""The intake benchmark's baseline app (bench/baseline_app.py) answers its bare route as
POST /votes answers a vote: 202, anonymously, with the message queued. A refusal there
(the access gate's 403 once every route needed a sign-in) made the baseline measure
refusals, so `make bench`'s intake ratio compared votes with errors."""

from __future__ import annotations

from bench.baseline_app import create_app


def test_the_baseline_route_queues_a_message_anonymously_like_a_vote(aws_env, voting):
    client = create_app().test_client()
    answer = client.post("/_bench/send", json={})
    assert answer.status_code == 202, answer.text
    assert voting.queue.receive(max_messages=10, wait_seconds=1)
