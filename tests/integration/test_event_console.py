"""The events console builds a whole talk (webapp/admin/events.py, event_form.py), with the
Flask test client on the moto server: "Add a question" makes every type with its
rules (and, without JavaScript, shows the chosen type's rules), a refused one is
said next to its field with what was typed; each question shows its type and an
edit link that comes back to the event; what takes something away is apart and
goes through a page that says what goes or stays; the events pages keep the
admin pages' navigation, and every admin page links to Events."""

from __future__ import annotations

import re

import pytest

from tests.helpers.api import ADMIN, make_event, make_topic, sign_in, token_from

# Each type as the form sends it, and what the topic must then hold.
TYPES = {
    "single": ({"type": "single", "choices": "Tea\nCoffee"}, {}),
    "multiple": ({"type": "multiple", "min_choices": "1", "max_choices": "2",
                  "choices": "Red\nGreen\nBlue"}, {"min_choices": 1, "max_choices": 2}),
    "ranking": ({"type": "ranking", "rank_top": "2", "choices": "A\nB\nC"}, {"rank_top": 2}),
    "rating": ({"type": "rating", "scale_min": "0", "scale_max": "10"},
               {"scale_min": 0, "scale_max": 10, "rate_each": False}),
    "rate each": ({"type": "rating", "rate_each": "on", "choices": "Talk\nVenue"},
                  {"rate_each": True}),
    "text": ({"type": "text", "blocked_answers": "spam"}, {"blocked_answers": ["spam"]}),
    "game": ({"type": "game", "choices": "Red\nBlue"}, {}),
}  # fmt: skip


@pytest.fixture
def console(client):
    """A signed-in admin on an empty event's page: (event, CSRF token)."""
    sign_in(client)
    event = make_event(client, [])
    page = client.get(f"/admin/events/{event['id']}").get_data(as_text=True)
    return event, token_from(page)


def add(client, console, **fields):
    event, token = console
    return client.post(f"/admin/events/{event['id']}/questions",
                       data={"csrf_token": token, **fields})  # fmt: skip


def test_the_event_form_creates_each_type_with_its_rules(client, console):
    for name, (fields, _) in TYPES.items():
        answer = add(client, console, title=f"A {name} question", **fields)
        assert answer.status_code == 303, (name, answer.get_data(as_text=True)[:2000])
    event = client.get(f"/events/{console[0]['id']}", headers=ADMIN).get_json()
    assert [q["title"] for q in event["questions"]] == [f"A {name} question" for name in TYPES]
    for (name, (fields, rules)), question in zip(TYPES.items(), event["questions"], strict=True):
        topic = client.get(f"/topics/{question['topic_id']}", headers=ADMIN).get_json()
        assert topic.get("type", "single") == fields["type"], name
        assert {key: topic[key] for key in rules} == rules, name
        choices = [line for line in fields.get("choices", "").splitlines() if line]
        assert [c["description"] for c in topic["choices"]] == choices, name
        assert (topic["is_active"], topic.get("listed")) == (False, False), name


def test_without_javascript_the_form_shows_the_chosen_types_rules(client, console):
    answer = add(client, console, retype="1", title="How was it?", type="rating",
                 choices="")  # fmt: skip
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    shown = re.findall(r'data-rules-for="(\w+)"(?! hidden)', page)
    assert shown == ["rating"] and 'value="How was it?"' in page
    # A rating of the question takes no choices: the box is hidden and sends none.
    assert re.search(r"<fieldset[^>]*data-choice-rows hidden disabled", page)
    assert client.get(f"/events/{console[0]['id']}", headers=ADMIN).get_json()["questions"] == []


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"title": "Rank", "type": "ranking", "choices": "Only one"}, "q-choices",
         "A topic needs at least 2 choices."),
        ({"title": "Rank", "type": "ranking", "rank_top": "5", "choices": "A\nB"}, "rank_top",
         "Give a number from 1 to the number of choices."),
        ({"title": "", "type": "text"}, "q-title", "This can&#39;t be empty."),
    ],
)  # fmt: skip
def test_a_refused_question_says_why_next_to_its_field_and_keeps_what_was_typed(
    client, console, fields, field, message
):
    answer = add(client, console, **fields)
    assert answer.status_code == 422
    page = answer.get_data(as_text=True)
    assert f'<p id="{field}-error" class="field-error">{message}</p>' in page
    assert f'value="{fields["title"]}"' in page
    assert client.get(f"/events/{console[0]['id']}", headers=ADMIN).get_json()["questions"] == []


