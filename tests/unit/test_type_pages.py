"""The pages' per-type ballots and results partials, rendered from hand-written
dicts of results_for()'s shape (the question types' contract): no server, no store.

What each partial must say (limit stated, shares of voters, points and first
preferences, distribution and mean, a word cloud that is a list, standing
with cast and taken), and webapp/audience/ballot_forms.py reading each form into VoteIn fields.
"""

from __future__ import annotations

import re

import pytest
from flask import render_template
from werkzeug.datastructures import MultiDict

from core.rules.topics import with_defaults
from webapp import create_app
from webapp.admin.type_forms import read_rules, rules_data, rules_of
from webapp.audience.ballot_forms import FormInvalid, described, payload_from_form
from webapp.results.views import single_view, typed_view

CHOICES = [
    {"id": "a1", "description": "Apples"},
    {"id": "b2", "description": "Bananas"},
    {"id": "c3", "description": "Cherries <3"},
]


def topic_of(kind: str, **rules) -> dict:
    """A stored topic of this type (the defaults of core/rules/topics.py), open, with `rules`."""
    choices = [] if kind == "text" else CHOICES
    stored = {"id": "t1", "title": "Fruit?", "is_active": True, "type": kind, "choices": choices}
    return {"is_open": True, **with_defaults(stored | rules)}


RESULTS = {
    "multiple": {
        "voters": 4,
        "choices": [
            {"id": "a1", "count": 3, "share": 75},
            {"id": "b2", "count": 2, "share": 50},
            {"id": "c3", "count": 0, "share": 0},
        ],
        "shares_of": "voters",
    },
    "ranking": {
        "voters": 2,
        "choices": [
            {"id": "a1", "points": 4, "first": 1},
            {"id": "b2", "points": 5, "first": 1},
            {"id": "c3", "points": 3, "first": 0},
        ],
        "leaders": ["b2"],
        "runoff": None,
    },
    "rating": {"voters": 3, "scale": [1, 5],
               "distribution": {"1": 0, "2": 0, "3": 1, "4": 1, "5": 1}, "mean": 4.0},
    "text": {
        "voters": 6,
        "answers": [
            {"text": "great", "count": 3, "cloud": True},
            {"text": "too long by far, sorry", "count": 2, "cloud": False},
            {"text": "ok", "count": 1, "cloud": True},
        ],
        "more": False,
    },
    "game": {
        "choices": [
            {"id": "a1", "standing": 2, "cast": 4, "taken": 2},
            {"id": "b2", "standing": 1, "cast": 2, "taken": 1},
            {"id": "c3", "standing": 0, "cast": 0, "taken": 0},
        ],
        "cast": 6,
        "taken": 3,
    },
}  # fmt: skip


@pytest.fixture(scope="module")
def flask_app():
    return create_app({"TESTING": True, "WTF_CSRF_ENABLED": False})


def render_results(flask_app, topic, result, **extra) -> str:
    with flask_app.test_request_context("/"):
        view = {
            "visible": True,
            "mode": "page",
            "poll_url": "/t/t1/results",
            "poll_seconds": 2,
            "partial_etag": "x",
            "typed": typed_view(topic, result),
            "can_moderate": False,
            **extra,
        }
        return render_template("_results.html", topic=topic, results=view)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def summary_of(html: str) -> str:
    return re.search(r'data-summary="([^"]*)"', html).group(1)


def test_multiple_results_show_shares_of_voters_and_say_they_can_pass_100(flask_app):
    html = render_results(flask_app, topic_of("multiple"), RESULTS["multiple"])
    words = text_of(html)
    assert "4 voters" in words
    assert "3 voters · 75%" in words and "2 voters · 50%" in words
    assert "can add up to more than 100%" in words
    assert 'width="75"' in html  # the bar's length is the share
    assert summary_of(html) == "4 voters, most chosen: Apples (75% of voters)"


