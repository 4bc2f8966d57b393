"""Audience Q&A's pages over the app (real moto server): the phones' "Ask" panel on the
event's page and embed (without JavaScript and with htmx), its refusals said in the panel,
and the presenter's moderation queue, mode form and projector board.

The rules themselves (text, visibility, order, exactly-once upvotes) are tested through the
JSON API in test_qna.py and in tests/unit/test_qna.py; here, what a person sees and sends.
"""

from __future__ import annotations

import re

import pytest

from tests.helpers.api import ADMIN, HX, make_event, sign_in, token_from
from tests.helpers.queued import record_queued

TEXTS = re.compile(r'<p class="qna-text" id="qna-q-[^"]+" dir="auto">([^<]*)</p>')
MINE = re.compile(r'<li class="qna-mine-item"><span class="qna-text" dir="auto">([^<]*)</span>\s*'
                  r'<span class="qna-state qna-state-\w+">([^<]*)</span>')  # fmt: skip
BOARD = re.compile(r'<p class="qna-board-text" dir="auto">([^<]*)</p>')


def page_of(client, event, **query) -> str:
    answer = client.get(f"/{event['code']}", query_string=query)
    assert answer.status_code == 200
    return answer.get_data(as_text=True)


def listed(html: str) -> list[str]:
    """The room's questions in the order the panel shows them."""
    return TEXTS.findall(html)


def mine(html: str) -> dict[str, str]:
    """This browser's own questions and the state it is shown: {text: state}."""
    return dict(MINE.findall(html))


def ask_form(client, event, text, name="", headers=None, token=None):
    token = token or token_from(page_of(client, event))
    return client.post(f"/{event['code']}/qna", headers=headers or {},
                       data={"csrf_token": token, "text": text, "name": name})  # fmt: skip


def upvote_form(client, event, question_id, withdraw=False, headers=None):
    token = token_from(page_of(client, event))
    data = {"csrf_token": token, **({"withdraw": "1"} if withdraw else {})}
    return client.post(f"/{event['code']}/qna/{question_id}/upvote", data=data,
                       headers=headers or {})  # fmt: skip


def ids_by_text(client, event) -> dict[str, str]:
    """Every question's id by its text, from the presenter's JSON view."""
    view = client.get(f"/events/{event['id']}/qna", headers=ADMIN).get_json()
    return {q["text"]: q["id"] for q in view["pending"] + view["top"]}


def presenter_of(app):
    presenter = app.test_client()
    assert sign_in(presenter).status_code == 303
    return presenter


def decide(presenter, event, question_id, decision, headers=None):
    console = presenter.get(f"/admin/events/{event['id']}").get_data(as_text=True)
    form = {"csrf_token": token_from(console), "decision": decision}
    return presenter.post(f"/admin/events/{event['id']}/qna/{question_id}", data=form,
                          headers=headers or {})  # fmt: skip


def test_each_state_is_seen_by_its_asker_alone_and_the_room_sees_only_shown_ones(app, client):
    """Moderated: asked by form (no JavaScript), moderated from the console's buttons."""
    event = make_event(client, [], qna="moderated")
    texts = ["Pending one?", "Approved one?", "Answered one?", "Dismissed one?"]
    for text in texts:
        asked = ask_form(client, event, text, name="Ada")
        assert asked.status_code == 303
        assert asked.headers["Location"].endswith(f"/{event['code']}#qna")
    page = page_of(client, event)
    assert "waits for the presenter" in page  # the flash after the last ask
    assert mine(page) == dict.fromkeys(texts, "Waiting for approval")
    assert listed(page) == []
    ids = ids_by_text(client, event)

    presenter = presenter_of(app)
    console = presenter.get(f"/admin/events/{event['id']}").get_data(as_text=True)
    assert all(text in console for text in texts)  # the queue holds all four
    for text, decision in (("Approved one?", "approved"), ("Answered one?", "answered"),
                           ("Dismissed one?", "dismissed")):  # fmt: skip
        assert decide(presenter, event, ids[text], decision).status_code == 303
    page = page_of(client, event)
    assert mine(page) == {"Pending one?": "Waiting for approval",
                          "Approved one?": "Shown to the room", "Answered one?": "Answered",
                          "Dismissed one?": "Not shown"}  # fmt: skip
    assert listed(page) == ["Approved one?", "Answered one?"]
    assert "✓ Answered" in page
    stranger = page_of(app.test_client(), event)
    assert listed(stranger) == ["Approved one?", "Answered one?"]
    assert mine(stranger) == {} and "Pending one?" not in stranger
    assert "Dismissed one?" not in stranger and "Ada" in stranger

    # The projector's board: never a pending or dismissed question; the one being
    # answered first, said in words.
    assert decide(presenter, event, ids["Approved one?"], "pin").status_code == 303
    board = presenter.get(f"/admin/events/{event['id']}/present?show=qna").get_data(as_text=True)
    assert BOARD.findall(board) == ["Approved one?", "Answered one?"]
    assert board.index("Being answered") < board.index("Approved one?")
    # With htmx the queue answers itself; without its CSRF token nothing changes.
    swapped = decide(presenter, event, ids["Pending one?"], "approved", headers=HX)
    assert swapped.status_code == 200 and 'id="qna-queue"' in swapped.get_data(as_text=True)
    forged = presenter.post(f"/admin/events/{event['id']}/qna/{ids['Dismissed one?']}",
                            data={"decision": "approved"})  # fmt: skip
    assert forged.status_code == 400
    # Only a question shown may be pinned: said in the queue.
    refused = decide(presenter, event, ids["Dismissed one?"], "pin", headers=HX)
    assert refused.status_code == 409 and "Only a question that is shown" in refused.text
    # A phone (not signed in) reaches none of it.
    phone = client.post(f"/admin/events/{event['id']}/qna/{ids['Dismissed one?']}",
                        data={"csrf_token": token_from(page), "decision": "approved"})  # fmt: skip
    assert phone.status_code == 303 and "/admin/login" in phone.headers["Location"]
    assert "Dismissed one?" not in listed(page_of(client, event))


