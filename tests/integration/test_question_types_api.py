"""The JSON API of question types on a real moto server: creating and editing each type,
what a topic and a vote show, the 422s naming a field, rules locked once voted, and
hiding text answers."""

from __future__ import annotations

import csv
import io

import pytest

from tests.helpers.api import ADMIN, make_topic
from tests.helpers.queued import record_queued


def put(client, topic: dict, **changes):
    body = {"title": topic["title"], "choices": topic["choices"], **changes}
    return client.put(f"/topics/{topic['id']}", json=body, headers=ADMIN)


def get(client, topic: dict, **query) -> dict:
    return client.get(f"/topics/{topic['id']}", query_string=query, headers=ADMIN).json


def test_a_single_topic_shows_no_type_and_its_vote_the_original_fields(client):
    topic = make_topic(client)
    assert "type" not in topic and "results" not in get(client, topic, include_votes="true")
    vote = client.post("/votes", json={"topic_id": topic["id"],
                                       "choice_id": topic["choices"][0]["id"]})  # fmt: skip
    assert list(vote.json) == ["id", "topic_id", "choice_id", "queued_at"]


@pytest.mark.parametrize(
    "settings,shown",
    [
        ({"type": "multiple", "max_choices": 2}, {"min_choices": 1, "max_choices": 2}),
        ({"type": "ranking", "rank_top": 2}, {"rank_top": 2, "runoff": None}),
        ({"type": "rating", "rate_each": True, "scale_min": 0, "scale_max": 10},
         {"scale_min": 0, "scale_max": 10, "rate_each": True}),
        ({"type": "game"}, {}),
    ],
)  # fmt: skip
def test_each_type_is_created_and_shows_its_settings(client, settings, shown):
    topic = make_topic(client, choices=("A", "B", "C"), **settings)
    assert topic["type"] == settings["type"]
    assert {k: topic[k] for k in shown} == shown
    assert get(client, topic) == topic


def test_text_and_rating_questions_take_no_choices(client):
    text = make_topic(client, choices=(), type="text", blocked_answers=[" Spoiler "])
    assert text["choices"] == [] and text["blocked_answers"] == ["Spoiler"]  # kept as typed
    public = client.get(f"/topics/{text['id']}").json
    assert "blocked_answers" not in public and "hidden_answers" not in public  # admins only
    rating = make_topic(client, choices=(), type="rating")
    assert (rating["scale_min"], rating["scale_max"], rating["rate_each"]) == (1, 5, False)
    refused = client.post("/topics", headers=ADMIN, json={
        "title": "t", "type": "text", "choices": [{"description": "x"}]})  # fmt: skip
    assert refused.status_code == 422
    assert refused.json["detail"][0]["loc"] == ["choices"]


def test_text_and_rating_questions_may_leave_choices_out(client):
    """A JSON client need not send `choices: []` for a type that takes none."""
    made = {}
    for body in ({"type": "text"}, {"type": "rating"}, {"type": "rating", "rate_each": False},
                 {"type": "rating", "rate_each": None, "scale_max": 7}):  # fmt: skip
        answer = client.post("/topics", headers=ADMIN, json={"title": "One word?", **body})
        assert answer.status_code == 201, (body, answer.text)
        assert answer.json["choices"] == [] and get(client, answer.json)["choices"] == []
        made[body["type"]] = answer.json
    for kind, changes in (("text", {"blocked_answers": ["meh"]}), ("rating", {"scale_max": 3})):
        topic = made[kind]
        body = {"title": "Renamed", "type": kind, **changes}
        answer = client.put(f"/topics/{topic['id']}", json=body, headers=ADMIN)
        assert answer.status_code == 200, answer.text
        stored = get(client, topic)
        assert (stored["title"], stored["type"], stored["choices"]) == ("Renamed", kind, [])
        assert {k: stored[k] for k in changes} == changes


