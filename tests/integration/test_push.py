"""The event streams over the app (real moto server, in-process): what a page lacks first,
a change to every stream rendered once, regions apart, Last-Event-ID, the cap, CSRF by header."""

from __future__ import annotations

import html
import re

import pytest

from tests.helpers.accounts import bearer, make_user, sign_in_as
from tests.helpers.api import ADMIN_KEY, HX, make_topic, move, sign_in
from tests.helpers.queued import record_queued
from webapp import create_app
from webapp.push import feeds, hub

SSE = {"Accept": "text/event-stream"}


@pytest.fixture(autouse=True)
def quick_heartbeat(monkeypatch):
    # A read of a quiet stream ends with a ping after this long, not 15 s.
    monkeypatch.setattr(hub, "HEARTBEAT_SECONDS", 1.0)


class Stream:
    """An open event stream through the test client, read event by event."""

    def __init__(self, client, url: str, **headers):
        self.answer = client.get(url, headers={**SSE, **headers}, buffered=False)
        self.chunks = iter(self.answer.response)
        self.buffer = ""

    def events(self, until: str = "hello", reads: int = 30) -> list[tuple[str, str, str]]:
        """(name, id, data) of each event up to and including the first named `until`."""
        found = []
        for _ in range(reads):
            self.buffer += next(self.chunks).decode()
            while "\n\n" in self.buffer:
                block, self.buffer = self.buffer.split("\n\n", 1)
                fields = {"event": "message", "id": "", "data": []}
                for line in block.split("\n"):
                    name, _, value = line.partition(": ")
                    if name == "data":
                        fields["data"].append(value)
                    elif name in ("event", "id"):
                        fields[name] = value
                if fields["data"]:
                    found.append((fields["event"], fields["id"], "\n".join(fields["data"])))
                    if fields["event"] == until:
                        return found
        raise AssertionError(f"no {until!r} event in {reads} reads: {found}")

    def close(self):
        self.answer.close()


def _stream_url(page: str) -> str:
    return html.unescape(re.search(r'sse-connect="([^"]+)"', page)[1])


def test_the_page_holds_its_stream_and_its_token_and_the_stage_polls_only_without_it(
    client, admin, event
):
    move(client, event)
    page = client.get(f"/{event['code']}").text
    url = _stream_url(page)
    assert url.startswith(f"/{event['code']}/stream?last=")
    assert re.search(r'class="stage-live"[^>]*hx-headers=\'\{"X-CSRFToken": "[^"]+"\}\'', page)
    stage = re.search(r'<div id="stage"[^>]*>', page)[0]
    assert 'data-poll-trigger="every 1s"' in stage and "hx-trigger" not in stage
    # The page's own stage holds everything: the stream says hello, nothing else.
    stream = Stream(client, url)
    assert stream.answer.mimetype == "text/event-stream"
    assert "no-cache" in stream.answer.headers["Cache-Control"]
    assert stream.answer.headers["X-Accel-Buffering"] == "no"
    [(name, ids, _)] = stream.events()
    assert name == "hello" and ids == url.split("last=")[1]
    stream.close()
    # A polled stage (a page without a stream) polls by itself.
    polled = client.get(f"/{event['code']}/stage", headers=HX).text
    assert 'hx-trigger="every 1s"' in polled


def test_a_change_reaches_every_stream_rendered_once_with_no_browser_in_it(
    client, admin, event, monkeypatch
):
    renders = []
    render = feeds.EventFeed.render

    def counted(self, state, view, names):
        renders.append((view, tuple(names)))
        return render(self, state, view, names)

    monkeypatch.setattr(feeds.EventFeed, "render", counted)
    streams = [Stream(client, f"/{event['code']}/stream") for _ in range(40)]
    for stream in streams:
        assert [name for name, *_ in stream.events()] == ["question", "hello"]  # the lobby
    renders.clear()
    move(client, event)
    first = event["topics"][0]
    seen = set()
    for stream in streams:
        [(name, ids, data)] = stream.events(until="question")
        assert name == "question" and f'data-topic-id="{first["id"]}"' in data
        seen.add((ids, data))
    assert len(seen) == 1  # the same bytes for every stream
    assert renders == [(feeds.View("audience", "en"), ("question", "status", "results"))]
    # Nothing of any one browser: no CSRF token, no vote state.
    _, data = seen.pop()
    assert "csrf_token" not in data and "vote-status" not in data
    for stream in streams:
        stream.close()
    assert hub.hub(client.application).open == 0


def test_a_reveal_or_a_close_leaves_the_ballot_alone(client, admin, event, voting):
    move(client, event)
    stream = Stream(client, f"/{event['code']}/stream")
    stream.events()
    answer = client.post(f"/events/{event['id']}/results", json={"shown": True}, headers=admin)
    assert answer.status_code == 200
    [(name, _, data)] = stream.events(until="results")
    assert name == "results" and 'id="results"' in data and 'id="stage-results"' in data
    client.post(f"/events/{event['id']}/voting", json={"open": False}, headers=admin)
    [(name, _, data)] = stream.events(until="status")
    assert name == "status" and "data-closed" in data
    stream.close()