def test_ranking_results_sort_by_points_and_name_the_leader_and_runoff(flask_app):
    result = dict(RESULTS["ranking"])
    html = render_results(flask_app, topic_of("ranking"), result)
    words = text_of(html)
    assert words.index("Bananas") < words.index("Apples") < words.index("Cherries")
    assert "5 points · 1 first choice" in words and "0 first choices" in words
    assert "Most points: Bananas" in words
    assert "runoff" not in words.lower()
    result["runoff"] = {
        "winner": "a1",
        "rounds": [{"counts": {"a1": 1, "b2": 1, "c3": 0}, "eliminated": ["c3"]},
                   {"counts": {"a1": 2, "b2": 0}, "eliminated": ["b2"]}],
        "ballots": 2,
        "computed": "2026-12-01T00:00:00",
    }  # fmt: skip
    html = render_results(flask_app, topic_of("ranking", is_open=False), result)
    words = text_of(html)
    assert "Runoff winner: Apples" in words
    assert "Round 1:" in words and "Out: Cherries &lt;3" in words
    assert summary_of(html).startswith("Voting closed. 2 voters, runoff winner: Apples")


def test_rating_results_show_each_value_of_the_scale_and_the_mean(flask_app):
    html = render_results(flask_app, topic_of("rating"), RESULTS["rating"])
    words = text_of(html)
    assert "3 ratings" in words and "Average: 4.0 out of 5" in words
    assert len(re.findall(r'class="bar"', html)) == 5  # 1..5, zeros too
    assert summary_of(html) == "3 ratings, average 4.0 out of 5"


def test_rating_each_choice_shows_a_mean_bar_per_choice(flask_app):
    result = {
        "voters": 2,
        "scale": [0, 10],
        "choices": [
            {"id": "a1", "count": 2, "distribution": {str(v): 0 for v in range(11)}, "mean": 7.5},
            {"id": "b2", "count": 0, "distribution": {}, "mean": None},
            {"id": "c3", "count": 1, "distribution": {}, "mean": 10.0},
        ],
    }
    topic = topic_of("rating", rate_each=True, scale_min=0, scale_max=10)
    html = render_results(flask_app, topic, result)
    words = text_of(html)
    assert "average 7.5 · 2 ratings" in words and "average – · 0 ratings" in words
    assert 'width="75.0"' in html and 'width="100.0"' in html
    assert summary_of(html) == "2 voters, best rated: Cherries &lt;3 (10.0)"


def test_text_results_are_a_word_cloud_list_and_a_list_of_longer_answers(flask_app):
    html = render_results(flask_app, topic_of("text"), RESULTS["text"])
    cloud = re.search(r'<ul class="word-cloud"[^>]*>(.*?)</ul>', html, re.S).group(1)
    assert "great" in cloud and "ok" in cloud and "sorry" not in cloud
    assert "cloud-size-5" in cloud and "cloud-size-1" in cloud  # most and least given
    assert "(3 times)" in text_of(cloud)  # the count is read out, not only drawn
    longer = re.search(r'<ul class="answer-list">(.*?)</ul>', html, re.S).group(1)
    assert "too long by far, sorry" in longer
    assert "answer-control" not in html  # no Hide for the audience
    assert summary_of(html) == "6 answers, most given: “great” (3)"
    assert "and more answers" not in html


def test_text_results_say_when_more_answers_were_given_than_listed(flask_app):
    # type_results lists the MOST_GIVEN answers and says whether there are more.
    html = render_results(flask_app, topic_of("text"), {**RESULTS["text"], "more": True})
    assert "and more answers" in text_of(html)


def test_hidden_answers_are_left_out_and_a_presenter_may_show_them_again(flask_app):
    result = {"voters": 3, "answers": [{"text": "rude", "count": 2, "cloud": True, "hidden": True},
                                       {"text": "nice", "count": 1, "cloud": True}],
              "more": False}  # fmt: skip
    audience = render_results(flask_app, topic_of("text"), result)
    assert "rude" not in audience
    presenter = render_results(flask_app, topic_of("text"), result, can_moderate=True)
    cloud = re.search(r'<ul class="word-cloud"[^>]*>(.*?)</ul>', presenter, re.S).group(1)
    assert "rude" not in cloud and 'aria-label="Hide “nice” from the screen"' in cloud
    hidden = re.search(r'<details class="hidden-answers">(.*?)</details>', presenter, re.S)
    assert "rude" in hidden.group(1) and "Show again" in hidden.group(1)


