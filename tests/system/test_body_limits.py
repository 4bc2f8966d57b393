"""The 64 KiB body limit holds for chunked bodies too, through gunicorn.

Flask's test client always sends a Content-Length, so these requests go over a
real socket to the web app under gunicorn, with `Transfer-Encoding: chunked`.
"""

from __future__ import annotations

import json

import pytest
import requests

from tests.helpers.api import ADMIN, SAMPLE_TOPIC
from webapp import MAX_BODY_BYTES


def chunked(body: bytes, size: int = 8192):
    """A generator body: requests sends it chunked, with no Content-Length."""
    return (body[i : i + size] for i in range(0, len(body), size))


@pytest.fixture
def web(procs):
    base = procs.web(workers=1)
    topic = requests.post(f"{base}/topics", json=SAMPLE_TOPIC, headers=ADMIN, timeout=10).json()
    vote = {"topic_id": topic["id"], "choice_id": topic["choices"][0]["id"]}
    return base, vote


def post_votes(base: str, data, **headers) -> requests.Response:
    headers = {"Content-Type": "application/json", **headers}
    return requests.post(f"{base}/votes", data=data, headers=headers, timeout=30)


def padded(vote: dict, total: int) -> bytes:
    """The vote as JSON followed by whitespace up to `total` bytes: valid JSON at any cut."""
    body = json.dumps(vote).encode()
    return body + b" " * (total - len(body))


def test_a_chunked_body_over_the_limit_is_413_not_cut(web):
    """Cut at 64 KiB, this body is still a valid vote: it used to be queued (202)."""
    base, vote = web
    answer = post_votes(base, chunked(padded(vote, 1_400_000)))
    assert answer.request.headers.get("Transfer-Encoding") == "chunked"
    assert answer.status_code == 413 and "detail" in answer.json()
    over_by_one = post_votes(base, chunked(padded(vote, MAX_BODY_BYTES + 1)))
    assert over_by_one.status_code == 413


def test_a_chunked_body_within_the_limit_is_read_whole(web):
    base, vote = web
    small = post_votes(base, chunked(json.dumps(vote).encode(), size=7))
    assert small.status_code == 202, small.text
    at_the_limit = post_votes(base, chunked(padded(vote, MAX_BODY_BYTES)))
    assert at_the_limit.status_code == 202, at_the_limit.text


def test_sized_and_chunked_bodies_get_the_same_answer(web):
    base, vote = web
    body = padded(vote, MAX_BODY_BYTES + 1)
    assert post_votes(base, body).status_code == post_votes(base, chunked(body)).status_code == 413


def test_a_chunked_form_over_the_limit_is_413(web):
    base, vote = web
    form = b"choice_id=" + b"x" * 200_000
    answer = requests.post(
        f"{base}/t/{vote['topic_id']}/vote",
        data=chunked(form),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        timeout=30,
    )
    assert answer.status_code == 413