def test_last_event_id_resumes_with_exactly_the_regions_that_moved(client, admin, event, voting):
    move(client, event)
    stream = Stream(client, f"/{event['code']}/stream")
    held = stream.events()[-1][1]
    stream.close()
    client.post(f"/events/{event['id']}/results", json={"shown": True}, headers=admin)
    resumed = Stream(client, f"/{event['code']}/stream", **{"Last-Event-ID": held})
    got = resumed.events()
    assert [name for name, *_ in got] == ["results", "hello"]
    newest = got[-1][1]
    assert newest.split(".")[:2] == held.split(".")[:2] and newest != held
    resumed.close()
    # Holding the newest: nothing to catch up on. Holding nothing we know: the whole stage.
    again = Stream(client, f"/{event['code']}/stream", **{"Last-Event-ID": newest})
    assert [name for name, *_ in again.events()] == ["hello"]
    again.close()
    lost = Stream(client, f"/{event['code']}/stream", **{"Last-Event-ID": "nonsense"})
    assert [name for name, *_ in lost.events()] == ["question", "hello"]
    lost.close()


def test_streams_past_the_cap_are_refused_with_a_clean_503(aws_env, monkeypatch):
    app = create_app({"TESTING": True, "max_streams_per_process": 2})
    client = app.test_client()
    topic = make_topic(client)
    url = f"/t/{topic['id']}/stream"
    first, second = Stream(client, url), Stream(client, url)
    refused = client.get(url, headers=SSE)
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
    first.close()
    third = Stream(client, url)
    assert third.events()[-1][0] == "hello"
    second.close()
    third.close()
    hub.hub(app).close()  # a stopping process refuses new streams too
    assert client.get(url, headers=SSE).status_code == 503


def test_stopping_ends_every_open_stream(client, event):
    stream = Stream(client, f"/{event['code']}/stream")
    stream.events()
    hub.hub(client.application).close()
    with pytest.raises(StopIteration):
        for _ in range(5):
            next(stream.chunks)
    stream.close()
    assert hub.hub(client.application).open == 0


def test_a_pushed_ballot_votes_with_the_pages_token_in_a_header(client, admin, event):
    move(client, event)
    page = client.get(f"/{event['code']}").text
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page)[1]
    topic = event["topics"][0]
    url = f"/{event['code']}/vote/{topic['id']}"
    form = {"choice_id": topic["choices"][0]["id"]}
    assert client.post(url, data=form, headers=HX).status_code == 400  # no token at all
    accepted = client.post(url, data=form, headers={**HX, "X-CSRFToken": token})
    assert accepted.status_code == 202


def test_a_topic_pages_results_are_pushed_as_votes_are_counted(client, voting):
    topic = make_topic(client)
    page = client.get(f"/t/{topic['id']}").text
    url = _stream_url(page)
    results = re.search(r'<div id="results"[^>]*>', page)[0]
    assert 'sse-swap="results"' in results and "data-poll-trigger" in results
    stream = Stream(client, url)
    assert [name for name, *_ in stream.events()] == ["hello"]
    client.post(f"/t/{topic['id']}/vote", data={"choice_id": topic["choices"][0]["id"]},
                headers={**HX, "X-CSRFToken": _page_token(client, topic)})  # fmt: skip
    record_queued(voting)
    [(name, _, data)] = stream.events(until="results", reads=60)
    assert "<strong>1</strong>" in data
    stream.close()


def _page_token(client, topic) -> str:
    page = client.get(f"/t/{topic['id']}").text
    return re.search(r'name="csrf_token" value="([^"]+)"', page)[1]


def test_a_signed_in_viewer_polls_as_before(client):
    topic = make_topic(client)
    sign_in(client, ADMIN_KEY)
    page = client.get(f"/t/{topic['id']}").text
    assert "sse-connect" not in page and 'hx-trigger="every 2s, vote-counted from:body"' in page


def test_the_presenters_stream_pushes_the_projected_stage(client, event):
    sign_in(client, ADMIN_KEY)
    page = client.get(f"/admin/events/{event['id']}/present").text
    url = _stream_url(page)
    assert url.startswith(f"/admin/events/{event['id']}/stream?last=")
    # The page holds the current stage: its first connection replaces none of it.
    stream = Stream(client, url)
    assert [name for name, *_ in stream.events()] == ["hello"]
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)[1]
    moved = client.post(f"/admin/events/{event['id']}/control",
                        data={"action": "next", "csrf_token": token}, headers=HX)  # fmt: skip
    assert moved.status_code == 200
    [(name, _, data)] = stream.events(until="stage")
    assert "Question 1" in data and "csrf_token" not in data
    stream.close()
    anonymous = create_app({"TESTING": True}).test_client()
    assert anonymous.get(url, headers=SSE).status_code in (303, 401)


def test_the_presenters_stream_is_for_the_events_managers_only(app, client):
    """webapp/access.py guards the presenter's stream like every admin page: a co-host
    follows it, another organiser's request answers as for a missing event."""
    make_user(client, "ada@example.org"), make_user(client, "bob@example.org")
    make_user(client, "eve@example.org")
    ada = bearer(client, "ada@example.org")
    event = client.post("/events", json={"title": "Ada talk"}, headers=ada).json
    assert client.post(f"/events/{event['id']}/hosts", json={"email": "bob@example.org"},
                       headers=ada).status_code == 201  # fmt: skip
    url = f"/admin/events/{event['id']}/stream"
    bob, eve = app.test_client(), app.test_client()
    sign_in_as(bob, "bob@example.org"), sign_in_as(eve, "eve@example.org")
    assert eve.get(url, headers=SSE).status_code == 404
    stream = Stream(bob, url)
    assert stream.answer.mimetype == "text/event-stream"
    assert [name for name, *_ in stream.events()] == ["stage", "hello"]
    stream.close()
