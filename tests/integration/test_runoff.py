"""A ranking's instant runoff on a real moto server: computed by the operator command
and by the admin API from the stored vote records, kept on the closed topic, shown with
its results."""

from __future__ import annotations

import pytest

from tests.helpers.api import ADMIN, make_topic, sign_in, token_from
from tests.helpers.queued import add_to_tally, record_queued

# The Tennessee capital example, per 20 voters: Memphis leads on first preferences,
# Knoxville wins the runoff once Chattanooga and Nashville are out.
GROUPS = [(8, "MNCK"), (5, "NCKM"), (3, "CKNM"), (4, "KCNM")]
NAMES = {"M": "Memphis", "N": "Nashville", "C": "Chattanooga", "K": "Knoxville"}


@pytest.fixture
def ranked(client, voting) -> dict:
    """A ranking topic with the example's 20 rankings counted; still open."""
    topic = make_topic(client, "Capital?", [NAMES[k] for k in "MNCK"], type="ranking")
    ids = {k: c["id"] for k, c in zip("MNCK", topic["choices"], strict=True)}
    topic["ids"] = ids
    for count, order in GROUPS:
        for _ in range(count):
            body = {"topic_id": topic["id"], "ranking": [ids[k] for k in order]}
            assert client.post("/votes", json=body).status_code == 202
    assert record_queued(voting) == 20
    return topic


def close(client, topic: dict) -> None:
    body = {"title": topic["title"], "choices": topic["choices"], "is_active": False}
    assert client.put(f"/topics/{topic['id']}", json=body, headers=ADMIN).status_code == 200


def expected_rounds(ids: dict) -> list[dict]:
    def counts(**n):
        return {ids[k]: v for k, v in n.items()}

    return [
        {"counts": counts(M=8, N=5, C=3, K=4), "exhausted": 0, "eliminated": [ids["C"]]},
        {"counts": counts(M=8, N=5, K=7), "exhausted": 0, "eliminated": [ids["N"]]},
        {"counts": counts(M=8, K=12), "exhausted": 0, "eliminated": []},
    ]


def test_the_api_computes_stores_and_shows_the_runoff_of_a_closed_ranking(client, ranked):
    url = f"/topics/{ranked['id']}/runoff"
    still_open = client.post(url, headers=ADMIN)
    assert still_open.status_code == 409 and "Close the topic" in still_open.json["detail"]
    close(client, ranked)
    assert client.post(url).status_code == 401
    answer = client.post(url, headers=ADMIN)
    assert answer.status_code == 200, answer.text
    runoff = answer.json
    ids = ranked["ids"]
    assert runoff["winner"] == ids["K"] and runoff["ballots"] == 20
    assert runoff["rounds"] == expected_rounds(ids)
    shown = client.get(f"/topics/{ranked['id']}?include_votes=true", headers=ADMIN).json
    assert shown["runoff"] == runoff and shown["results"]["runoff"] == runoff
    # Borda and first preferences still show Memphis ahead on the plurality count.
    first = {row["id"]: row["first"] for row in shown["results"]["choices"]}
    assert max(first, key=first.get) == ids["M"]


def test_the_api_refuses_unknown_topics_and_other_types(client):
    unknown = client.post("/topics/00000000-0000-4000-8000-000000000000/runoff", headers=ADMIN)
    assert unknown.status_code == 404
    single = make_topic(client, active=False)
    refused = client.post(f"/topics/{single['id']}/runoff", headers=ADMIN)
    assert refused.status_code == 409 and "ranking" in refused.json["detail"]


def test_a_signed_in_admin_needs_the_pages_csrf_token(client, ranked):
    close(client, ranked)
    assert sign_in(client).status_code in (302, 303)
    url = f"/topics/{ranked['id']}/runoff"
    assert client.post(url).status_code == 400  # the session alone could be any site's
    token = token_from(client.get("/admin").text)
    answer = client.post(url, headers={"X-CSRFToken": token})
    assert answer.status_code == 200 and answer.json["winner"] == ranked["ids"]["K"]