@pytest.mark.parametrize(
    "body",
    [{}, {"type": None}, {"type": "single"}, {"type": "multiple"}, {"type": "ranking"},
     {"type": "game"}, {"type": "rating", "rate_each": True}],
    ids=["original", "null", "single", "multiple", "ranking", "game", "rating-each"],
)  # fmt: skip
def test_types_that_take_choices_still_need_them(client, body):
    """The original's exact 422 for a body without choices, whatever type takes them."""
    answer = client.post("/topics", headers=ADMIN, json={"title": "t", **body})
    assert answer.status_code == 422
    assert answer.json == {"detail": [{"loc": ["choices"], "msg": "Field required",
                                       "type": "missing"}]}  # fmt: skip


def test_an_edit_leaving_choices_out_keeps_the_originals_rule(client):
    """PUT without `type` is the original's body: choices required, even on a text topic.
    A rating left out of rate_each on a topic rating each choice: the stored setting
    needs its choices, so the body alone is fine and the topic refuses it (409)."""
    text = make_topic(client, choices=(), type="text")
    answer = client.put(f"/topics/{text['id']}", json={"title": "t"}, headers=ADMIN)
    assert answer.status_code == 422
    assert answer.json["detail"] == [{"loc": ["choices"], "msg": "Field required",
                                      "type": "missing"}]  # fmt: skip
    each = make_topic(client, choices=("A", "B"), type="rating", rate_each=True)
    answer = client.put(f"/topics/{each['id']}", json={"title": "t", "type": "rating"},
                        headers=ADMIN)  # fmt: skip
    assert answer.status_code == 409 and "rate each of 1 to 20 choices" in answer.json["detail"]
    assert get(client, each)["choices"] == each["choices"]


@pytest.mark.parametrize(
    "body,field",
    [
        ({"type": "game", "vote_limit": "changeable"}, "vote_limit"),
        ({"type": "ranking", "rank_top": 5}, "rank_top"),
        ({"type": "multiple", "min_choices": 3, "max_choices": 2}, "max_choices"),
        ({"type": "rating", "rate_each": True, "scale_min": 1, "scale_max": 11}, "scale_max"),
        ({"type": "poll"}, "type"),
    ],
)
def test_settings_that_do_not_fit_are_a_422_naming_the_field(client, body, field):
    answer = client.post("/topics", headers=ADMIN, json={
        "title": "t", "choices": [{"description": d} for d in "abc"], **body})  # fmt: skip
    assert answer.status_code == 422, answer.text
    assert answer.json["detail"][0]["loc"][0] == field


@pytest.mark.parametrize(
    "kind,body,field,rule",
    [
        ("multiple", {"choice_id": "x"}, "choice_id", "takes choice_ids"),
        ("multiple", {"choice_ids": ["zz"]}, "choice_ids", "not a choice"),
        ("ranking", {"ranking": ["@0"]}, "ranking", "exactly 3"),
        ("ranking", {"ranking": ["@0", "@0", "@1"]}, "ranking", "at most once"),
        ("rating", {"rating": 9}, "rating", "from 1 to 5"),
        ("rating", {"rating": True}, "rating", "whole number"),
        ("text", {"text": "x" * 61}, "text", "1 to 60"),
        ("text", {"text": "putain"}, "text", "not accepted"),
        ("text", {"choice_id": "x"}, "choice_id", "takes text"),
    ],
)
def test_an_answer_that_breaks_the_type_is_a_422_naming_field_and_rule(
    client, kind, body, field, rule
):
    choices = () if kind in ("text", "rating") else ("A", "B", "C")
    topic = make_topic(client, choices=choices, type=kind)
    ids = {f"@{i}": c["id"] for i, c in enumerate(topic["choices"])}
    body = {k: [ids.get(x, x) for x in v] if isinstance(v, list) else v for k, v in body.items()}
    answer = client.post("/votes", json={"topic_id": topic["id"], **body})
    assert answer.status_code == 422, answer.text
    (error,) = answer.json["detail"]
    assert error["loc"][0] == field and rule in error["msg"], error