def test_game_results_show_standing_with_cast_and_taken(flask_app):
    html = render_results(flask_app, topic_of("game"), RESULTS["game"])
    words = text_of(html)
    assert "6 cast · 3 taken" in words
    assert "2 standing · 4 cast, 2 taken" in words
    assert summary_of(html) == "6 cast, 3 taken, Apples stands at 2"


def test_single_choice_keeps_its_own_results():
    assert typed_view(topic_of("single"), None) is None
    assert typed_view({"choices": CHOICES}, None) is None


def test_single_choice_results_come_from_the_counts_with_shares_adding_to_100(flask_app):
    topic = topic_of("single")
    counts = {"a1": 1, "b2": 1, "c3": 1}
    html = render_results(flask_app, topic, None, single=single_view(topic, counts))
    words = text_of(html)
    # Three equal choices read 34/33/33 on pages (the API keeps 33/33/33), all tied.
    assert "1 vote · 34%" in words and words.count("1 vote · 33%") == 2
    assert "Tied: Apples, Bananas, Cherries &lt;3" in words  # escaped
    assert summary_of(html) == "3 votes, tied at 34%: Apples, Bananas, Cherries &lt;3"
    leader = single_view(topic, {"b2": 2, "a1": 1})
    assert leader["leaders"] == ["Bananas"] and not leader["tied"]
    assert [c["share"] for c in leader["choices"]] == [33, 67, 0]


# -- ballots --------------------------------------------------------------------


def render_ballot(flask_app, topic, **extra) -> str:
    with flask_app.test_request_context("/"):
        return render_template("_vote.html", topic=topic, vote=None, **extra)


def test_multiple_ballot_is_checkboxes_with_the_limit_stated(flask_app):
    html = render_ballot(flask_app, topic_of("multiple", min_choices=1, max_choices=2))
    assert len(re.findall(r'type="checkbox" name="choice_ids"', html)) == 3
    assert "Choose 1 to 2" in html
    assert "Choose 3" in render_ballot(flask_app, topic_of("multiple", min_choices=3))


def test_ranking_ballot_is_a_rank_select_per_choice_in_rank_order(flask_app):
    html = render_ballot(flask_app, topic_of("ranking"))
    selects = re.findall(r'<select class="rank-select" id="rank-(\w+)"', html)
    assert selects == ["a1", "b2", "c3"]
    # Nothing ranked until the voter ranks it: every select starts at "Not ranked".
    assert 'for="rank-a1"' in html and html.count("Not ranked") == 3 and "selected" not in html
    again = render_ballot(flask_app, topic_of("ranking"), answer={"ranking": ["c3", "a1", "b2"]})
    assert re.findall(r'id="rank-(\w+)"', again) == ["c3", "a1", "b2"]
    top_two = render_ballot(flask_app, topic_of("ranking", rank_top=2))
    assert "Rank your top 2" in top_two and "Not ranked" in top_two
    assert "selected" not in top_two  # top N: the voter picks them


def test_rating_ballot_is_radio_buttons_over_the_scale(flask_app):
    html = render_ballot(flask_app, topic_of("rating", scale_min=0, scale_max=10))
    assert re.findall(r'name="rating" value="(\d+)"', html) == [str(v) for v in range(11)]
    each = render_ballot(flask_app, topic_of("rating", rate_each=True))
    assert len(re.findall(r'name="rating-a1"', each)) == 5
    assert 'aria-labelledby="rate-a1"' in each


def test_text_ballot_is_a_labelled_box_with_the_limit_stated(flask_app):
    html = render_ballot(flask_app, topic_of("text"))
    assert re.search(r'<input[^>]+id="answer-text"[^>]+maxlength="60"', html, re.S)
    assert 'for="answer-text"' in html and "Up to 60 characters" in html