def test_the_command_prints_the_rounds_and_stores_the_runoff(client, runner, voting, ranked):
    refused = runner.invoke(args=["runoff", ranked["id"]])
    assert refused.exit_code == 1 and "Close the topic" in refused.output
    close(client, ranked)
    done = runner.invoke(args=["runoff", ranked["id"]])
    assert done.exit_code == 0, done.output
    assert done.output.splitlines() == [
        f"{ranked['id']}: 20 counted rankings",
        "round 1: Memphis 8, Nashville 5, Chattanooga 3, Knoxville 4 (exhausted 0);"
        " Chattanooga eliminated",
        "round 2: Memphis 8, Nashville 5, Knoxville 7 (exhausted 0); Nashville eliminated",
        "round 3: Memphis 8, Knoxville 12 (exhausted 0)",
        "winner: Knoxville",
    ]
    stored = voting.store.get_topic(ranked["id"])["runoff"]
    assert stored["rounds"] == expected_rounds(ranked["ids"]) and stored["ballots"] == 20
    missing = runner.invoke(args=["runoff", "00000000-0000-4000-8000-000000000000"])
    assert missing.exit_code == 1 and "not found" in missing.output


def test_rankings_not_yet_readable_are_refused_not_left_out(client, voting, ranked):
    close(client, ranked)
    # One counted voter more than the records show (as while the index catches up).
    add_to_tally(voting, ranked["id"], ":voters#0", 1)
    answer = client.post(f"/topics/{ranked['id']}/runoff", headers=ADMIN)
    assert answer.status_code == 409 and "20 of 21" in answer.json["detail"]
    assert voting.store.get_topic(ranked["id"])["runoff"] is None



def runoffs_shown(client, topic: dict) -> tuple:
    """The runoff as the topic shows it, and as its results show it (admin view)."""
    shown = client.get(f"/topics/{topic['id']}?include_votes=true", headers=ADMIN).json
    return shown.get("runoff"), shown["results"]["runoff"]


def test_a_runoff_goes_stale_after_a_reopen_with_new_ballots_and_after_a_reset(
    client, voting, ranked
):
    close(client, ranked)
    url = f"/topics/{ranked['id']}/runoff"
    first = client.post(url, headers=ADMIN).json
    assert first["winner"] == ranked["ids"]["K"] and first["generation"] == 0
    assert runoffs_shown(client, ranked) == (first, first)
    # Reopened, 9 more rankings put Memphis first, closed again: the old winner is stale.
    body = {"title": ranked["title"], "choices": ranked["choices"], "is_active": True}
    assert client.put(f"/topics/{ranked['id']}", json=body, headers=ADMIN).status_code == 200
    ids = ranked["ids"]
    for _ in range(9):
        vote = {"topic_id": ranked["id"], "ranking": [ids[k] for k in "MKNC"]}
        assert client.post("/votes", json=vote).status_code == 202
    assert record_queued(voting) == 9
    close(client, ranked)
    assert runoffs_shown(client, ranked) == (None, None)
    second = client.post(url, headers=ADMIN).json
    assert second["winner"] == ids["M"] and second["ballots"] == 29
    assert runoffs_shown(client, ranked) == (second, second)
    # A reset empties the results the runoff counted.
    assert client.post(f"/topics/{ranked['id']}/reset", headers=ADMIN).status_code == 200
    assert runoffs_shown(client, ranked) == (None, None)


def test_a_runoff_is_stale_once_other_rankings_count(client, voting, ranked):
    close(client, ranked)
    assert client.post(f"/topics/{ranked['id']}/runoff", headers=ADMIN).status_code == 200
    # A ranking queued before the close and counted after the runoff was computed.
    add_to_tally(voting, ranked["id"], ":voters#0", 1)
    assert runoffs_shown(client, ranked) == (None, None)