def test_a_vote_record_shows_its_answer_hidden_like_a_choice(client, voting):
    topic = make_topic(client, choices=("A", "B"), type="ranking",
                       results_visibility="after_vote", vote_limit="one_per_voter")  # fmt: skip
    order = [c["id"] for c in reversed(topic["choices"])]
    body = {"topic_id": topic["id"], "ranking": order, "voter_id": "v1"}
    accepted = client.post("/votes", json=body).json
    assert accepted["ranking"] == order and "choice_id" not in accepted
    record_queued(voting)
    own = client.get(f"/votes/{accepted['id']}?voter_id=v1").json
    assert own["ranking"] == order and own["status"] == "counted"
    stranger = client.get(f"/votes/{accepted['id']}").json
    assert stranger["ranking"] is None and "choice_id" not in stranger


def test_edits_keep_the_type_and_settings_left_out(client):
    topic = make_topic(client, choices=("A", "B", "C"), type="multiple", max_choices=2)
    assert put(client, topic, title="Renamed").status_code == 200
    kept = get(client, topic)
    assert (kept["type"], kept["max_choices"], kept["title"]) == ("multiple", 2, "Renamed")
    assert put(client, topic, max_choices=None).status_code == 200  # null: every choice
    assert get(client, topic)["max_choices"] is None


def test_type_and_rules_are_locked_once_voted_and_free_before(client, voting):
    topic = make_topic(client, choices=("A", "B", "C"), type="multiple")
    # Before any vote counts, a change is free; a vote queued under the old rules
    # is then refused by the worker (reset), never counted under the new ones.
    ids = [c["id"] for c in topic["choices"]]
    queued = client.post("/votes", json={"topic_id": topic["id"], "choice_ids": ids[:2]}).json
    assert put(client, topic, type="ranking").status_code == 200
    record_queued(voting)
    assert voting.vote(queued["id"])["reason"] == "reset"
    assert voting.topics.counts(topic["id"], fresh=True) == {}
    vote = client.post("/votes", json={"topic_id": topic["id"], "ranking": ids})
    assert vote.status_code == 202
    record_queued(voting)
    for change in ({"type": "single"}, {"rank_top": 1},
                   {"choices": [*topic["choices"], {"description": "D"}]}):  # fmt: skip
        locked = put(client, topic, **{"type": "ranking", **change})
        assert locked.status_code == 409, (change, locked.text)
        assert "cannot change" in locked.json["detail"]
    assert put(client, topic, type="ranking", title="Same rules").status_code == 200
    # Adding a choice is a rule of ranking (Borda points) but not of multiple.
    multiple = make_topic(client, choices=("A", "B"), type="multiple")
    client.post("/votes", json={"topic_id": multiple["id"],
                                "choice_ids": [multiple["choices"][0]["id"]]})  # fmt: skip
    record_queued(voting)
    grown = put(client, multiple, choices=[*multiple["choices"], {"description": "C"}])
    assert grown.status_code == 200


def test_hidden_answers_leave_the_public_results_not_the_admins(client, voting):
    topic = make_topic(client, choices=(), type="text")
    for text in ("Nice", "nice", "Rude thing"):
        body = {"topic_id": topic["id"], "text": text}
        assert client.post("/votes", json=body).status_code == 202
    record_queued(voting)
    path = f"/topics/{topic['id']}/answers/hidden"
    assert client.post(path, json={"text": "rude thing"}).status_code == 401
    hidden = client.post(path, json={"text": "  RUDE   thing"}, headers=ADMIN)
    assert hidden.status_code == 200 and hidden.json["hidden_answers"] == ["RUDE thing"]
    public = client.get(f"/topics/{topic['id']}?include_votes=true").json["results"]
    assert public == {"voters": 3, "answers": [{"text": "Nice", "count": 2, "cloud": True}],
                      "more": False}
    admin = get(client, topic, include_votes="true")["results"]["answers"]
    assert admin[1] == {"text": "Rude thing", "count": 1, "cloud": True, "hidden": True}
    shown = client.delete(path, query_string={"text": "Rude thing"}, headers=ADMIN)
    assert shown.status_code == 200 and shown.json["hidden_answers"] == []
    single = make_topic(client)
    refused = client.post(f"/topics/{single['id']}/answers/hidden", json={"text": "x"},
                          headers=ADMIN)  # fmt: skip
    assert refused.status_code == 409 and "Only a text question" in refused.json["detail"]


