"""The pages of every question type with the Flask test client, on the moto server.

A form post per type (no JavaScript: 303, then counted by the worker's own
code; htmx: the 202 fragment), the type's results partial, refusals shown as
an HTML message next to the form with nothing queued, the presenter's
hide/show of an open-text answer, the event stage and the embed voting on
typed topics, and the admin form creating and editing every type.
"""

from __future__ import annotations

import re

import pytest

from tests.helpers.api import ADMIN, HX, make_topic, sign_in, token_from
from tests.helpers.queued import queued_bodies, record_queued

FRUIT = ["Apples", "Bananas", "Cherries"]


def post_vote(client, topic, data, headers=None, path=None):
    page = client.get(f"/t/{topic['id']}")
    return client.post(
        path or f"/t/{topic['id']}/vote",
        data={"csrf_token": token_from(page.text), **data},
        headers=headers or {},
    )


def ids(topic):
    return [c["id"] for c in topic["choices"]]


def results_html(client, topic) -> str:
    return client.get(f"/t/{topic['id']}/results", headers=HX).text


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def counted_page(client, voting, topic, answer) -> str:
    assert answer.status_code == 303, answer.text
    assert record_queued(voting) == 1
    page = client.get(answer.headers["Location"])
    assert "was counted" in page.text
    return text_of(page.text)


def test_multiple_select_form_votes_and_results_show_shares_of_voters(client, voting):
    topic = make_topic(client, "Fruit?", FRUIT, type="multiple", max_choices=2)
    a, b, c = ids(topic)
    page = client.get(f"/t/{topic['id']}")
    assert page.text.count('name="choice_ids"') == 3 and "Choose 1 to 2" in page.text
    words = counted_page(client, voting, topic, post_vote(client, topic, {"choice_ids": [a, c]}))
    assert "Your vote for Apples, Cherries was counted." in words
    answer = post_vote(client, topic, {"choice_ids": [a]}, headers=HX)
    assert answer.status_code == 202 and 'id="vote-status"' in answer.text
    assert record_queued(voting) == 1
    results = text_of(results_html(client, topic))
    assert "2 voters" in results and "2 voters · 100%" in results and "1 voter · 50%" in results
    assert "more than 100%" in results


def test_too_many_picks_are_refused_next_to_the_form_and_kept(client, voting):
    topic = make_topic(client, "Fruit?", FRUIT, type="multiple", max_choices=2)
    every = ids(topic)
    for headers in ({}, HX):
        answer = post_vote(client, topic, {"choice_ids": every}, headers=headers)
        assert answer.status_code == 422
        assert re.search(r"data-error-message>\s*Choose between 1 and 2 choices.", answer.text)
        assert answer.text.count(" checked") == 3  # the voter's picks stay ticked
    assert queued_bodies(voting) == []


def test_ranking_form_votes_and_results_show_points(client, voting):
    topic = make_topic(client, "Rank", FRUIT, type="ranking")
    a, b, c = ids(topic)
    form = {f"rank-{c}": "1", f"rank-{a}": "2", f"rank-{b}": "3"}
    words = counted_page(client, voting, topic, post_vote(client, topic, form))
    assert "1. Cherries, 2. Apples, 3. Bananas" in words
    results = text_of(results_html(client, topic))
    assert "3 points · 1 first choice" in results and "Most points: Cherries" in results
    same_rank = {f"rank-{a}": "1", f"rank-{b}": "1", f"rank-{c}": "2"}
    refused = post_vote(client, topic, same_rank)
    assert refused.status_code == 422 and "Give each rank to one choice only." in refused.text
    assert queued_bodies(voting) == []


def untouched(page: str) -> dict:
    """What a browser sends from the page's rank selects left as they are: each select's
    selected option, else its first (HTML's rule for a select without one)."""
    sent = {}
    selects = re.findall(r'<select[^>]*name="(rank-[^"]+)"[^>]*>(.*?)</select>', page, re.S)
    for name, options in selects:
        values = re.findall(r'<option value="([^"]*)"( selected)?', options)
        sent[name] = next((v for v, chosen in values if chosen), values[0][0])
    return sent


@pytest.mark.parametrize("rules", [{}, {"rank_top": 2}])
def test_a_ranking_sent_untouched_is_refused_and_never_counted(client, voting, rules):
    topic = make_topic(client, "Rank", FRUIT, type="ranking", **rules)
    form = untouched(client.get(f"/t/{topic['id']}").text)
    assert sorted(form) == sorted(f"rank-{i}" for i in ids(topic))
    for headers in ({}, HX):
        refused = post_vote(client, topic, form, headers=headers)
        assert refused.status_code == 422, refused.text
        assert re.search(r"data-error-message>\s*Rank the choices before you vote: nothing is "
                         r"ranked yet\.", refused.text)  # fmt: skip
    assert queued_bodies(voting) == []


