"""A text question's results read the answers given most, whatever the vocabulary, on a
real moto server: the tallies Query stops before the answers' slots, and the answers come
from the tallies GSI answers-by-count (ddl/tallies.json), highest count first.

The export and recount still see every answer; an existing tallies table made before the
index gets it from init-aws (Tables.create).
"""

from __future__ import annotations

import copy
import csv
import io
import json

from core.aws.tables import DDL_DIR, Tables
from core.rules.results import MOST_GIVEN
from core.services.repair import recount
from tests.helpers.api import ADMIN, make_topic
from tests.helpers.queued import record_queued

# MOST_GIVEN answers given twice each, and five given once: the five are not listed.
TOP = [f"top {i:02}" for i in range(MOST_GIVEN)]
RARE = [f"rare {i}" for i in range(5)]


def text_topic_with_many_answers(client, voting) -> dict:
    topic = make_topic(client, choices=(), type="text")
    for text in TOP * 2 + RARE:
        body = {"topic_id": topic["id"], "text": text}
        assert client.post("/votes", json=body).status_code == 202
    record_queued(voting)
    return topic


def results_of(client, topic: dict, headers=None) -> dict:
    answer = client.get(f"/topics/{topic['id']}?include_votes=true", headers=headers or {})
    assert answer.status_code == 200, answer.text
    return answer.json["results"]


def test_results_list_the_most_given_answers_and_say_there_are_more(client, voting):
    topic = text_topic_with_many_answers(client, voting)
    results = results_of(client, topic)
    assert results["voters"] == 2 * MOST_GIVEN + len(RARE) and results["more"] is True
    assert [a["text"] for a in results["answers"]] == TOP  # count 2 each, then by text
    assert {a["count"] for a in results["answers"]} == {2}
    # The results Query reads no answer: what it returns does not grow with them.
    slots = voting.store.get_slot_counts(topic["id"])
    assert [key.split("#")[0] for key in slots] == [":voters"]
    every = voting.store.get_counts(topic["id"], answers=True)
    assert sum(1 for key in every if key.startswith("text:")) == MOST_GIVEN + len(RARE)


def test_a_text_read_is_one_query_of_the_tallies_and_one_of_the_index(client, voting):
    topic = text_topic_with_many_answers(client, voting)
    queries = []
    events = voting.store.client.meta.events
    note = lambda params, **_: queries.append(params.get("IndexName"))  # noqa: E731
    events.register("before-parameter-build.dynamodb.Query", note)
    try:
        counts = voting.topics.counts(topic["id"], fresh=True)
    finally:
        events.unregister("before-parameter-build.dynamodb.Query", note)
    # MOST_GIVEN + 1 answers (is there more?) in the index's first page: no second one.
    assert queries == [None, "answers-by-count"]
    assert sum(1 for key in counts if key.startswith("text:")) == MOST_GIVEN + 1


def test_a_hidden_answer_makes_room_for_the_next_and_admins_still_see_it(client, voting):
    topic = text_topic_with_many_answers(client, voting)
    path = f"/topics/{topic['id']}/answers/hidden"
    assert client.post(path, json={"text": TOP[0]}, headers=ADMIN).status_code == 200
    public = [a["text"] for a in results_of(client, topic)["answers"]]
    assert len(public) == MOST_GIVEN and TOP[0] not in public
    # The next given comes in: one of the rare answers (which, among equal counts, is
    # the index's choice: DynamoDB does not order ties).
    assert public[:-1] == TOP[1:] and public[-1] in RARE
    admin = results_of(client, topic, ADMIN)["answers"]
    assert admin[-1] == {"text": TOP[0], "count": 2, "cloud": True, "hidden": True}


def test_an_answer_whose_votes_moved_away_leaves_the_list(client, voting):
    topic = make_topic(client, choices=(), type="text", vote_limit="changeable")
    for voter, text in (("v1", "first"), ("v2", "second"), ("v1", "second")):
        body = {"topic_id": topic["id"], "voter_id": voter, "text": text}
        assert client.post("/votes", json=body).status_code == 202
        record_queued(voting)
    results = results_of(client, topic)
    assert results["answers"] == [{"text": "second", "count": 2, "cloud": True}]
    assert results["more"] is False


def test_export_and_recount_see_every_answer(client, voting):
    topic = text_topic_with_many_answers(client, voting)
    answer = client.get(f"/topics/{topic['id']}/export.csv", headers=ADMIN)
    rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))
    listed = {r["answer"]: r["vote_count"] for r in rows if r["row"] == "result"}
    assert listed == {**dict.fromkeys(TOP, "2"), **dict.fromkeys(RARE, "1")}
    checked = recount(voting.store, topic["id"])
    assert checked.drift == {} and checked.counted == 2 * MOST_GIVEN + len(RARE)
    assert checked.proven[f"text:{RARE[4]}"] == 1


def test_init_aws_adds_the_answers_index_to_a_tallies_table_made_without_it(voting):
    """A tallies table made by a version before the index (as its ddl then was) gets it."""
    tables = Tables(voting.store.client, "old-")
    spec = json.loads((DDL_DIR / "tallies.json").read_text())
    older = copy.deepcopy(spec)
    del older["GlobalSecondaryIndexes"]
    older["AttributeDefinitions"] = older["AttributeDefinitions"][:2]
    older["TableName"] = "old-tallies"
    voting.store.client.create_table(**older)
    created = tables.create()
    assert "old-tallies" not in created and "old-topics" in created
    table = voting.store.client.describe_table(TableName="old-tallies")["Table"]
    indexes = {i["IndexName"]: i["KeySchema"] for i in table["GlobalSecondaryIndexes"]}
    assert indexes == {"answers-by-count": spec["GlobalSecondaryIndexes"][0]["KeySchema"]}
    assert tables.create() == []  # and a second run changes nothing