def test_each_question_shows_its_type_and_an_edit_link_that_returns_to_the_event(
    client, console
):
    event, token = console
    add(client, console, title="Rank the talks", **TYPES["ranking"][0])
    edit_url = f"/admin/events/{event['id']}"
    page = client.get(edit_url).get_data(as_text=True)
    assert '<span class="badge badge-type">Ranking</span>' in page
    link = re.search(r'href="(/admin/topics/[^"]+/edit\?next=[^"]+)"', page)[1]
    form = client.get(link.replace("&amp;", "&")).get_data(as_text=True)
    assert f'name="next" value="{edit_url}"' in form and f'href="{edit_url}"' in form
    topic_id = link.split("/")[3]
    topic = client.get(f"/topics/{topic_id}").get_json()
    saved = client.post(f"/admin/topics/{topic_id}/edit", data={
        "csrf_token": token, "next": edit_url, "title": "Rank the sessions", "type": "ranking",
        "rank_top": "2", "vote_limit": "changeable", "results_visibility": "always",
        "choice_id": [c["id"] for c in topic["choices"]],
        "choice": [c["description"] for c in topic["choices"]],
    })  # fmt: skip
    assert saved.status_code == 303 and saved.headers["Location"] == edit_url
    # Somewhere else than an admin page is no place to return to.
    elsewhere = client.get(f"/admin/topics/{topic_id}/edit?next=https://evil.example/")
    form = elsewhere.get_data(as_text=True)
    assert 'name="next" value="/admin"' in form and 'href="https://evil.example' not in form


def test_what_takes_something_away_is_apart_and_confirmed_first(client, console):
    event, token = console
    add(client, console, title="Tea or coffee?", **TYPES["single"][0])
    edit_url = f"/admin/events/{event['id']}"
    page = client.get(edit_url).get_data(as_text=True)
    regular, danger = page.split('<div class="actions actions-danger">', 1)
    danger = danger.split("</div>", 1)[0]
    for what in ("remove", "reset", "delete"):
        url = f"{edit_url}/questions/0/{what}"
        # A link to a page that says what goes, never a button that does it.
        assert f'href="{url}"' in danger and url not in regular
        assert f'action="{url}"' not in page
    confirm = client.get(f"{edit_url}/questions/0/remove").get_data(as_text=True)
    assert "Remove “Tea or coffee?” from the event?" in confirm
    assert "The topic and its votes stay" in confirm
    removed = client.post(f"{edit_url}/questions/0/remove", data={"csrf_token": token})
    assert removed.status_code == 303
    assert client.get(f"/events/{event['id']}", headers=ADMIN).get_json()["questions"] == []


def test_every_admin_page_links_to_events_and_the_events_pages_keep_the_admin_nav(
    client, console
):
    event, _ = console
    topic = make_topic(client)
    add(client, console, title="Q", **TYPES["single"][0])
    for path in ("/admin", "/admin/topics/new", f"/admin/topics/{topic['id']}/edit",
                 "/admin/events", f"/admin/events/{event['id']}",
                 f"/admin/events/{event['id']}/questions/0/remove",
                 f"/admin/events/{event['id']}/questions/0/reset"):  # fmt: skip
        page = client.get(path).get_data(as_text=True)
        nav = re.search(r'<nav class="admin-nav".*?</nav>', page, re.S)
        assert nav, path
        assert 'href="/admin/events">Events</a>' in nav[0], path
        assert 'href="/admin">Topics</a>' in nav[0] and "Sign out" in nav[0], path
        assert '<body class="admin-page">' in page, path
    # Text fields say their type, so the admin pages' field style applies to them.
    console_page = client.get("/admin/events").get_data(as_text=True)
    assert re.search(r'<input id="event-title" name="title" type="text"', console_page)