def test_rating_form_votes_and_a_missing_rating_is_refused(client, voting):
    topic = make_topic(client, "Talk?", [], type="rating", scale_min=0, scale_max=10)
    refused = post_vote(client, topic, {})
    assert refused.status_code == 422 and "Pick a rating from 0 to 10." in refused.text
    words = counted_page(client, voting, topic, post_vote(client, topic, {"rating": "7"}))
    assert "7 out of 10" in words
    results = text_of(results_html(client, topic))
    assert "1 rating" in results and "Average: 7.0 out of 10" in results


def test_open_text_counts_answers_together_and_refuses_blocked_ones(client, voting):
    topic = make_topic(client, "One word?", [], type="text", blocked_answers=["boring"])
    for text in ("Great", "  great "):
        assert post_vote(client, topic, {"text": text}).status_code == 303
    assert record_queued(voting) == 2
    refused = post_vote(client, topic, {"text": "Boring"})
    assert refused.status_code == 422 and "not accepted" in refused.text
    assert queued_bodies(voting) == []
    html = results_html(client, topic)
    cloud = re.search(r'<ul class="word-cloud"[^>]*>(.*?)</ul>', html, re.S).group(1)
    assert "Great" in cloud and "(2 times)" in text_of(cloud)  # as typed, ties to "G"


def test_a_presenter_hides_an_answer_and_shows_it_again(client, voting):
    topic = make_topic(client, "One word?", [], type="text")
    for text in ("nice", "rude"):
        post_vote(client, topic, {"text": text})
    assert record_queued(voting) == 2
    page = client.get(f"/t/{topic['id']}")
    refused = client.post(f"/t/{topic['id']}/answers",
                          data={"csrf_token": token_from(page.text), "text": "rude"})  # fmt: skip
    assert refused.status_code == 403  # the audience cannot hide answers
    sign_in(client)
    page = client.get(f"/t/{topic['id']}/present")
    hidden = client.post(
        f"/t/{topic['id']}/answers",
        data={"csrf_token": token_from(page.text), "text": "rude", "view": "present"},
        headers=HX,
    )
    assert hidden.status_code == 200
    cloud = re.search(r'<ul class="word-cloud"[^>]*>(.*?)</ul>', hidden.text, re.S).group(1)
    assert "rude" not in cloud and "nice" in cloud
    # On the admin's own page the hidden answer is listed, to show it again.
    own = results_html(client, topic)
    assert re.search(r'<details class="hidden-answers">.*rude', own, re.S)
    shown = client.post(
        f"/t/{topic['id']}/answers",
        data={"csrf_token": token_from(page.text), "text": "rude", "action": "show"},
    )
    assert shown.status_code == 303
    client.post("/admin/logout", data={"csrf_token": token_from(page.text)})
    assert "rude" in results_html(client, topic)


def test_game_votes_with_buttons_and_shows_standing(client, voting):
    topic = make_topic(client, "Tug", ["Red", "Blue"], type="game")
    red, blue = ids(topic)
    page = client.get(f"/t/{topic['id']}")
    assert page.text.count('name="choice_id"') == 2
    counted_page(client, voting, topic, post_vote(client, topic, {"choice_id": red}))
    results = text_of(results_html(client, topic))
    assert "1 cast · 0 taken" in results and "1 standing · 1 cast, 0 taken" in results


