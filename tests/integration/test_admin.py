"""Admin pages with the Flask test client, against the moto server.

Login required, sign-in with the key or ADMIN_PASSWORD, session cookie
flags, CSRF refusals that change nothing, the create/edit forms with the
API's rules (errors next to fields, typed text kept, choice ids kept on
edit), the no-JS and htmx choice rows, and one-click open/close.
"""

from __future__ import annotations

import re

import pytest

from tests.helpers.api import (
    ADMIN_KEY,
    HX,
    api_vote,
    make_topic,
    make_topic_past_its_deadline,
    sign_in,
    token_from,
)
from tests.helpers.queued import record_queued
from webapp import create_app

PASSWORD = "correct horse battery staple"


@pytest.fixture
def signed_in(client):
    answer = sign_in(client)
    assert answer.status_code == 303
    return client


def form_rows(html: str) -> list[tuple[str, str]]:
    """(choice_id, description) of every choice row in a topic form."""
    return re.findall(
        r'name="choice_id" value="([^"]*)">.*?name="choice" value="([^"]*)"', html, re.S
    )


def titles(voting) -> list[str]:
    return [t["title"] for t in voting.topics.all()]


# -- sign-in ---------------------------------------------------------------------------


def test_admin_urls_redirect_to_login(client):
    for path in ("/admin", "/admin/topics/new", "/admin/topics/some-id/edit", "/admin/choice-row"):
        answer = client.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["Location"] == f"/admin/login?next={path}"


def test_htmx_request_without_session_is_sent_to_login(client):
    answer = client.get("/admin/choice-row", headers=HX)
    assert answer.status_code == 401
    assert answer.headers["HX-Redirect"].startswith("/admin/login")


def test_unauthenticated_post_changes_nothing(client, voting):
    topic = make_topic(client)
    token = token_from(client.get("/admin/login").text)
    answer = client.post(
        f"/admin/topics/{topic['id']}/active", data={"csrf_token": token, "active": "0"}
    )
    assert answer.status_code == 303 and answer.headers["Location"] == "/admin/login"
    assert voting.topics.get(topic["id"], fresh=True)["is_active"] is True


def test_wrong_key_is_refused_with_a_message(client):
    answer = sign_in(client, "not-the-key")
    assert answer.status_code == 401
    assert "That key or password is wrong." in answer.text
    assert client.get("/admin").status_code == 303


