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

from core.aws.codec import tally_update, to_item
from core.aws.tables import DDL_DIR, Tables
from core.rules.results import MOST_GIVEN
from core.rules.tally_slots import slot
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


def test_a_text_read_is_one_query_of_the_tallies_one_of_the_index_and_one_batch_get(
    client, voting
):
    topic = text_topic_with_many_answers(client, voting)
    queries = []
    events = voting.store.client.meta.events
    note = lambda params, **_: queries.append(params.get("IndexName"))  # noqa: E731
    batch_gets = []
    keys = lambda params, **_: batch_gets.extend(  # noqa: E731
        len(r["Keys"]) for r in params["RequestItems"].values()
    )
    events.register("before-parameter-build.dynamodb.Query", note)
    events.register("before-parameter-build.dynamodb.BatchGetItem", keys)
    try:
        counts = voting.topics.counts(topic["id"], fresh=True)
    finally:
        events.unregister("before-parameter-build.dynamodb.Query", note)
        events.unregister("before-parameter-build.dynamodb.BatchGetItem", keys)
    # MOST_GIVEN + 1 answers (is there more?) in the index's first page: no second one.
    assert queries == [None, "answers-by-count"]
    assert sum(1 for key in counts if key.startswith("text:")) == MOST_GIVEN + 1
    # And one BatchGetItem of those answers' items reads their spellings.
    assert batch_gets == [MOST_GIVEN + 1]


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


# Look-alikes of one answer, as an audience types them to get past a hide or a list.
STRASSE = ["Straße", "Straße", "Straße", "STRASSE", "strasse", "Stra\u00adße"]
BORING = ["boring", "Boring!", "bor\u200bing", "ｂｏｒｉｎｇ", "b\u043ering", "bor\u00ading"]


def vote_text(client, topic: dict, text: str, **extra):
    return client.post("/votes", json={"topic_id": topic["id"], "text": text, **extra})


def test_look_alikes_count_as_one_answer_shown_as_typed_and_stay_hidden_or_blocked(
    client, voting
):
    topic = make_topic(client, choices=(), type="text", blocked_answers=["badword"])
    for text in STRASSE + BORING + ["great"]:
        assert vote_text(client, topic, text).status_code == 202, text
    blocked = ["b.a.d.w.o.r.d", "bad\u200bword", "ｂａｄｗｏｒｄ", "b\u0430dword", "bad\u00adword"]
    hostile = ["bad\x00word", "ding\x07", "\u202edrowdab", "a" + "\u0301" * 59]
    for text in blocked + hostile:
        refused = vote_text(client, topic, text)
        assert refused.status_code == 422, text
        (error,) = refused.json["detail"]
        assert error["loc"] == ["text"], text
        assert text not in blocked or "not accepted" in error["msg"], text
    assert record_queued(voting) == len(STRASSE) + len(BORING) + 1
    results = results_of(client, topic)
    assert results["answers"] == [
        {"text": "Straße", "count": 6, "cloud": True},  # the spelling given most
        {"text": "boring", "count": 6, "cloud": True},  # a tie of six: the shortest, first
        {"text": "great", "count": 1, "cloud": True},
    ]
    # Hidden by one spelling: every look-alike goes, and none comes back.
    hide = client.post(f"/topics/{topic['id']}/answers/hidden", json={"text": "BORING"},
                       headers=ADMIN)  # fmt: skip
    assert hide.status_code == 200 and hide.json["hidden_answers"] == ["BORING"]
    for text in BORING:
        assert vote_text(client, topic, text).status_code == 202
    record_queued(voting)
    assert [a["text"] for a in results_of(client, topic)["answers"]] == ["Straße", "great"]
    admin = results_of(client, topic, ADMIN)["answers"]
    assert admin[-1] == {"text": "boring", "count": 12, "cloud": True, "hidden": True}
    # Blocked after it was given: every spelling leaves the screen.
    body = {"title": topic["title"], "type": "text", "blocked_answers": ["badword", "STRASSE"]}
    assert client.put(f"/topics/{topic['id']}", json=body, headers=ADMIN).status_code == 200
    assert [a["text"] for a in results_of(client, topic)["answers"]] == ["great"]
    checked = recount(voting.store, topic["id"])
    assert checked.drift == {} and checked.proven["spelt:strasse\x1fStraße"] == 3


def test_a_changed_or_deleted_text_vote_moves_its_spelling(client, voting):
    topic = make_topic(client, choices=(), type="text", vote_limit="changeable")
    for voter, text in (("v1", "nice"), ("v2", "nice"), ("v3", "Nice")):
        assert vote_text(client, topic, text, voter_id=voter).status_code == 202
    record_queued(voting)
    assert results_of(client, topic)["answers"][0]["text"] == "nice"
    # v1 changes its spelling only: the group's count stays, its spellings move.
    assert vote_text(client, topic, "NICE", voter_id="v1").status_code == 202
    assert vote_text(client, topic, "Nice", voter_id="v2").status_code == 202
    record_queued(voting)
    assert results_of(client, topic)["answers"] == [{"text": "Nice", "count": 3, "cloud": True}]
    standing = [v for v in all_votes(topic, client) if v["status"] == "counted"]
    nice = [v["id"] for v in standing if v["text"] == "Nice"]
    for vote_id in nice:
        assert client.delete(f"/votes/{vote_id}", headers=ADMIN).status_code == 200
    assert results_of(client, topic)["answers"] == [{"text": "NICE", "count": 1, "cloud": True}]
    assert recount(voting.store, topic["id"]).drift == {}


def test_recount_fix_re_keys_answers_counted_under_the_old_normal_form(client, voting):
    """Answers counted before the moderation key: records hold the case-folded text, tallies
    sit under it without spellings. `recount --all --fix` moves them to their keys."""
    topic = make_topic(client, choices=(), type="text")
    for number, text in enumerate(["moon", "moon", "great talk"]):
        record = {"id": f"old-{number}", "topic_id": topic["id"], "text": text,
                  "queued_at": "2026-01-01T00:00:00", "created": "2026-01-01T00:00:01",
                  "status": "counted", "shard": 0,
                  "counts": {f"text:{text}": 1, ":voters": 1}}  # fmt: skip
        voting.store.client.put_item(TableName=voting.store.names.votes, Item=to_item(record))
    tallies = voting.store.names.tallies
    for counter, n in (("text:moon", 2), ("text:great talk", 1), (":voters", 3)):
        update = tally_update(tallies, topic["id"], slot(counter, 0), n)
        voting.store.client.update_item(**update)
    before = recount(voting.store, topic["id"])
    assert before.drift  # "moon" is counted under another key now, and no spelling is kept
    runner = client.application.test_cli_runner()
    fixed = runner.invoke(args=["recount", "--all", "--fix"])
    assert fixed.exit_code == 0 and f"{topic['id']}: fixed" in fixed.output, fixed.output
    assert "no drift" in runner.invoke(args=["recount", topic["id"]]).output
    assert vote_text(client, topic, "Moon").status_code == 202
    record_queued(voting)
    assert results_of(client, topic)["answers"] == [
        {"text": "moon", "count": 3, "cloud": True},
        {"text": "great talk", "count": 1, "cloud": True},
    ]
    assert recount(voting.store, topic["id"]).drift == {}


def all_votes(topic: dict, client) -> list[dict]:
    answer = client.get("/votes", query_string={"topic_id": topic["id"], "limit": 100},
                        headers=ADMIN)  # fmt: skip
    assert answer.status_code == 200
    return answer.json["items"]
