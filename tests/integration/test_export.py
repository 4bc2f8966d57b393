"""Export and import: the CSV download and CLI, DynamoDB JSON lines backups, batched writes.

Against the moto server: the Flask app in-process for the route and the CLI
commands (click's runner), and real gunicorn + worker.py processes for the
round trip (export, import into a fresh stack, the same API answers over HTTP).
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from core.aws.tables import BATCH_WRITE_ATTEMPTS, TABLES, Tables
from core.rules.errors import StoreUnavailable
from core.services import backups, csv_export
from core.services.backups import BadExport, ExportDir, item_line, load_export, parse_item
from tests.helpers.accounts import bearer, make_user
from tests.helpers.api import ADMIN, all_votes, api_answers, api_vote, make_topic, populate, sign_in
from tests.helpers.queued import queued_vote, record_queued
from tests.helpers.stacks import new_stack
from webapp import create_app


def read_csv(text: str) -> list[dict]:
    assert text.startswith(csv_export.BOM)
    return list(csv.DictReader(io.StringIO(text[len(csv_export.BOM) :], newline="")))


# -- DynamoDB JSON lines ---------------------------------------------------------------


def test_item_line_is_dynamodb_json_and_round_trips_every_type():
    item = {
        "id": {"S": "t1"},
        "n": {"N": "-12.5"},
        "blob": {"B": b"\x00\xffbytes"},
        "flag": {"BOOL": False},
        "nothing": {"NULL": True},
        "names": {"SS": ["a", "b"]},
        "nums": {"NS": ["1", "2"]},
        "blobs": {"BS": [b"x", b"y"]},
        "list": {"L": [{"S": "é"}, {"M": {"deep": {"N": "3"}}}]},
        "map": {"M": {"k": {"S": "v"}}},
    }
    line = item_line(item)
    assert line.endswith("\n") and line.count("\n") == 1
    data = json.loads(line)
    assert set(data) == {"Item"}
    assert data["Item"]["blob"] == {"B": "AP9ieXRlcw=="}  # base64, as AWS's export writes it
    assert parse_item(data, "topics") == item


@pytest.mark.parametrize(
    "data, message",
    [
        ({"id": {"S": "x"}}, "expected an object"),
        ({"Item": {"title": {"S": "no id"}}}, "key attribute 'id'"),
        ({"Item": {"id": {"N": "1"}}}, "key attribute 'id'"),
        ({"Item": {"id": {"S": "x"}, "n": {"N": "ten"}}}, "bad N value"),
        ({"Item": {"id": {"S": "x"}, "s": "plain"}}, "not a DynamoDB JSON value"),
        ({"Item": {"id": {"S": "x"}, "ss": {"SS": []}}}, "bad SS value"),
        ({"Item": {"id": {"S": "x"}}, "extra": 1}, "expected an object"),
    ],
)
def test_parse_item_refuses_what_dynamodb_would_not_take(data, message):
    with pytest.raises(BadExport, match=re.escape(message)):
        parse_item(data, "topics")


# -- CSV ---------------------------------------------------------------------------------


def test_csv_route_has_results_then_every_vote_record(client, voting):
    topic = make_topic(client, "=SUM(A1) or tabs?", ("Tabs ✓", "-Spaces"))
    ids = [api_vote(client, topic, i) for i in (0, 1, 1)]
    record_queued(voting)
    closed = {**topic, "is_active": False}
    assert client.put(f"/topics/{topic['id']}", json=closed, headers=ADMIN).status_code == 200
    # Queued after the close (as a web process's stale copy may): recorded as rejected.
    late_vote = queued_vote(topic, 0)
    voting.queue.send(late_vote)
    late = late_vote["id"]
    record_queued(voting)

    answer = client.get(f"/topics/{topic['id']}/export.csv", headers=ADMIN)
    assert answer.status_code == 200
    assert answer.is_streamed
    assert answer.mimetype == "text/csv"
    assert answer.headers["Content-Disposition"].startswith("attachment; filename=sum-a1-or-tabs-")
    rows = read_csv(answer.get_data(as_text=True))
    assert list(rows[0]) == list(csv_export.HEADER)

    results = client.get(f"/topics/{topic['id']}", query_string={"include_votes": "1"}).get_json()
    # Typed text that a spreadsheet would run as a formula starts with a quote.
    summary = [(r["row"], r["topic"], r["choice"], r["vote_count"], r["percent"]) for r in rows[:3]]
    assert summary == [
        ("result", "'=SUM(A1) or tabs?", "Tabs ✓", "1", str(results["choices"][0]["votes"])),
        ("result", "'=SUM(A1) or tabs?", "'-Spaces", "2", str(results["choices"][1]["votes"])),
        ("total", "'=SUM(A1) or tabs?", "", str(results["total_votes"]), ""),
    ]
    records = all_votes(lambda p, q: client.get(p, query_string=q).get_json(), topic["id"])
    vote_rows = rows[3:]
    assert sorted(r["vote_id"] for r in vote_rows) == sorted([*ids, late])
    exported = {v["vote_id"]: (v["choice_id"], v["created"], v["status"], v["reason"])
                for v in vote_rows}  # fmt: skip
    assert exported == {
        r["id"]: (r["choice_id"], r["created"], r["status"], r.get("reason", "")) for r in records
    }
    assert [r["created"] for r in vote_rows] == sorted(r["created"] for r in vote_rows)
    assert {r["vote_id"]: r["status"] for r in vote_rows}[late] == "rejected"


def test_csv_route_is_admin_only_and_404s_unknown_topics(client):
    topic = make_topic(client)
    path = f"/topics/{topic['id']}/export.csv"
    for headers in ({}, {"X-API-Key": "wrong"}):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 401
        assert "admin key" in answer.get_json()["detail"]
    for missing in ("no-such-topic", "bad%20id"):
        answer = client.get(f"/topics/{missing}/export.csv", headers=ADMIN)
        assert answer.status_code == 404
        assert answer.get_json()["detail"]


def test_csv_route_is_in_the_openapi_document_as_an_admin_download(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    operation = paths["/topics/{topic_id}/export.csv"]["get"]
    assert "text/csv" in operation["responses"]["200"]["content"]
    assert operation["security"]


def test_admin_page_links_each_topic_to_its_csv(client):
    topics = [make_topic(client, "First"), make_topic(client, "Second")]
    assert sign_in(client).status_code == 303
    page = client.get("/admin").text
    for topic in topics:
        link = f"/topics/{topic['id']}/export.csv"
        assert f'href="{link}"' in page
        # The signed-in browser follows the link without an API key.
        download = client.get(link)
        assert download.status_code == 200
        assert read_csv(download.get_data(as_text=True))[0]["topic"] == topic["title"]


def flask_cli(app, *args, check=True):
    """`flask --app webapp ARGS` through click's runner (flaskr's `runner` fixture)."""
    answer = app.test_cli_runner().invoke(args=list(args))
    if check:
        assert answer.exit_code == 0, (answer.output, answer.exception)
    return answer


def app_for(env):
    """The app for another stack (its own TABLE_PREFIX) on the same moto server."""
    return create_app({"TESTING": True, "table_prefix": env["TABLE_PREFIX"]})


def test_cli_csv_of_one_topic_is_the_route_content_and_all_topics_has_each(
    app, client, voting, tmp_path
):
    first, second = make_topic(client, "First"), make_topic(client, "Second")
    api_vote(client, first, 0)
    api_vote(client, second, 1)
    record_queued(voting)
    out = tmp_path / "first.csv"
    flask_cli(app, "export", "--topic", first["id"], "--output", str(out))
    route = client.get(f"/topics/{first['id']}/export.csv", headers=ADMIN)
    assert out.read_bytes() == route.get_data()
    everything = flask_cli(app, "export").stdout
    rows = read_csv(everything)
    assert {r["topic_id"] for r in rows if r["row"] == "vote"} == {first["id"], second["id"]}
    missing = flask_cli(app, "export", "--topic", "nope", check=False)
    assert missing.exit_code == 1 and "no topic with id 'nope'" in missing.stderr


# -- export / import round trip ---------------------------------------------------------


def test_jsonl_export_then_import_into_a_fresh_stack_gives_identical_answers(
    app, procs, http, moto_endpoint, tmp_path
):
    base = procs.web()
    procs.worker()
    _, vote_ids = populate(http, base)
    make_user(http, "ada@example.org", base=base)  # the users table goes along
    ada = bearer(http, "ada@example.org", base=base)
    before = api_answers(http, base)

    backup = tmp_path / "backup"
    flask_cli(app, "export", "--format", "jsonl", "--output", str(backup))
    manifest = json.loads((backup / backups.MANIFEST).read_text())
    assert manifest["format"] == "DYNAMODB_JSON"
    assert manifest["tables"]["votes"]["itemCount"] == len(vote_ids)
    for line in (backup / "votes.jsonl").read_text().splitlines():
        assert set(json.loads(line)) == {"Item"}

    fresh = new_stack(moto_endpoint)
    imported = flask_cli(app_for(fresh), "import", str(backup))
    assert f"{fresh['TABLE_PREFIX']}votes: {len(vote_ids)} items written" in imported.stdout
    restored = procs.web(TABLE_PREFIX=fresh["TABLE_PREFIX"])
    assert api_answers(http, restored) == before
    assert http.get(f"{restored}/auth/me", headers=ada).json()["email"] == "ada@example.org"

    again = flask_cli(app_for(fresh), "import", str(backup), check=False)
    assert again.exit_code == 1
    assert "already hold items" in again.stderr and "--merge" in again.stderr
    flask_cli(app_for(fresh), "import", "--merge", str(backup))
    assert api_answers(http, restored) == before


def test_topic_jsonl_export_holds_only_that_topic(client, voting, tmp_path):
    keep, other = make_topic(client, "Keep"), make_topic(client, "Other")
    api_vote(client, keep, 0)
    api_vote(client, other, 1)
    record_queued(voting)
    manifest = backups.write_export(voting.backend, tmp_path / "one", keep["id"])
    for base in TABLES:
        for line in (tmp_path / "one" / f"{base}.jsonl").read_text().splitlines():
            item = json.loads(line)["Item"]
            assert (item.get("topic_id") or item["id"]) == {"S": keep["id"]}
    assert manifest["tables"]["topics"]["itemCount"] == 1
    assert manifest["tables"]["votes"]["itemCount"] == 1
    with pytest.raises(BadExport, match="not empty"):
        backups.write_export(voting.backend, tmp_path / "one")


@pytest.mark.parametrize("damage", ["drop last line", "edit a value", "no manifest", "bad line"])
def test_import_refuses_a_damaged_export_and_writes_nothing(
    client, voting, tmp_path, moto_endpoint, damage
):
    topic = make_topic(client)
    api_vote(client, topic, 0)
    api_vote(client, topic, 1)
    record_queued(voting)
    backup = tmp_path / "backup"
    backups.write_export(voting.backend, backup)
    votes_file = backup / "votes.jsonl"
    lines = votes_file.read_text().splitlines(keepends=True)
    if damage == "drop last line":
        votes_file.write_text("".join(lines[:-1]))
    elif damage == "edit a value":
        votes_file.write_text("".join(lines).replace('"counted"', '"rejected"', 1))
    elif damage == "no manifest":
        (backup / backups.MANIFEST).unlink()
    else:
        votes_file.write_text("".join(lines) + '{"Item": {"topic_id": {"S": "x"}}}\n')

    fresh = new_stack(moto_endpoint)
    answer = flask_cli(app_for(fresh), "import", str(backup), check=False)
    assert answer.exit_code == 1
    assert str(backup) in answer.stderr
    store = Tables(voting.store.client, fresh["TABLE_PREFIX"])
    assert all(store.is_empty(base) for base in TABLES)


# -- batched writes ------------------------------------------------------------------------


class Throttling:
    """A real DynamoDB client that leaves part of each batch unprocessed, as throttling does."""

    def __init__(self, client, unprocessed_calls: int):
        self.client = client
        self.unprocessed_calls = unprocessed_calls
        self.calls = []

    def batch_write_item(self, RequestItems):  # noqa: N803 - boto3's parameter name
        self.calls.append(sum(len(v) for v in RequestItems.values()))
        if len(self.calls) > self.unprocessed_calls:
            return self.client.batch_write_item(RequestItems=RequestItems)
        ((name, requests),) = RequestItems.items()
        half = len(requests) // 2
        if half:
            self.client.batch_write_item(RequestItems={name: requests[:half]})
        return {"UnprocessedItems": {name: requests[half:]}}

    def __getattr__(self, name):
        return getattr(self.client, name)


def topic_items(count):
    return [{"id": {"S": f"t{i:03d}"}, "title": {"S": f"Topic {i}"}} for i in range(count)]


def test_put_items_retries_unprocessed_items_until_all_are_written(voting):
    store = voting.tables
    throttled = Throttling(store.client, unprocessed_calls=3)
    store.client = throttled
    sleeps = []
    assert store.put_items("topics", iter(topic_items(30)), sleep=sleeps.append) == 30
    # 25 + 5 items: the first batch is halved three times (12, 6 and 3 written), the
    # fourth call writes the last 4, then the other 5 go at once.
    assert throttled.calls == [25, 13, 7, 4, 5]
    assert len(sleeps) == 3
    store.client = throttled.client
    stored = sorted(i["id"]["S"] for i in store.scan_items("topics"))
    assert stored == [f"t{i:03d}" for i in range(30)]


def test_put_items_gives_up_with_a_store_error_after_its_attempts(voting):
    store = voting.tables
    store.client = Throttling(store.client, unprocessed_calls=10**6)
    with pytest.raises(StoreUnavailable, match="still unprocessed"):
        store.put_items("topics", topic_items(2), sleep=lambda s: None)
    assert len(store.client.calls) == BATCH_WRITE_ATTEMPTS


def test_load_export_refuses_non_empty_tables_unless_merge(client, voting, tmp_path):
    topic = make_topic(client)
    backups.write_export(voting.backend, tmp_path / "b")
    with pytest.raises(BadExport, match="already hold items"):
        load_export(voting.tables, ExportDir(tmp_path / "b"))
    assert load_export(voting.tables, ExportDir(tmp_path / "b"), merge=True)["topics"] == 1
    assert [t["id"] for t in voting.topics.all()] == [topic["id"]]