def test_sign_in_with_api_key_sets_a_safe_session_cookie(client):
    answer = sign_in(client)
    assert answer.status_code == 303 and answer.headers["Location"] == "/admin"
    cookie = next(h for h in answer.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert ADMIN_KEY not in cookie
    page = client.get("/admin")
    assert page.status_code == 200 and "New topic" in page.text


def test_session_cookie_is_secure_over_https(app):
    client = app.test_client()
    page = client.get("/admin/login", base_url="https://localhost")
    answer = client.post(
        "/admin/login",
        data={"csrf_token": token_from(page.text), "password": ADMIN_KEY},
        base_url="https://localhost",
        headers={"Referer": "https://localhost/admin/login"},
    )
    assert answer.status_code == 303
    cookie = next(h for h in answer.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "Secure" in cookie and "HttpOnly" in cookie


@pytest.mark.env(ADMIN_PASSWORD=PASSWORD)
def test_admin_password_also_signs_in(app):
    for secret in (PASSWORD, ADMIN_KEY):
        client = app.test_client()
        assert sign_in(client, secret).status_code == 303
        assert client.get("/admin").status_code == 200


@pytest.mark.env(API_KEY="", ADMIN_PASSWORD=PASSWORD)
def test_admin_password_alone_is_enough(app):
    client = app.test_client()
    assert sign_in(client, PASSWORD).status_code == 303
    assert client.get("/admin").status_code == 200


@pytest.mark.env(API_KEY="", ADMIN_PASSWORD="")
def test_operator_sign_in_off_without_key_or_password(app):
    """Accounts still sign in (their email and password); the operator's break-glass
    sign-in is off, and the page says how to turn it on."""
    client = app.test_client()
    page = client.get("/admin/login")
    assert page.status_code == 200
    assert "set <code>API_KEY</code> or <code>ADMIN_PASSWORD</code>" in page.text
    assert sign_in(client, "").status_code in (400, 401)
    assert client.get("/admin").status_code == 303


def test_rotating_the_key_signs_admins_out(aws_env):
    before = create_app({"TESTING": True})
    client = before.test_client()
    assert sign_in(client).status_code == 303
    session_cookie = client.get_cookie("session").value
    after = create_app({"TESTING": True, "api_key": "a-new-key"})
    rotated = after.test_client()
    rotated.set_cookie("session", session_cookie)
    assert rotated.get("/admin").status_code == 303
    same = before.test_client()
    same.set_cookie("session", session_cookie)
    assert same.get("/admin").status_code == 200


def test_logout_ends_the_session(signed_in):
    page = signed_in.get("/admin")
    answer = signed_in.post("/admin/logout", data={"csrf_token": token_from(page.text)})
    assert answer.status_code == 303 and answer.headers["Location"] == "/admin/login"
    assert signed_in.get("/admin").status_code == 303


def test_logout_needs_csrf_token(signed_in):
    assert signed_in.post("/admin/logout").status_code == 400
    assert signed_in.get("/admin").status_code == 200


def test_login_needs_csrf_token(client):
    answer = client.post("/admin/login", data={"password": ADMIN_KEY})
    assert answer.status_code == 400
    assert client.get("/admin").status_code == 303


def test_next_never_leaves_the_admin_pages(client):
    for target in ("https://evil.example/", "//evil.example/admin", "/t/x"):
        page = client.get("/admin/login")
        answer = client.post(
            "/admin/login",
            data={"csrf_token": token_from(page.text), "password": ADMIN_KEY, "next": target},
        )
        assert answer.headers["Location"] == "/admin", target
        client.post("/admin/logout", data={"csrf_token": token_from(client.get("/admin").text)})


def test_next_returns_to_the_page_asked_for(client):
    first = client.get("/admin/topics/new")
    login_url = first.headers["Location"]
    page = client.get(login_url)
    assert 'name="next" value="/admin/topics/new"' in page.text
    answer = client.post(
        "/admin/login",
        data={
            "csrf_token": token_from(page.text),
            "password": ADMIN_KEY,
            "next": "/admin/topics/new",
        },
    )
    assert answer.headers["Location"] == "/admin/topics/new"


# -- topic list and open/close -------------------------------------------------------------


def test_admin_list_shows_status_votes_and_actions(signed_in, voting):
    open_topic = make_topic(signed_in, "Open question")
    closed = make_topic(signed_in, "Closed question", active=False)
    api_vote(signed_in, open_topic, 0)
    api_vote(signed_in, open_topic, 1)
    record_queued(voting)
    html = signed_in.get("/admin").text
    rows = dict(re.findall(r'<tr id="topic-([^"]+)"(.*?)</tr>', html, re.S))
    assert (
        "Open</span>" in rows[open_topic["id"]]
        and '<td class="num" data-label="Votes">2</td>' in rows[open_topic["id"]]
    )
    assert (
        "Closed</span>" in rows[closed["id"]]
        and '<td class="num" data-label="Votes">0</td>' in rows[closed["id"]]
    )
    assert f"/admin/topics/{open_topic['id']}/edit" in rows[open_topic["id"]]
    assert 'name="active" value="0"' in rows[open_topic["id"]]  # a Close button
    assert 'name="active" value="1"' in rows[closed["id"]]  # an Open button


def test_close_and_open_in_one_click(signed_in, voting):
    topic = make_topic(signed_in)
    token = token_from(signed_in.get("/admin").text)
    url = f"/admin/topics/{topic['id']}/active"
    answer = signed_in.post(url, data={"csrf_token": token, "active": "0"})
    assert answer.status_code == 303 and answer.headers["Location"] == "/admin"
    assert voting.topics.get(topic["id"], fresh=True)["is_active"] is False
    assert "is now closed" in signed_in.get("/admin").text

    row = signed_in.post(url, data={"csrf_token": token, "active": "1"}, headers=HX)
    assert row.status_code == 200
    assert row.text.lstrip().startswith(f'<tr id="topic-{topic["id"]}"')
    assert "Open</span>" in row.text and ">Close<" in row.text
    assert voting.topics.get(topic["id"], fresh=True)["is_active"] is True


def test_open_close_without_valid_csrf_changes_nothing(signed_in, voting):
    topic = make_topic(signed_in)
    for data in ({"active": "0"}, {"active": "0", "csrf_token": "wrong"}):
        answer = signed_in.post(f"/admin/topics/{topic['id']}/active", data=data)
        assert answer.status_code == 400
    assert voting.topics.get(topic["id"], fresh=True)["is_active"] is True


def test_open_close_unknown_topic_is_404(signed_in):
    token = token_from(signed_in.get("/admin").text)
    answer = signed_in.post("/admin/topics/nope/active", data={"csrf_token": token, "active": "0"})
    assert answer.status_code == 404 and "We could not find that" in answer.text


# -- create -------------------------------------------------------------------------------


def new_form(client):
    return token_from(client.get("/admin/topics/new").text)


def submit_new(client, title, choices, **fields):
    """The new-topic form posted with a fresh token: one (new) row per choice, plus `fields`."""
    data = {"csrf_token": new_form(client), "title": title, "choice_id": [""] * len(choices),
            "choice": list(choices), **fields}  # fmt: skip
    return client.post("/admin/topics/new", data=data)


def test_create_topic_with_choices(signed_in, voting):
    # A blank row left over is skipped.
    answer = submit_new(signed_in, "  Lunch?  ", ["Pizza", "Salad", "Soup", ""], is_active="on",
                        save="1")  # fmt: skip
    assert answer.status_code == 303 and answer.headers["Location"] == "/admin"
    (topic,) = voting.topics.all()
    assert topic["title"] == "Lunch?" and topic["is_active"] is True
    assert [c["description"] for c in topic["choices"]] == ["Pizza", "Salad", "Soup"]
    assert len({c["id"] for c in topic["choices"]}) == 3
    assert "Created “Lunch?”." in signed_in.get("/admin").text


def test_create_closed_topic_when_box_unticked(signed_in, voting):
    submit_new(signed_in, "Later", ["A", "B"])
    (topic,) = voting.topics.all()
    assert topic["is_active"] is False


def test_create_errors_are_shown_next_to_fields_and_input_kept(signed_in, voting):
    long_title = "x" * 301
    answer = submit_new(signed_in, long_title, ["Only <one>", ""], is_active="on")
    assert answer.status_code == 422
    html = answer.text
    assert 'id="title-error" class="field-error">Keep it to 300 characters or fewer.' in html
    assert (
        f'value="{long_title}"' in html
        and 'aria-invalid="true" aria-describedby="title-error"' in html
    )
    assert 'id="choices-error" class="field-error">A topic needs at least 2 choices.' in html
    assert ("", "Only &lt;one&gt;") in form_rows(html)
    assert voting.topics.all() == []


def test_create_choice_too_long_is_marked_on_its_row(signed_in, voting):
    answer = submit_new(signed_in, "Fine", ["Good", "y" * 201, "Also good"])
    assert answer.status_code == 422
    assert (
        'id="choice-1-error" class="field-error">Keep it to 200 characters or fewer.' in answer.text
    )
    assert 'id="choice-0-error"' not in answer.text and 'id="choice-2-error"' not in answer.text
    assert voting.topics.all() == []


def test_create_more_than_50_choices_is_refused(signed_in, voting):
    answer = submit_new(signed_in, "Too many", [f"c{i}" for i in range(51)])
    assert answer.status_code == 422
    assert "A topic can have at most 50 choices." in answer.text
    assert voting.topics.all() == []


def test_create_without_csrf_token_is_400_and_creates_nothing(signed_in, voting):
    answer = signed_in.post(
        "/admin/topics/new", data={"title": "Sneaky", "choice_id": ["", ""], "choice": ["A", "B"]}
    )
    assert answer.status_code == 400
    assert voting.topics.all() == []


def test_add_and_remove_rows_without_javascript(signed_in, voting):
    token = new_form(signed_in)
    base = {"csrf_token": token, "title": "Kept title", "choice_id": ["", ""], "choice": ["A", "B"]}
    added = signed_in.post("/admin/topics/new", data={**base, "add": "1"})
    assert added.status_code == 200
    assert form_rows(added.text) == [("", "A"), ("", "B"), ("", "")]
    assert 'value="Kept title"' in added.text

    three = {**base, "choice_id": ["", "", ""], "choice": ["A", "B", "C"]}
    removed = signed_in.post("/admin/topics/new", data={**three, "remove": "1"})
    assert form_rows(removed.text) == [("", "A"), ("", "C")]
    assert voting.topics.all() == []


def test_add_row_stops_at_50(signed_in):
    answer = submit_new(signed_in, "Full", [f"c{i}" for i in range(50)], add="1")
    assert len(form_rows(answer.text)) == 50
    assert "A topic can have at most 50 choices." in answer.text


def test_htmx_choice_row_endpoints(signed_in):
    row = signed_in.get("/admin/choice-row", headers=HX)
    assert row.status_code == 200 and "<html" not in row.text
    assert row.text.strip().startswith('<li class="choice-row">')
    assert form_rows(row.text) == [("", "")] and "autofocus" in row.text
    gone = signed_in.get("/admin/choice-row/removed", headers=HX)
    assert gone.status_code == 200 and gone.data == b""
    form = signed_in.get("/admin/topics/new").text
    assert 'hx-get="/admin/choice-row" hx-target="#choice-rows" hx-swap="beforeend"' in form
    assert 'name="add" value="1" formnovalidate' in form


# -- edit ---------------------------------------------------------------------------------


def test_edit_keeps_choice_ids_and_their_votes(signed_in, voting):
    topic = make_topic(signed_in, "Pets?", choices=("Cats", "Dogs", "Fish"))
    cats, dogs, fish = (c["id"] for c in topic["choices"])
    for index in (0, 0, 2):
        api_vote(signed_in, topic, index)
    record_queued(voting)

    page = signed_in.get(f"/admin/topics/{topic['id']}/edit")
    assert page.status_code == 200
    assert form_rows(page.text) == [(cats, "Cats"), (dogs, "Dogs"), (fish, "Fish")]

    # Rename Cats, drop Dogs, keep Fish, add Birds.
    answer = signed_in.post(
        f"/admin/topics/{topic['id']}/edit",
        data={
            "csrf_token": token_from(page.text),
            "title": "Pets, again?",
            "is_active": "on",
            "choice_id": [cats, fish, ""],
            "choice": ["Cats (all kinds)", "Fish", "Birds"],
            "save": "1",
        },
    )
    assert answer.status_code == 303
    stored = voting.topics.get(topic["id"], fresh=True)
    assert stored["title"] == "Pets, again?"
    assert [c["id"] for c in stored["choices"]][:2] == [cats, fish]
    assert [c["description"] for c in stored["choices"]] == ["Cats (all kinds)", "Fish", "Birds"]
    counts = voting.topics.counts(topic["id"])
    assert counts.get(cats) == 2 and counts.get(fish) == 1
    results = signed_in.get(f"/t/{topic['id']}/results", headers=HX).text
    assert "2 votes · 67%" in results and "1 vote · 33%" in results


def test_edit_form_shows_votes_and_dropping_voted_choices_needs_confirming(signed_in, voting):
    topic = make_topic(signed_in, "Languages?", choices=("Python", "Rust", "Go"))
    python, rust, go = (c["id"] for c in topic["choices"])
    for index in (0, 1, 1):
        api_vote(signed_in, topic, index)
    record_queued(voting)
    page = signed_in.get(f"/admin/topics/{topic['id']}/edit").text
    assert re.findall(r'class="choice-votes">([^<]+)<', page) == ["1 vote", "2 votes", "0 votes"]
    # With JavaScript, Remove on a voted choice asks first; Go (no votes) does not.
    assert 'hx-confirm="Remove “Rust” and its 2 votes?"' in page
    assert page.count("hx-confirm=") == 2

    def save(**extra):
        data = {"csrf_token": token_from(page), "title": "Languages?", "choice_id": [python, go],
                "choice": ["Python", "Go"], "save": "1", **extra}  # fmt: skip
        return signed_in.post(f"/admin/topics/{topic['id']}/edit", data=data)

    # Rust removed without confirming: refused, nothing changed, a checkbox to confirm.
    refused = save()
    assert refused.status_code == 409
    assert "Saving would remove choices that have votes" in refused.text
    assert f'name="drop_votes_for" type="checkbox" value="{rust}"' in refused.text
    assert "Remove “Rust” and its 2 votes</label>" in refused.text
    assert len(voting.topics.get(topic["id"], fresh=True)["choices"]) == 3
    assert voting.store.get_counts(topic["id"])[rust] == 2

    # The htmx Remove, once confirmed in the dialog, leaves a hidden confirmation row.
    marker = signed_in.get(f"/admin/choice-row/removed?choice_id={rust}", headers=HX).text
    assert f'<input type="hidden" name="drop_votes_for" value="{rust}">' in marker
    assert signed_in.get("/admin/choice-row/removed?choice_id=<x>", headers=HX).data == b""

    # Confirmed (either way, the same field): saved, Rust's votes leave the results.
    assert save(drop_votes_for=rust).status_code == 303
    stored = voting.topics.get(topic["id"], fresh=True)
    assert [c["id"] for c in stored["choices"]] == [python, go]
    results = signed_in.get(f"/t/{topic['id']}/results", headers=HX).text
    assert "1 vote · 100%" in results


def test_new_form_defaults_to_changeable_and_rows_have_their_own_ids(signed_in):
    form = signed_in.get("/admin/topics/new").text
    assert '<option value="changeable" selected>' in form
    assert '<option value="unlimited">Unlimited: anyone may vote again and again</option>' in form
    first = signed_in.get("/admin/choice-row", headers=HX).text
    second = signed_in.get("/admin/choice-row", headers=HX).text
    ids = [
        re.search(r'<input class="choice-input"[^>]*id="([^"]+)"', r, re.S)[1]
        for r in (first, second)
    ]
    assert ids[0] != ids[1]
    for row, field_id in zip((first, second), ids, strict=True):
        assert f'<label class="visually-hidden" for="{field_id}">' in row


def test_edit_with_a_foreign_choice_id_is_refused(signed_in, voting):
    topic = make_topic(signed_in)
    page = signed_in.get(f"/admin/topics/{topic['id']}/edit")
    answer = signed_in.post(
        f"/admin/topics/{topic['id']}/edit",
        data={
            "csrf_token": token_from(page.text),
            "title": "Changed",
            "choice_id": [topic["choices"][0]["id"], "someone-elses-choice"],
            "choice": ["Tabs", "Spaces"],
        },
    )
    assert answer.status_code == 422
    assert "The choices no longer match this topic" in answer.text
    assert voting.topics.get(topic["id"], fresh=True)["title"] == topic["title"]


def test_emptied_existing_choice_is_an_error_not_a_silent_removal(signed_in, voting):
    topic = make_topic(signed_in, choices=("A", "B", "C"))
    ids = [c["id"] for c in topic["choices"]]
    page = signed_in.get(f"/admin/topics/{topic['id']}/edit")
    answer = signed_in.post(
        f"/admin/topics/{topic['id']}/edit",
        data={"csrf_token": token_from(page.text), "title": "T", "choice_id": ids,
              "choice": ["A", "", "C"]},
    )  # fmt: skip
    assert answer.status_code == 422
    assert 'id="choice-1-error" class="field-error">This can&#39;t be empty.' in answer.text
    assert len(voting.topics.get(topic["id"], fresh=True)["choices"]) == 3


def test_edit_unknown_topic_is_404(signed_in):
    assert signed_in.get("/admin/topics/no-such-topic/edit").status_code == 404


def test_admin_pages_escape_user_text(signed_in):
    topic = make_topic(signed_in, "<script>alert(1)</script>", choices=("<i>a</i>", "b"))
    for path in ("/admin", f"/admin/topics/{topic['id']}/edit"):
        html = signed_in.get(path).text
        assert "<script>alert(1)" not in html and "<i>a</i>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


# -- voter policies in the form ----------------------------------------------------------


def test_create_and_edit_voter_policies(signed_in, voting):
    answer = submit_new(
        signed_in, "Policies", ["A", "B"], is_active="on", vote_limit="one_per_voter",
        results_visibility="after_close", closes_at="2030-01-31T18:30",
    )  # fmt: skip
    assert answer.status_code == 303
    (topic,) = voting.topics.all()
    assert topic["vote_limit"] == "one_per_voter"
    assert topic["results_visibility"] == "after_close"
    assert topic["closes_at"].startswith("2030-01-31T18:30")

    form = signed_in.get(f"/admin/topics/{topic['id']}/edit").text
    assert 'value="2030-01-31T18:30"' in form
    assert '<option value="one_per_voter" selected>' in form
    assert '<option value="after_close" selected>' in form
    # Clearing the deadline removes it; the policies stay as chosen.
    signed_in.post(
        f"/admin/topics/{topic['id']}/edit",
        data={
            "csrf_token": token_from(form),
            "title": "Policies",
            "is_active": "on",
            "choice_id": [c["id"] for c in topic["choices"]],
            "choice": ["A", "B"],
            "vote_limit": "one_per_voter",
            "results_visibility": "after_close",
            "closes_at": "",
        },
    )
    stored = voting.topics.get(topic["id"], fresh=True)
    assert stored.get("closes_at") is None and stored["vote_limit"] == "one_per_voter"


def test_bad_policy_values_are_field_errors(signed_in, voting):
    answer = submit_new(
        signed_in, "Bad", ["A", "B"], vote_limit="as_many_as_you_like",
        results_visibility="always", closes_at="next tuesday",
    )  # fmt: skip
    assert answer.status_code == 422
    assert 'id="vote_limit-error" class="field-error">Pick one of the options.' in answer.text
    assert 'id="closes_at-error" class="field-error">Give a date and time' in answer.text
    assert 'value="next tuesday"' in answer.text
    assert voting.topics.all() == []


def test_signed_in_admin_sees_hidden_results(signed_in, voting):
    topic = make_topic(signed_in, results_visibility="after_close")
    api_vote(signed_in, topic, 1)
    record_queued(voting)
    html = signed_in.get(f"/t/{topic['id']}/results", headers=HX).text
    assert "1 vote · 100%" in html


def test_admin_list_marks_a_topic_closed_by_its_deadline(signed_in):
    topic = make_topic_past_its_deadline(signed_in)
    row = re.search(rf'<tr id="topic-{topic["id"]}".*?</tr>', signed_in.get("/admin").text, re.S)
    assert 'Closed</span> <span class="hint">(deadline passed)</span>' in row.group(0)


def test_duplicate_choices_are_refused_on_the_repeated_row(signed_in, voting):
    answer = submit_new(signed_in, "Lunch?", ["Pizza", "Salad", " pizza "], save="1")
    assert answer.status_code == 422
    message = "“pizza” is listed twice: choices must differ by more than case or spaces."
    assert f'id="choices-error" class="field-error">{message}' in answer.text
    assert f'id="choice-2-error" class="field-error">{message}' in answer.text
    assert 'id="choice-0-error"' not in answer.text
    assert voting.topics.all() == []
    german = signed_in.post(
        "/admin/topics/new",
        headers={"Accept-Language": "de"},
        data={
            "csrf_token": new_form(signed_in),
            "title": "Mittag?",
            "choice_id": ["", ""],
            "choice": ["Suppe", "SUPPE"],
            "save": "1",
        },  # fmt: skip
    )
    assert german.status_code == 422 and "„SUPPE“ kommt doppelt vor" in german.text


def test_the_form_counts_characters_as_the_server_does(signed_in, voting):
    # No maxlength on the topic form: a browser counts UTF-16 code units (an
    # emoji is 2), the server counts characters, so the browser would cut an
    # emoji-heavy choice at 100 of its 200 characters. The server judges alone.
    form = signed_in.get("/admin/topics/new").text
    assert "maxlength" not in form
    emoji = "🦀" * 200
    answer = submit_new(signed_in, "🦀" * 300, [emoji, "Other"], save="1")
    assert answer.status_code == 303
    (topic,) = voting.topics.all()
    assert topic["title"] == "🦀" * 300 and topic["choices"][0]["description"] == emoji
    too_long = submit_new(signed_in, "Fine", ["🦀" * 201, "Other"], save="1")
    assert too_long.status_code == 422
    assert 'id="choice-0-error" class="field-error">Keep it to 200 characters' in too_long.text


def test_the_form_makes_a_topic_unlisted_and_lists_it_again(signed_in, voting):
    form = signed_in.get("/admin/topics/new").text
    assert re.search(r'<input id="listed" name="listed" type="checkbox" checked', form)
    submit_new(signed_in, "Secret lunch", ["A", "B"], is_active="on", save="1")
    (topic,) = voting.topics.all()
    assert topic["listed"] is False  # the box was not sent: unticked
    assert "(unlisted)" in signed_in.get("/admin").text  # (shows the "Created" note too)
    assert "Secret lunch" not in signed_in.get("/").text
    edit = signed_in.get(f"/admin/topics/{topic['id']}/edit").text
    assert not re.search(r'id="listed"[^>]* checked', edit)
    data = {"csrf_token": token_from(edit), "title": "Secret lunch", "is_active": "on",
            "listed": "on", "choice_id": [c["id"] for c in topic["choices"]],
            "choice": ["A", "B"], "save": "1"}  # fmt: skip
    assert signed_in.post(f"/admin/topics/{topic['id']}/edit", data=data).status_code == 303
    assert voting.topics.all()[0]["listed"] is True
    assert "Secret lunch" in signed_in.get("/").text