def test_the_list_sorts_and_takes_one_tap_upvotes_with_and_without_javascript(client, voting):
    event = make_event(client, [], qna="open")
    for n, text in enumerate(("First?", "Second?", "Third?")):
        assert ask_form(client, event, text, name=f"n{n}").status_code == 303
    ids = ids_by_text(client, event)
    assert listed(page_of(client, event)) == ["First?", "Second?", "Third?"]  # top: older first
    recent = page_of(client, event, qna="recent")
    assert listed(recent) == ["Third?", "Second?", "First?"]
    assert 'aria-current="true" class="is-current">Recent' in recent

    # Without JavaScript: a form post, back to the page, counted once by the worker.
    tapped = upvote_form(client, event, ids["Third?"])
    assert tapped.status_code == 303 and tapped.headers["Location"].endswith("#qna")
    record_queued(voting)
    page = page_of(client, event)
    assert listed(page) == ["Third?", "First?", "Second?"]
    pressed = re.search(rf'name="withdraw" value="1">\s*<button id="qna-up-{ids["Third?"]}"'
                        rf'[^>]*aria-pressed="true"', page)  # fmt: skip
    assert pressed, "the upvoted question's button is pressed and withdraws"
    # With htmx: the list answers, pressed before the worker counts it; then withdrawn.
    fragment = upvote_form(client, event, ids["First?"], headers=HX)
    text = fragment.get_data(as_text=True)
    assert fragment.status_code == 202 and text.lstrip().startswith('<div id="qna-list"')
    assert re.search(rf'id="qna-up-{ids["First?"]}"[^>]*aria-pressed="true"', text)
    assert upvote_form(client, event, ids["Third?"], withdraw=True).status_code == 303
    record_queued(voting)
    assert listed(page_of(client, event)) == ["First?", "Second?", "Third?"]

    # The polled list: 304 while nothing changed, its order in its own URL.
    polled = client.get(f"/{event['code']}/qna", query_string={"sort": "recent"}, headers=HX)
    etag = polled.headers["ETag"]
    assert listed(polled.get_data(as_text=True)) == ["Third?", "Second?", "First?"]
    again = client.get(f"/{event['code']}/qna?sort=recent", headers={**HX, "If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert client.get(f"/{event['code']}/qna").status_code == 303  # not htmx: the page


def test_refusals_are_said_in_the_panel(client):
    event = make_event(client, [], qna="open")
    token = token_from(page_of(client, event))
    for text, said in (("   ", "Write a question of 1 to 280 characters."),
                       ("x" * 281, "Write a question of 1 to 280 characters."),
                       ("a\u202eb", "cannot be shown as typed")):  # fmt: skip
        page = ask_form(client, event, text, name="Kept name", token=token)
        html = page.get_data(as_text=True)
        assert page.status_code == 422 and said in html and 'id="stage"' in html  # whole page
        assert 'value="Kept name"' in html
        fragment = ask_form(client, event, text, headers=HX, token=token)
        assert fragment.status_code == 422 and said in fragment.get_data(as_text=True)
        assert fragment.get_data(as_text=True).lstrip().startswith('<section id="qna"')
    named = ask_form(client, event, "Fine?", name="n" * 41, token=token)
    assert named.status_code == 422 and "Give a name of at most 40 characters" in named.text
    # An upvote of a question nobody may see: its message in the list.
    gone = client.post(f"/{event['code']}/qna/{'a' * 32}/upvote", headers=HX,
                       data={"csrf_token": token})  # fmt: skip
    assert gone.status_code == 404 and "Question not found" in gone.text
    assert gone.text.lstrip().startswith('<div id="qna-list"')
    assert client.post(f"/{event['code']}/qna", data={"text": "No token?"}).status_code == 400
    off = make_event(client, [])
    assert 'id="qna"' not in page_of(client, off)
    refused = client.post(f"/{off['code']}/qna", headers=HX,
                          data={"csrf_token": token, "text": "Anyone?"})  # fmt: skip
    assert refused.status_code == 409 and "This event takes no questions" in refused.text


@pytest.mark.env(RATE_LIMIT_QUESTIONS_PER_VOTER="2 per minute")
def test_a_rate_limit_is_said_in_the_panel(client):
    event = make_event(client, [], qna="open")
    token = token_from(page_of(client, event))
    for n in range(2):
        assert ask_form(client, event, f"Question {n}?", token=token).status_code == 303
    page = ask_form(client, event, "One too many?", token=token)
    assert page.status_code == 429 and page.headers.get("Retry-After")
    assert "You asked several questions just now" in page.text and 'id="stage"' in page.text
    assert "One too many?" in page.text  # kept in the box
    fragment = ask_form(client, event, "One too many?", headers=HX, token=token)
    assert fragment.status_code == 429 and "You asked several questions just now" in fragment.text
    assert fragment.text.lstrip().startswith('<section id="qna"')


def test_the_embed_asks_and_upvotes_with_its_voter_in_its_header(client, voting):
    """No cookies in a cross-site frame: the voter travels in the X-Embed-Voter header
    (never in a URL), `asked` in the URLs."""
    event = make_event(client, [], qna="moderated")
    embed = client.get(f"/{event['code']}/embed").get_data(as_text=True)
    voter = re.search(r'data-embed-voter="([^"]+)"', embed)[1]
    sent = {"X-Embed-Voter": voter}
    action = re.search(r'<form class="qna-ask stack" method="post" action="([^"]+)"', embed)[1]
    action = action.replace("&amp;", "&")
    assert "voter" not in action
    frame = client.application.test_client()  # no cookie, no CSRF token
    asked = frame.post(action, data={"text": "From the embed?"}, headers=sent)
    assert asked.status_code == 303
    back = asked.headers["Location"]
    assert "/embed?" in back and "asked=1" in back and "voter" not in back
    shown = frame.get(back, headers=sent).get_data(as_text=True)
    assert mine(shown) == {"From the embed?": "Waiting for approval"}
    assert voter not in re.sub(r'data-embed-voter="[^"]+"', "", shown)
    # Without the header the same URL is a new voter's: the URL names no one.
    assert mine(frame.get(back).get_data(as_text=True)) == {}
    # Its stage's URLs keep `asked` (a vote and a reload keep its questions), and an ask
    # with htmx puts it in the frame's own URL.
    stage_url = re.search(r'<div id="stage"[^>]*hx-get="([^"]+)"', shown)[1]
    assert "asked=1" in stage_url and "voter" not in stage_url
    swapped = frame.post(action, data={"text": "Again?"}, headers={**HX, **sent})
    replaced = swapped.headers["HX-Replace-Url"]
    assert swapped.status_code == 201 and "asked=1" in replaced and "voter" not in replaced
    assert mine(frame.get(f"/{event['code']}/embed", headers=sent).get_data(as_text=True)) == {}
    question_id = ids_by_text(client, event)["From the embed?"]
    client.post(f"/events/{event['id']}/qna/{question_id}", json={"state": "approved"},
                headers=ADMIN)  # fmt: skip
    tap = frame.post(f"/{event['code']}/embed/qna/{question_id}/upvote", headers=sent)
    assert tap.status_code == 303 and "voter" not in tap.headers["Location"]
    record_queued(voting)
    view = client.get(f"/events/{event['id']}/qna", headers=ADMIN).get_json()
    assert view["top"][0]["upvotes"] == 1


def test_the_presenter_sets_the_mode_and_shows_the_board(app, client):
    presenter = presenter_of(app)
    events = presenter.get("/admin/events").get_data(as_text=True)
    form = {"csrf_token": token_from(events), "title": "Town hall", "qna": "open"}
    created = presenter.post("/admin/events", data=form)
    event_id = created.headers["Location"].rsplit("/", 1)[-1]
    event = client.get(f"/events/{event_id}", headers=ADMIN).get_json()
    assert event["qna"] == "open"
    console = presenter.get(f"/admin/events/{event_id}").get_data(as_text=True)
    assert '<option value="open" selected>' in console and 'id="qna-queue"' in console
    present = presenter.get(f"/admin/events/{event_id}/present").get_data(as_text=True)
    assert 'data-shortcut="qna"' in present and "?show=qna" in present
    switched = presenter.post(f"/admin/events/{event_id}/qna-mode",
                              data={"csrf_token": token_from(console), "qna": "off"})  # fmt: skip
    assert switched.status_code == 303
    assert client.get(f"/events/{event_id}", headers=ADMIN).get_json()["qna"] == "off"
    off = presenter.get(f"/admin/events/{event_id}/present?show=qna").get_data(as_text=True)
    assert 'id="present-stage"' in off and 'id="present-qna"' not in off  # the poll instead
    assert 'id="qna"' not in page_of(client, event)
    board = presenter.get(f"/admin/events/{event_id}/present/qna", headers=HX)
    assert board.status_code == 200 and "hx-get" in board.text
    unknown = presenter.post(f"/admin/events/{event_id}/qna-mode",
                             data={"csrf_token": token_from(console), "qna": "loud"})  # fmt: skip
    assert unknown.status_code == 422
