"""The event pages over the app (real moto server): joining by code, the audience's stage,
the presenter view and the console."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers.api import HX, make_event, make_topic, move, sign_in, token_from
from tests.helpers.queued import record_queued
from tests.helpers.streams import presenter_pushes


def _etag_of(html: str) -> str:
    return re.search(r'"If-None-Match": "\\"([0-9a-f]+)', html)[1]


def test_home_page_has_a_plain_enter_code_form(client):
    page = client.get("/").get_data(as_text=True)
    assert 'action="/j"' in page and 'method="get"' in page and 'name="code"' in page


def test_a_typed_code_opens_the_event_in_any_case(client, event):
    code = event["code"]
    for typed in (code, code.lower(), f"{code[:3]} {code[3:]}"):
        answer = client.get("/j", query_string={"code": typed})
        assert answer.status_code == 303 and answer.headers["Location"].endswith(f"/{code}")
    assert client.get(f"/j/{code.lower()}").headers["Location"].endswith(f"/{code}")
    assert client.get(f"/{code.lower()}").headers["Location"].endswith(f"/{code}")
    page = client.get(f"/{code}")
    assert page.status_code == 200 and "Keynote" in page.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/j?code=ZZZZZZ", "/j/nothing", "/ZZZZZZ", "/j?code=O0O0O0"])
def test_a_wrong_code_gets_a_friendly_message(client, event, path):
    answer = client.get(path, headers={"Accept": "text/html"})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 404
    assert "No event has the code" in text and 'name="code"' in text  # the box, to try again
    assert "Traceback" not in text


def test_the_stage_waits_then_follows_the_presenter(client, admin, event):
    page = client.get(f"/{event['code']}").get_data(as_text=True)
    assert "Waiting for the next question" in page
    etag = _etag_of(page)
    stage_url = f"/{event['code']}/stage"
    unchanged = client.get(stage_url, headers={**HX, "If-None-Match": f'"{etag}"'})
    assert unchanged.status_code == 304 and unchanged.data == b""
    move(client, event, "next")
    moved = client.get(stage_url, headers={**HX, "If-None-Match": f'"{etag}"'})
    text = moved.get_data(as_text=True)
    assert moved.status_code == 200 and "Question 1" in text and 'id="stage"' in text
    assert "The presenter will show the results." in text
    assert client.get(stage_url).status_code == 303  # not htmx: the page


def test_a_vote_from_the_stage_is_remembered_on_that_question(client, admin, event, voting):
    move(client, event, "next")
    topic = event["topics"][0]
    page = client.get(f"/{event['code']}").get_data(as_text=True)
    vote_url = f"/{event['code']}/vote/{topic['id']}"
    assert f'hx-post="{vote_url}"' in page
    form = {"choice_id": topic["choices"][1]["id"], "csrf_token": token_from(page)}
    answer = client.post(vote_url, data=form, headers=HX)
    assert answer.status_code == 202 and "Spaces" in answer.get_data(as_text=True)
    assert record_queued(voting) == 1
    again = client.get(f"/{event['code']}").get_data(as_text=True)
    assert "was counted" in again and "Spaces" in again
    move(client, event, "next")  # the next question: its own form, no vote yet
    second = client.get(f"/{event['code']}").get_data(as_text=True)
    assert "Question 2" in second and "was counted" not in second
    stale = client.post(vote_url, data=form, headers=HX)  # the presenter moved on
    assert stale.status_code == 409


def test_a_phone_still_knows_its_vote_after_the_browser_restarts(app, client, event, voting):
    move(client, event, "next")
    topic = event["topics"][0]
    page = client.get(f"/{event['code']}").get_data(as_text=True)
    form = {"choice_id": topic["choices"][1]["id"], "csrf_token": token_from(page)}
    answer = client.post(f"/{event['code']}/vote/{topic['id']}", data=form, headers=HX)
    assert answer.status_code == 202
    assert any("Expires=" in header for header in answer.headers.getlist("Set-Cookie"))
    record_queued(voting)
    # A browser restart keeps only the cookies that carry an expiry.
    kept = {name: client.get_cookie(name) for name in ("session", "voter")}
    assert all(cookie is not None and cookie.expires for cookie in kept.values()), kept
    restarted = app.test_client()
    for name, cookie in kept.items():
        restarted.set_cookie(name, cookie.value)
    again = restarted.get(f"/{event['code']}").get_data(as_text=True)
    assert "was counted" in again and "Spaces" in again
    # The stage's polls change nothing: no cookie is sent again with each.
    poll = restarted.get(f"/{event['code']}/stage", headers=HX)
    assert poll.status_code == 200 and "Set-Cookie" not in poll.headers
    # An admin's sign-in still ends with the browser session.
    presenter = app.test_client()
    sign_in(presenter)
    assert presenter.get_cookie("session").expires is None


def test_presenter_view_needs_sign_in(client, event):
    answer = client.get(f"/admin/events/{event['id']}/present")
    assert answer.status_code == 303 and "/admin/login" in answer.headers["Location"]


def test_the_projector_s_polled_stage_is_304_until_the_presenter_moves(client, admin, event):
    """The fallback poll of the projected stage (its stream refused) through htmx.polled."""
    sign_in(client)
    stage_url = f"/admin/events/{event['id']}/present/stage"
    first = client.get(stage_url, headers=HX)
    assert first.status_code == 200 and first.headers["Cache-Control"] == "no-cache"
    assert "HX-Request" in first.headers["Vary"]
    etag = {**HX, "If-None-Match": first.headers["ETag"]}
    unchanged = client.get(stage_url, headers=etag)
    assert unchanged.status_code == 304 and unchanged.data == b""
    move(client, event, "next")
    moved = client.get(stage_url, headers=etag)
    assert moved.status_code == 200 and "Question 1" in moved.get_data(as_text=True)


def test_presenter_view_hides_results_until_revealed(client, admin, event, voting):
    sign_in(client)
    move(client, event, "next")
    topic = event["topics"][0]
    client.post("/votes", json={"topic_id": topic["id"], "choice_id": topic["choices"][0]["id"]})
    assert record_queued(voting) == 1
    page = client.get(f"/admin/events/{event['id']}/present").get_data(as_text=True)
    assert event["code"] in page and "qr-code" in page and f"/{event['code']}" in page
    assert "Results hidden" in page and "1 vote" not in page and "bar-numbers" not in page
    token = token_from(page)
    control = f"/admin/events/{event['id']}/control"
    revealed = client.post(control, data={"action": "reveal", "csrf_token": token}, headers=HX)
    text = revealed.get_data(as_text=True)
    assert revealed.status_code == 200 and "Results hidden" not in text and "1 vote" in text
    assert "Hide results" in text
    closed = client.post(control, data={"action": "close", "csrf_token": token})
    assert closed.status_code == 303
    assert "Open voting" in client.get(f"/admin/events/{event['id']}/present").get_data(
        as_text=True
    )
    assert client.post(control, data={"action": "jump", "csrf_token": token}).status_code == 422


def test_the_projector_lists_hidden_choices_and_how_many_answered_never_per_choice(
    app, client, admin, event, voting
):
    """Results hidden: the projected stage shows the choices and the number of answers,
    kept live by its stream (the results region) or its poll; no count per choice."""
    sign_in(client)
    move(client, event, "next")
    topic = event["topics"][0]
    for choice in (0, 0, 1):
        vote = {"topic_id": topic["id"], "choice_id": topic["choices"][choice]["id"]}
        assert client.post("/votes", json=vote).status_code == 202
    assert record_queued(voting) == 3
    page = client.get(f"/admin/events/{event['id']}/present").get_data(as_text=True)
    hidden = page[page.index("data-results-hidden") : page.index('class="control-bar"')]
    choices = re.findall(r'class="present-choice" dir="auto">([^<]*)<', hidden)
    assert choices == ["Tabs", "Spaces"]
    assert re.search(r"<strong data-answer-count>3</strong>\s*answers", hidden)
    assert not re.search(r"\b[12]\b|vote|%|bar", hidden), "a count per choice shows"

    # Pushed: the results region is the count while hidden, and moves with each answer.
    pushed = presenter_pushes(app, event["id"], "results")

    (stage_before, count_before), region = pushed()
    assert ">3</strong>" in region and "Tabs" not in region
    # Polled (the stream refused): 304 while the count stays.
    answers_url = f"/admin/events/{event['id']}/present/answers"
    first = client.get(answers_url, headers=HX)
    assert first.status_code == 200 and ">3</strong>" in first.get_data(as_text=True)
    same = client.get(answers_url, headers={**HX, "If-None-Match": first.headers["ETag"]})
    assert same.status_code == 304

    vote = {"topic_id": topic["id"], "choice_id": topic["choices"][1]["id"]}
    assert client.post("/votes", json=vote).status_code == 202
    assert record_queued(voting) == 1
    (stage_after, count_after), region = pushed()
    assert stage_after == stage_before, "a vote must not rebuild the stage and its controls"
    assert count_after != count_before and ">4</strong>" in region
    moved = client.get(answers_url, headers={**HX, "If-None-Match": first.headers["ETag"]})
    assert moved.status_code == 200 and ">4</strong>" in moved.get_data(as_text=True)


def test_the_projector_counts_down_to_the_question_s_deadline(client, admin):
    sign_in(client)
    closes = (datetime.now(UTC) + timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%MZ")
    event = make_event(client, [make_topic(client, title="Timed?", closes_at=closes)])
    move(client, event, "next")
    stage = client.get(f"/admin/events/{event['id']}/present/stage", headers=HX)
    clock = re.search(r'data-remaining="(\d+)"[^>]*>\s*Voting closes in <strong data-seconds>'
                      r"(\d+):(\d\d)</strong>", stage.get_data(as_text=True))  # fmt: skip
    assert clock, "no countdown"
    remaining = int(clock[1])
    assert 8 * 60 < remaining <= 10 * 60
    assert (int(clock[2]), int(clock[3])) == divmod(remaining, 60)


def test_console_creates_an_event_and_edits_its_questions(client, admin):
    sign_in(client)
    existing = make_topic(client, title="Existing topic")
    console = client.get("/admin/events").get_data(as_text=True)
    token = token_from(console)
    made = client.post("/admin/events", data={"title": "Workshop", "csrf_token": token})
    assert made.status_code == 303
    edit_url = made.headers["Location"]
    event_id = edit_url.rstrip("/").rsplit("/", 1)[-1]
    form = {"title": "Cats or dogs?", "choices": "Cats\nDogs\n", "csrf_token": token}
    assert client.post(f"/admin/events/{event_id}/questions", data=form).status_code == 303
    form = {"topic_id": existing["id"], "csrf_token": token}
    assert client.post(f"/admin/events/{event_id}/questions", data=form).status_code == 303
    bad = {"title": "One choice", "choices": "Only\n", "csrf_token": token}
    refused = client.post(f"/admin/events/{event_id}/questions", data=bad).get_data(as_text=True)
    assert "A topic needs at least 2 choices." in refused and 'value="One choice"' in refused
    page = client.get(edit_url).get_data(as_text=True)
    assert page.index("Cats or dogs?") < page.index("Existing topic")
    move = {"to": "0", "csrf_token": token}
    assert client.post(f"/admin/events/{event_id}/questions/1/move", data=move).status_code == 303
    page = client.get(edit_url).get_data(as_text=True)
    assert page.index("Existing topic") < page.index("Cats or dogs?")
    remove = {"csrf_token": token}
    client.post(f"/admin/events/{event_id}/questions/0/remove", data=remove)
    event = client.get(f"/events/{event_id}", headers=admin).get_json()
    assert [q["title"] for q in event["questions"]] == ["Cats or dogs?"]
    assert "Workshop" in client.get("/admin/events").get_data(as_text=True)