def test_new_answers_change_the_results_etag(client, voting):
    topic = make_topic(client, "One word?", [], type="text")
    first = client.get(f"/t/{topic['id']}/results", headers=HX)
    post_vote(client, topic, {"text": "hello"})
    record_queued(voting)
    again = client.get(
        f"/t/{topic['id']}/results", headers={**HX, "If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 200 and "hello" in again.text


def test_the_event_stage_votes_on_a_typed_question(client, voting, admin):
    topic = make_topic(client, "Fruit?", FRUIT, type="multiple")
    made = client.post("/events", json={"title": "Talk", "questions": [topic["id"]]}, headers=admin)
    event = made.get_json()
    moved = client.post(f"/events/{event['id']}/position", json={"to": 0}, headers=admin)
    assert moved.status_code == 200
    page = client.get(f"/{event['code']}")
    assert 'name="choice_ids"' in page.text
    a, b, c = ids(topic)
    answer = client.post(
        f"/{event['code']}/vote/{topic['id']}",
        data={"csrf_token": token_from(page.text), "choice_ids": [a, b]},
        headers=HX,
    )
    assert answer.status_code == 202 and "Apples, Bananas" in answer.text
    assert record_queued(voting) == 1


def test_the_embed_votes_on_a_rating(client, voting):
    topic = make_topic(client, "Talk?", [], type="rating")
    page = client.get(f"/t/{topic['id']}/embed")
    assert page.text.count('name="rating"') == 5
    answer = client.post(f"/t/{topic['id']}/embed/vote", data={"rating": "4"}, headers=HX)
    assert answer.status_code == 202 and "4 out of 5" in answer.text
    assert record_queued(voting) == 1


# -- the admin form -------------------------------------------------------------------


def form_post(client, path, **fields):
    page = client.get(path)
    data = {"csrf_token": token_from(page.text), "save": "1", "is_active": "on",
            "vote_limit": "unlimited", "results_visibility": "always", **fields}  # fmt: skip
    return client.post(path, data=data)


@pytest.mark.parametrize(
    ("fields", "stored"),
    [
        ({"type": "multiple", "min_choices": "1", "max_choices": "2", "choice": FRUIT},
         {"type": "multiple", "max_choices": 2}),
        ({"type": "ranking", "rank_top": "2", "choice": FRUIT}, {"type": "ranking", "rank_top": 2}),
        ({"type": "rating", "scale_min": "0", "scale_max": "10", "choice": ["", ""]},
         {"type": "rating", "scale_min": 0, "scale_max": 10, "choices": []}),
        ({"type": "rating", "rate_each": "on", "choice": ["Keynote"]},
         {"type": "rating", "rate_each": True}),
        ({"type": "text", "blocked_answers": "spam\r\neggs", "choice": ["", ""]},
         {"type": "text", "blocked_answers": ["spam", "eggs"], "choices": []}),
        ({"type": "game", "choice": ["Red", "Blue"]}, {"type": "game"}),
    ],
)  # fmt: skip
def test_the_admin_form_creates_every_type(client, fields, stored):
    sign_in(client)
    title = f"A {fields['type']} question"
    answer = form_post(client, "/admin/topics/new", title=title, **fields)
    assert answer.status_code == 303, text_of(answer.text)
    made = next(t for t in client.get("/topics").get_json() if t["title"] == title)
    topic = client.get(f"/topics/{made['id']}", headers=ADMIN).get_json()
    for key, value in stored.items():
        assert topic[key] == value, key
    edit = client.get(f"/admin/topics/{made['id']}/edit")
    assert f'<option value="{fields["type"]}" selected' in edit.text


def test_the_admin_form_shows_a_bad_rule_next_to_its_field(client):
    sign_in(client)
    answer = form_post(client, "/admin/topics/new", title="Bad", type="multiple",
                       min_choices="3", max_choices="2", choice=FRUIT)  # fmt: skip
    assert answer.status_code == 422
    assert 'class="field-error"' in answer.text or "notice-error" in answer.text
    assert '<option value="multiple" selected' in answer.text  # what was typed stays


def choice_rows_of(html: str) -> str:
    """The form's choices fieldset tag (its hidden/disabled state)."""
    return re.search(r"<fieldset[^>]*data-choice-rows[^>]*>", html).group(0)


def shown_rules(html: str) -> list[str]:
    """The types whose rule sections the page shows (not `hidden`)."""
    return re.findall(r'data-rules-for="(\w+)"(?! hidden)>', html)


def test_the_admin_form_shows_no_choice_rows_for_a_type_that_takes_none(client):
    """Server-rendered for the chosen type (no JavaScript): "Show this type's settings"
    renders the form again, with that type's rules and, for text and a rating of the
    question, no choice rows (hidden and disabled, so none are sent)."""
    sign_in(client)
    blank = client.get("/admin/topics/new").text
    assert "hidden" not in choice_rows_of(blank) and shown_rules(blank) == []
    assert blank.count('name="choice"') == 2
    for fields, rows_hidden, rules in [
        ({"type": "text"}, True, ["text"]),
        ({"type": "rating"}, True, ["rating"]),
        ({"type": "rating", "rate_each": "on"}, False, ["rating"]),
        ({"type": "multiple"}, False, ["multiple"]),
    ]:
        page = form_post(client, "/admin/topics/new", title="Kept as typed", retype="1", **fields)
        assert page.status_code == 200, fields
        assert f'<option value="{fields["type"]}" selected' in page.text
        assert 'value="Kept as typed"' in page.text
        assert ("hidden disabled" in choice_rows_of(page.text)) is rows_hidden, fields
        assert shown_rules(page.text) == rules, fields
    assert [t for t in client.get("/topics").get_json() if t["title"] == "Kept as typed"] == []
    # A row holding a choice stays in sight for a type that takes none, with its error.
    refused = form_post(client, "/admin/topics/new", title="t", type="text", choice=["A", ""])
    assert refused.status_code == 422
    assert "hidden" not in choice_rows_of(refused.text)
    assert "This type of question takes no choices" in refused.text


def test_the_admin_form_creates_and_edits_a_text_question_with_no_choice_rows_posted(client):
    sign_in(client)
    made = form_post(client, "/admin/topics/new", title="One word?", type="text")
    assert made.status_code == 303, text_of(made.text)
    topic = next(t for t in client.get("/topics").get_json() if t["title"] == "One word?")
    assert (topic["type"], topic["choices"]) == ("text", [])
    edit = client.get(f"/admin/topics/{topic['id']}/edit").text
    assert "hidden disabled" in choice_rows_of(edit) and shown_rules(edit) == ["text"]
    path = f"/admin/topics/{topic['id']}/edit"
    saved = form_post(client, path, title="Two words?", type="text")
    assert saved.status_code == 303, text_of(saved.text)
    stored = client.get(f"/topics/{topic['id']}", headers=ADMIN).get_json()
    assert (stored["title"], stored["type"], stored["choices"]) == ("Two words?", "text", [])


def test_lists_count_votes_not_counters(client, voting):
    """A multiple-select vote of two picks is one vote on the home page and the admin list
    (its tallies hold three counters: two choices and the voters)."""
    topic = make_topic(client, "Counted once?", FRUIT, type="multiple")
    a, b, _ = ids(topic)
    post_vote(client, topic, {"choice_ids": [a, b]})
    assert record_queued(voting) == 1
    card = re.search(r'<li class="topic-card[^"]*">(?:(?!</li>).)*Counted once\?.*?</li>',
                     client.get("/").text, re.S).group(0)  # fmt: skip
    assert "1 vote<" in card
    sign_in(client)
    row = client.get("/admin").text
    assert re.search(rf'id="topic-{topic["id"]}".*?<td class="num"[^>]*>1</td>', row, re.S)


def test_a_changeable_voter_sees_their_answer_in_the_form(client, voting):
    topic = make_topic(client, "Fruit?", FRUIT, type="multiple", vote_limit="changeable")
    a, b, c = ids(topic)
    post_vote(client, topic, {"choice_ids": [a, c]})
    assert record_queued(voting) == 1
    page = client.get(f"/t/{topic['id']}").text
    assert "You have voted: your answer is shown below." in page
    checked = re.findall(r'value="([^"]+)" checked', page)
    assert checked == [a, c]
    assert "Change your vote" in page and "<fieldset" in page and " disabled" not in page


def test_a_one_per_voter_ballot_of_another_type_is_closed_after_the_vote(client, voting):
    topic = make_topic(client, "Talk?", [], type="rating", vote_limit="one_per_voter")
    post_vote(client, topic, {"rating": "4"})
    assert record_queued(voting) == 1
    page = client.get(f"/t/{topic['id']}").text
    assert re.search(r'<fieldset class="choices ballot-rating" disabled data-voted>', page)
    assert re.search(r'name="rating" value="4" checked', page)


@pytest.mark.parametrize(
    ("kind", "rules", "form"),
    [
        ("text", {}, {"text": "x" * 5000}),
        ("text", {}, {"text": "   "}),
        ("ranking", {}, {"rank-nope": "1", "rank-x": "abc"}),
        ("multiple", {}, {"choice_ids": ["../../etc", "<script>"]}),
        ("rating", {}, {"rating": "99"}),
        ("rating", {}, {"rating": "-1"}),
        ("rating", {"rate_each": True}, {"rating": "3"}),
        ("single", {}, {"choice_ids": ["a"]}),
    ],
)
def test_hostile_forms_of_every_type_get_a_422_message_and_queue_nothing(
    client, voting, kind, rules, form
):
    choices = [] if kind == "text" or (kind == "rating" and not rules) else FRUIT
    topic = make_topic(client, "Hostile?", choices, type=kind, **rules)
    for headers in ({}, HX):
        answer = post_vote(client, topic, form, headers=headers)
        assert answer.status_code == 422, answer.text[:300]
        assert "data-error-message" in answer.text and "<script>" not in answer.text
    assert queued_bodies(voting) == []


def test_hiding_an_answer_of_a_question_without_answers_is_a_409(client, voting):
    topic = make_topic(client, "Plain?", FRUIT)
    sign_in(client)
    page = client.get(f"/t/{topic['id']}")
    answer = client.post(f"/t/{topic['id']}/answers",
                         data={"csrf_token": token_from(page.text), "text": "Apples"})  # fmt: skip
    assert answer.status_code == 409
    assert client.get(f"/topics/{topic['id']}", headers=ADMIN).get_json().get("hidden_answers") in (
        None,
        [],
    )