def test_forms_become_vote_fields_per_type():
    form = MultiDict([("choice_ids", "a1"), ("choice_ids", "c3")])
    assert payload_from_form(topic_of("multiple"), form) == {"choice_ids": ["a1", "c3"]}
    form = MultiDict({"rank-a1": "2", "rank-b2": "", "rank-c3": "1"})
    assert payload_from_form(topic_of("ranking"), form) == {"ranking": ["c3", "a1"]}
    assert payload_from_form(topic_of("rating"), MultiDict({"rating": "4"})) == {"rating": 4}
    assert payload_from_form(topic_of("rating"), MultiDict({})) == {}
    each = MultiDict({"rating-a1": "5", "rating-b2": "", "rating-c3": "x"})
    assert payload_from_form(topic_of("rating", rate_each=True), each) == {"rating": {"a1": 5}}
    assert payload_from_form(topic_of("text"), MultiDict({"text": " Hi "})) == {"text": " Hi "}
    assert payload_from_form(topic_of("single"), MultiDict({"choice_id": "a1"})) == {
        "choice_id": "a1"
    }


def test_the_same_rank_twice_is_refused_with_a_message(flask_app):
    with flask_app.test_request_context("/"), pytest.raises(FormInvalid, match="each rank"):
        payload_from_form(topic_of("ranking"), MultiDict({"rank-a1": "1", "rank-b2": "1"}))


def test_a_ranking_with_nothing_ranked_is_refused_not_counted_in_the_listed_order(flask_app):
    untouched = MultiDict({"rank-a1": "", "rank-b2": "", "rank-c3": ""})
    for form in (untouched, MultiDict()):
        with flask_app.test_request_context("/"), pytest.raises(FormInvalid, match="nothing is"):
            payload_from_form(topic_of("ranking"), form)


def test_votes_are_said_in_words(flask_app):
    with flask_app.test_request_context("/"):
        assert described(topic_of("multiple"), {"choice_ids": ["a1", "b2"]}) == "Apples, Bananas"
        assert described(topic_of("ranking"), {"ranking": ["b2", "a1"]}) == "1. Bananas, 2. Apples"
        assert described(topic_of("rating"), {"rating": 4}) == "4 out of 5"
        assert described(topic_of("rating"), {"rating": {"a1": 3}}) == "Apples: 3"
        assert described(topic_of("text"), {"text": "yes"}) == "“yes”"
        assert described(topic_of("single"), {"choice_id": "b2"}) == "Bananas"
        assert described(topic_of("single"), None) is None


# -- the admin form's type rules ----------------------------------------------------


def test_the_admin_form_sends_only_the_chosen_types_rules():
    typed = MultiDict({"type": "multiple", "min_choices": "2", "max_choices": "", "rank_top": "3",
                       "scale_max": "7", "blocked_answers": "spam\n\n  eggs "})  # fmt: skip
    assert rules_data(read_rules(typed)) == {"type": "multiple", "min_choices": 2}
    text = MultiDict({"type": "text", "blocked_answers": "spam\n\n  eggs ", "min_choices": "x"})
    assert rules_data(read_rules(text)) == {"type": "text", "blocked_answers": ["spam", "eggs"]}
    rating = MultiDict({"type": "rating", "scale_min": "0", "scale_max": "10", "rate_each": "on"})
    assert rules_data(read_rules(rating)) == {
        "type": "rating", "scale_min": 0, "scale_max": 10, "rate_each": True
    }  # fmt: skip
    # What is not a number goes to TopicIn as typed, which names the field.
    wrong = MultiDict({"type": "ranking", "rank_top": "two"})
    assert rules_data(read_rules(wrong)) == {"type": "ranking", "rank_top": "two"}
    assert read_rules(MultiDict({"type": "poll"}))["type"] == "single"


def test_a_stored_topic_fills_the_form_back():
    rules = rules_of({"type": "text", "blocked_answers": ["spam", "eggs"], "max_choices": None})
    assert rules["type"] == "text" and rules["blocked_answers"] == "spam\neggs"
    assert rules["max_choices"] == "" and rules_of({})["type"] == "single"