def test_an_edit_that_only_the_stored_type_refuses_is_a_409(client):
    text = make_topic(client, choices=(), type="text")
    # The body alone is a fine single-choice body; the stored type (text) refuses it.
    refused = put(client, text, choices=[{"description": "A"}, {"description": "B"}])
    assert refused.status_code == 409 and "takes no choices" in refused.json["detail"]
    # rate_each left out keeps the stored one (false): only the stored setting refuses.
    ranking = make_topic(client, choices=("A", "B"), type="ranking")
    refused = put(client, ranking, type="rating")
    assert refused.status_code == 409 and "rating question takes no choices" in refused.text
    # Said in the body itself, it is the body's own fault: a 422 naming the field.
    own = put(client, text, type="text", choices=[{"description": "A"}])
    assert own.status_code == 422 and own.json["detail"][0]["loc"] == ["choices"]


def csv_rows(client, topic: dict) -> list[dict]:
    answer = client.get(f"/topics/{topic['id']}/export.csv", headers=ADMIN)
    assert answer.status_code == 200
    text = answer.get_data(as_text=True).lstrip("\ufeff")
    return list(csv.DictReader(io.StringIO(text, newline="")))


def test_csv_export_has_each_types_measures_and_readable_answers(client, voting):
    ranking = make_topic(client, choices=("A", "B"), type="ranking")
    ids = [c["id"] for c in ranking["choices"]]
    client.post("/votes", json={"topic_id": ranking["id"], "ranking": ids[::-1]})
    rating = make_topic(client, choices=(), type="rating")
    for value in (2, 5):
        client.post("/votes", json={"topic_id": rating["id"], "rating": value})
    text = make_topic(client, choices=(), type="text")
    client.post("/votes", json={"topic_id": text["id"], "text": "=1+1 Cool"})
    record_queued(voting)
    rows = csv_rows(client, ranking)
    results = [(r["choice"], r["measure"], r["vote_count"]) for r in rows if r["row"] == "result"]
    assert results == [("A", "points", "1"), ("A", "first", "0"),
                       ("B", "points", "2"), ("B", "first", "1")]  # fmt: skip
    totals = [(r["measure"], r["vote_count"]) for r in rows if r["row"] == "total"]
    assert totals == [("voters", "1")]
    assert [r["answer"] for r in rows if r["row"] == "vote"] == ["B > A"]
    rows = csv_rows(client, rating)
    measured = {(r["answer"], r["measure"]): r["vote_count"] for r in rows if r["row"] == "result"}
    assert measured[("2", "ratings")] == "1" and measured[("", "mean")] == "3.5"
    assert sorted(r["answer"] for r in rows if r["row"] == "vote") == ["2", "5"]
    rows = csv_rows(client, text)
    # A formula-looking answer is quoted for spreadsheets, as titles are.
    assert [r["answer"] for r in rows if r["row"] != "total"] == ["'=1+1 Cool"] * 2


def test_deleting_a_vote_takes_off_every_count_it_added(client, voting):
    topic = make_topic(client, choices=("A", "B", "C"), type="ranking",
                       vote_limit="one_per_voter")  # fmt: skip
    ids = [c["id"] for c in topic["choices"]]
    kept = client.post("/votes", json={"topic_id": topic["id"], "ranking": ids,
                                       "voter_id": "v1"}).json  # fmt: skip
    gone = client.post("/votes", json={"topic_id": topic["id"], "ranking": ids[::-1],
                                       "voter_id": "v2"}).json  # fmt: skip
    record_queued(voting)
    assert client.delete(f"/votes/{gone['id']}", headers=ADMIN).status_code == 200
    counts = {k: n for k, n in voting.topics.counts(topic["id"], fresh=True).items() if n}
    assert counts == {ids[0]: 1, f"points:{ids[0]}": 3, f"points:{ids[1]}": 2,
                      f"points:{ids[2]}": 1, ":voters": 1}  # fmt: skip
    # The voter's ballot went with it: v2 may vote again; v1 may not.
    again = {"topic_id": topic["id"], "ranking": ids, "voter_id": "v2"}
    assert client.post("/votes", json=again).status_code == 202
    assert client.post("/votes", json={**again, "voter_id": "v1"}).status_code == 409
    assert kept["ranking"] == ids
