"""The event streams over the app (real moto server, in-process): what a page lacks first,
a change to every stream rendered once, regions apart, Last-Event-ID, the cap, CSRF by header."""

from __future__ import annotations

import html
import re

import pytest

from tests.helpers.accounts import bearer, make_user, sign_in_as
from tests.helpers.api import ADMIN_KEY, HX, make_event, make_topic, move, sign_in
from tests.helpers.queued import record_queued
from tests.helpers.streams import SSE, Stream
from webapp import create_app, services
from webapp.push import feeds, hub


@pytest.fixture(autouse=True)
def quick_heartbeat(monkeypatch):
    # A read of a quiet stream ends with a ping after this long, not 15 s.
    monkeypatch.setattr(hub, "HEARTBEAT_SECONDS", 1.0)


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
    # Polls only once its stream is lost: a trigger no one sends until then.
    assert 'data-poll-trigger="every 1s"' in stage and 'hx-trigger="stream-lost"' in stage
    assert "every" not in re.search(r'hx-trigger="([^"]*)"', stage)[1]
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


def test_a_server_told_of_nothing_shows_the_arriving_question_open(
    aws_env, client, event, monkeypatch
):
    """Another server (its own caches, no sibling's word) read the question's topic just
    before the presenter opened it: its first read of the moved event must not pair the
    new event with that copy, or its phones get the question with a closed ballot."""
    monkeypatch.setattr(feeds, "FRESH_SECONDS", 60.0)  # the copy is young enough to answer
    other = create_app({"TESTING": True, "topic_cache_seconds": 60.0})
    first = event["topics"][0]
    with other.app_context():
        assert services.topics().get(first["id"])["is_active"] is False  # waiting, closed
    move(client, event)
    stream = Stream(other.test_client(), f"/{event['code']}/stream")
    [(name, _, data)] = [e for e in stream.events() if e[0] == "question"]
    assert f'data-topic-id="{first["id"]}"' in data
    ballot = re.search(r"<fieldset[^>]*>", data)[0]
    assert "disabled" not in ballot, ballot
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


# -- the Ask panel's list: the event stream's qna region ------------------------------------


def test_a_counted_upvote_is_pushed_in_the_qna_region_with_nothing_of_any_voter(aws_env):
    app = create_app({"TESTING": True, "results_cache_seconds": 0})
    client = app.test_client()
    with app.app_context():
        voting = services.voting()
    event = make_event(client, [make_topic(client, active=False)], qna="open")
    page = client.get(f"/{event['code']}").text
    assert re.search(r'<div id="qna-room" sse-swap="qna"', page)
    token = re.search(r'"X-CSRFToken": "([^"]+)"', page)[1]
    own = {**HX, "X-CSRFToken": token}
    # This browser asks and upvotes: its own list shows its question and its upvote pressed.
    asked = client.post(f"/{event['code']}/qna", data={"text": "Why?"}, headers=own)
    assert asked.status_code == 201
    [qid] = [q["id"] for q in client.get(f"/events/code/{event['code']}/qna").get_json()]
    url = _stream_url(client.get(f"/{event['code']}").text)
    stream = Stream(client, url)
    [(name, held, _)] = stream.events()
    assert name == "hello" and len(held.split(".")) == 4  # the page's list is held already
    tapped = client.post(f"/{event['code']}/qna/{qid}/upvote", data={}, headers=own)
    mine = tapped.get_data(as_text=True)
    assert tapped.status_code == 202 and "My questions" in mine
    assert re.search(rf'data-upvoted=\'\["{qid}"\]\'', mine)
    record_queued(voting)
    [(name, ids, data)] = stream.events(until="qna")
    assert name == "qna" and ids.split(".")[:3] == held.split(".")[:3] and ids != held
    assert re.search(rf'id="qna-up-{qid}"[^>]*aria-pressed="false"', data)
    assert re.search(r"</span> 1</button>", data)  # counted by the worker, pushed
    assert "csrf_token" not in data and "My questions" not in data and "voter=" not in data
    assert "data-pushed" in data and 'name="withdraw"' not in data
    stream.close()

    # Resumed after the room moved on and another upvote: the stage, then the list.
    client.post(f"/events/code/{event['code']}/qna/{qid}/upvote", json={"voter_id": "fan"})
    record_queued(voting)
    move(client, event)
    resumed = Stream(client, url.split("?")[0], **{"Last-Event-ID": ids})
    got = resumed.events()
    assert [name for name, *_ in got] == ["question", "qna", "hello"]
    assert "</span> 2</button>" in got[1][2]
    resumed.close()
    again = Stream(client, url.split("?")[0], **{"Last-Event-ID": got[-1][1]})
    assert [name for name, *_ in again.events()] == ["hello"]
    again.close()
    # An id of the stage alone (three versions): everything again.
    old = Stream(client, url.split("?")[0], **{"Last-Event-ID": ".".join(ids.split(".")[:3])})
    assert [name for name, *_ in old.events()] == ["question", "qna", "hello"]
    old.close()


def test_the_embeds_pushed_list_has_no_voter_and_its_panel_sends_its_own_in_a_header(
    client, voting
):
    event = make_event(client, [], qna="open")
    ask = client.post(f"/events/code/{event['code']}/qna", json={"text": "Embedded?"})
    qid = ask.get_json()["id"]
    embed = client.get(f"/{event['code']}/embed").text
    voter = re.search(r'data-embed-voter="([^"]+)"', embed)[1]
    vals = html.unescape(re.search(r'<section id="qna"[^>]*hx-vals=\'([^\']+)\'', embed)[1])
    assert "voter" not in vals and voter not in vals  # a credential: never in a URL or a body
    stream = Stream(client, _stream_url(embed).split("?")[0])  # no `last`: everything
    pushed = dict((name, data) for name, _, data in stream.events())["qna"]
    stream.close()
    action = html.unescape(re.search(r'hx-post="([^"]+)"', pushed)[1])
    assert action == f"/{event['code']}/embed/qna/{qid}/upvote" and "voter" not in pushed
    # A tap on it sends the voter in its header (static/embed.js): counted for that voter.
    frame = client.application.test_client()  # no cookie
    tapped = frame.post(action, data={"sort": "top"}, headers={**HX, "X-Embed-Voter": voter})
    assert tapped.status_code == 202 and f'data-upvoted=\'["{qid}"]\'' in tapped.text
    record_queued(voting)
    again = frame.get(f"/{event['code']}/embed", headers={"X-Embed-Voter": voter}).text
    assert re.search(rf'id="qna-up-{qid}"[^>]*aria-pressed="true"', again)
