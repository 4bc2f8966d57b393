"""The presenter console (webapp/presenter/console.py), with the Flask test client on the
moto server: the event's managers alone open it; it shows where the room is, the current
and next question and the live answer count; its controls go through the projected
view's control endpoint and come back to it (a refused one, as the projected view's, says
why on the panel or stage, which shows the room as it now is); its stream pushes its
panel."""

from __future__ import annotations

import html
import re

import pytest

from tests.helpers.accounts import bearer, make_user, sign_in_as
from tests.helpers.api import ADMIN, HX, api_vote, move, sign_in, token_from
from tests.helpers.queued import record_queued
from tests.helpers.streams import Stream
from webapp import services


def _console(event: dict) -> str:
    return f"/admin/events/{event['id']}/console"


def _text(answer) -> str:
    """A page's words, tags dropped and spaces joined: what a reader sees."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", answer.get_data(as_text=True))).split())


def test_only_the_events_presenters_open_the_console(app, client):
    make_user(client, "ada@example.org"), make_user(client, "bob@example.org")
    ada = bearer(client, "ada@example.org")
    event = client.post("/events", json={"title": "Ada talk"}, headers=ada).json
    anonymous = app.test_client().get(_console(event))
    assert anonymous.status_code == 303 and "/admin/login" in anonymous.headers["Location"]
    bob, presenter = app.test_client(), app.test_client()
    sign_in_as(bob, "bob@example.org"), sign_in_as(presenter, "ada@example.org")
    assert bob.get(_console(event)).status_code == 404  # as a missing event
    assert bob.get(_console(event) + "/panel", headers=HX).status_code == 404
    page = presenter.get(_console(event))
    assert page.status_code == 200 and "Ada talk" in page.get_data(as_text=True)
    # Linked beside "Present" on the events pages, and from the projected view's controls.
    link = f'href="{_console(event)}"'
    for linking in ("/admin/events", f"/admin/events/{event['id']}",
                    f"/admin/events/{event['id']}/present"):  # fmt: skip
        assert link in presenter.get(linking).get_data(as_text=True), linking


def test_the_console_shows_where_the_room_is_and_the_live_answer_count(
    app, client, event, voting
):  # fmt: skip
    sign_in(client)
    before = _text(client.get(_console(event)))
    assert "Before the first question (2 in all)" in before and "Next Question 1" in before
    moved = move(client, event, "next")
    api_vote(client, event["topics"][0])
    assert record_queued(voting) == 1
    answer = client.get(_console(event))
    page, text = answer.get_data(as_text=True), _text(answer)
    assert "Question 1 of 2" in text and "1 answer" in text
    assert "On screen Question 1 Single choice Voting open" in text
    assert "Next Question 2 Single choice" in text
    with app.app_context():  # the timer counts from when the room moved
        stored = services.events().event(event["id"], fresh=True)
    assert moved["position"] == 0 and f'data-since="{stored["moved_at"][:23]}Z"' in page
    assert 'value="reveal"' in page and 'value="close"' in page
    # A reset is a second step: behind a <details>, never a button on its own.
    assert re.search(r"<details[^>]*>\s*<summary>Reset results…</summary>.*value=\"reset\"",
                     page, re.S)  # fmt: skip
    last = _text(client.get(_console(move(client, event, "next"))))
    assert "Question 2 of 2" in last and "Nothing: this is the last question." in last


def test_a_control_from_the_console_moves_the_room_and_comes_back(client, event):
    sign_in(client)
    token = token_from(client.get(_console(event)).get_data(as_text=True))
    control = f"/admin/events/{event['id']}/control"
    sent = {"action": "next", "from": "console", "csrf_token": token}
    answer = client.post(control, data=sent)
    assert answer.status_code == 303 and answer.headers["Location"] == _console(event)
    assert client.get(f"/events/{event['id']}", headers=ADMIN).json["position"] == 0
    # With htmx: the console's panel, not the projected stage.
    panel = client.post(control, data={**sent, "action": "reveal"}, headers=HX)
    text = panel.get_data(as_text=True)
    assert panel.status_code == 200 and 'id="console-panel"' in text
    assert "present-stage" not in text and "Hide results" in text
    # Without the page's token nothing moves.
    refused = client.post(control, data={"action": "next", "from": "console"})
    assert refused.status_code == 400
    assert client.get(f"/events/{event['id']}", headers=ADMIN).json["position"] == 0


# Where the presenter drives the room from: the form fields marking its controls, the page,
# and the fragment its controls answer with.
PLACES = {
    "console": ({"from": "console"}, "/console", 'id="console-panel"'),
    "projector": ({}, "/present", 'id="present-stage"'),
}


@pytest.mark.parametrize("place", PLACES)
def test_a_refused_control_says_why_in_place_and_shows_the_room_as_it_now_is(
    client, event, place
):  # fmt: skip
    sent, page, fragment = PLACES[place]
    sign_in(client)
    move(client, event, "next")  # the presenter's page shows question 1 and its controls ...
    page_url = f"/admin/events/{event['id']}{page}"
    token = token_from(client.get(page_url).get_data(as_text=True))
    move(client, event, -1)  # ... when a co-host sends the room back to the waiting screen
    control = f"/admin/events/{event['id']}/control"
    said = ('<p class="notice notice-error" role="alert" data-error-message>'
            "The event is before its first question: advance first</p>")  # fmt: skip
    form = {**sent, "action": "reveal", "csrf_token": token}
    answer = client.post(control, data=form, headers=HX)
    text = answer.get_data(as_text=True)
    assert answer.status_code == 409 and "HX-Request" in answer.headers["Vary"]
    # The whole fragment htmx swaps in, never the error page: the refusal said, the
    # controls still there, as the waiting screen has them (no question to reveal).
    assert text.lstrip().startswith(f"<section {fragment}"), text[:200]
    assert said in text and "error-page" not in text
    assert 'value="next"' in text and 'value="reveal"' not in text
    assert "Before the first question" in text or "Waiting for the first question" in text
    # Without JavaScript: the page itself, with the refusal's status and words.
    plain = client.post(control, data=form)
    text = plain.get_data(as_text=True)
    assert plain.status_code == 409 and "<html" in text and "error-page" not in text
    assert fragment in text and said in text and 'value="next"' in text
    assert client.get(f"/events/{event['id']}", headers=ADMIN).json["position"] == -1


def test_the_consoles_stream_pushes_its_panel_when_the_room_moves(client, event):
    sign_in(client)
    page = client.get(_console(event)).get_data(as_text=True)
    url = html.unescape(re.search(r'sse-connect="([^"]+)"', page)[1])
    assert url.startswith(f"/admin/events/{event['id']}/stream?view=console")
    stream = Stream(client, url)
    assert [name for name, *_ in stream.events()] == ["hello"]  # the page holds its panel
    move(client, event, "next")  # through the API: not the console's doing
    [(name, _, data)] = stream.events(until="stage")
    assert 'id="console-panel"' in data and "Question 1 of 2" in data
    assert "csrf_token" not in data
    stream.close()
