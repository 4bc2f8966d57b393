"""A quiz through the API on a real moto server, answers recorded by the worker's own batch
code in process: players, answers, scores exactly once, the leaderboard, recount, CSV.

The server's clock decides: intake's clock is set by the test (`answer_at`), so points
are exact; the question's opening is the topic's own stamp.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta

import pytest

from core.rules.clock import iso, new_id
from core.services import voting as voting_module
from tests.helpers.api import ADMIN, HX, make_event, move, token_from
from tests.helpers.queued import queued_bodies, record_queued
from tests.helpers.quiz import answer_quiz, correct_index, join, leaderboard, quiz_event, quiz_topic


@pytest.fixture
def game(client):
    """A quiz event of three questions, its first question open, three players joined."""
    event = quiz_event(client)
    players = {name: join(client, event, name, voter_id=f"v-{name.lower()}")["voter_id"]
               for name in ("Ann", "Bob", "Cy")}  # fmt: skip
    move(client, event)
    return {**event, "players": players}


def opened_at(client, topic: dict) -> datetime:
    """The question's opening, from its deadline (the API's) and time limit."""
    shown = client.get(f"/topics/{topic['id']}", headers=ADMIN).json
    return datetime.fromisoformat(shown["deadline"]) - timedelta(seconds=shown["time_limit"])


@pytest.fixture
def answer_at(client):
    """answer_at(topic, voter, index, seconds, status=202): the answer as if it reached
    intake `seconds` after the question opened (intake's clock set by the test)."""

    def answer(topic, voter, index, seconds, status=202):
        moment = iso(opened_at(client, topic) + timedelta(seconds=seconds))
        real = voting_module.utc_now
        voting_module.utc_now = lambda: moment
        try:
            return answer_quiz(client, topic, voter, index, status=status)
        finally:
            voting_module.utc_now = real

    return answer


def add_to_score(voting, event: dict, voter_id: str, points: int) -> None:
    """Add `points` to a player's score behind the app's back, as a buggy writer would:
    the drift recount must find."""
    players = voting.backend.players
    players.client.update_item(
        TableName=players.names.players,
        Key={"event_id": {"S": event["id"]}, "player": {"S": f"player#{voter_id}"}},
        UpdateExpression="ADD score :n", ExpressionAttributeValues={":n": {"N": str(points)}},
    )  # fmt: skip


def board_scores(client, event) -> dict[str, tuple[int, int, int]]:
    return {row["name"]: (row["score"], row["correct"], row["rank"])
            for row in leaderboard(client, event)["players"]}  # fmt: skip


# -- players ------------------------------------------------------------------------------


def test_a_nickname_is_unique_in_any_case_and_checked_against_the_block_lists(client):
    event = quiz_event(client, questions=[("Q?", ("*A", "B"))])
    ann = join(client, event, "Ann")
    assert ann["name"] == "Ann" and ann["score"] == 0 and ann["voter_id"]
    taken = join(client, event, "aNN", status=409)
    assert taken["detail"] == "That nickname is taken in this event: pick another"
    join(client, event, "\u0410nn", status=409)  # a Cyrillic A: the same nickname
    assert join(client, event, "x" * 21, status=422)["detail"][0]["loc"] == ["name"]
    assert join(client, event, "merde", status=422)["detail"][0]["msg"] == (
        "this nickname is not accepted here"
    )
    # The same voter again: the same nickname is who they are; another is refused.
    again = client.post(f"/events/code/{event['code']}/players",
                        json={"name": "ANN ", "voter_id": ann["voter_id"]})  # fmt: skip
    assert again.status_code == 200 and again.json["name"] == "Ann"
    join(client, event, "Annie", voter_id=ann["voter_id"], status=409)
    # Another event: the nickname is free there.
    other = quiz_event(client, questions=[("Q?", ("*A", "B"))])
    join(client, other, "ann")


def test_a_team_is_picked_from_the_events_teams(client):
    event = quiz_event(client, questions=[("Q?", ("*A", "B"))], teams=["Red", "Blue"])
    assert event["teams"] == ["Red", "Blue"]
    assert client.get(f"/events/code/{event['code']}").json["teams"] == ["Red", "Blue"]
    assert join(client, event, "Ann", team="Red")["team"] == "Red"
    assert join(client, event, "Bob", status=422)["detail"][0]["loc"] == ["team"]
    join(client, event, "Bob", team="Green", status=422)
    plain = quiz_event(client, questions=[("Q?", ("*A", "B"))])
    join(client, plain, "Ann", team="Red", status=422)


# -- answers -------------------------------------------------------------------------------


def test_points_at_the_edges_and_each_answer_scored_once(client, voting, game, answer_at):
    topic, (ann, bob, cy) = game["topics"][0], game["players"].values()
    right = correct_index(topic)
    answer_at(topic, ann, right, 0)  # at once: 1000
    answer_at(topic, bob, right, 20)  # exactly at the limit: 500
    late = answer_at(topic, cy, right, 20.000001, status=409)  # just after: refused
    assert late["detail"] == "Time is up: this answer came after the question's time limit"
    answer_at(topic, cy, (right + 1) % 3, 3)  # wrong, fast: 0
    bodies = queued_bodies(voting)  # read, then queued again twice: a redelivery each
    assert all(b["opened_at"] and b["rules"]["event_id"] == game["id"] for b in bodies)
    for _ in range(2):
        for body in bodies:
            voting.queue.send(body)
    record_queued(voting)
    assert board_scores(client, game) == {"Ann": (1000, 1, 1), "Bob": (500, 1, 2),
                                          "Cy": (0, 0, 3)}  # fmt: skip
    # One answer each: a second is refused, whatever it names.
    second = answer_at(topic, ann, 1, 5, status=409)
    assert second["detail"] == "You have already voted on this topic"


def test_an_answer_queued_after_the_limit_by_a_stale_process_is_rejected_never_scored(
    client, voting, game, answer_at
):
    topic, ann = game["topics"][0], game["players"]["Ann"]
    answer_at(topic, ann, correct_index(topic), 2)
    (body,) = queued_bodies(voting)
    late = iso(opened_at(client, topic) + timedelta(seconds=20, microseconds=1))
    voting.queue.send({**body, "queued_at": late})  # as a process without the check queued it
    record_queued(voting)
    record = voting.store.get_vote(body["id"])
    assert (record["status"], record["reason"]) == ("rejected", "too_late")
    assert "score" not in record
    assert board_scores(client, game)["Ann"] == (0, 0, 1)


def test_only_players_answer_and_only_while_the_question_is_asked(client, game):
    topic = game["topics"][0]
    refused = answer_quiz(client, topic, "not-a-player", 0, status=409)
    assert refused["detail"].startswith("Join the event with a nickname first")
    answer_quiz(client, game["topics"][1], game["players"]["Ann"], 0, status=409)  # waiting
    no_voter = client.post("/votes", json={"topic_id": topic["id"],
                                           "choice_id": topic["choices"][0]["id"]})  # fmt: skip
    assert no_voter.status_code == 409


def test_equal_scores_share_a_rank_and_a_player_sees_their_own(client, voting, game, answer_at):
    topic, players = game["topics"][0], game["players"]
    for name in ("Ann", "Bob"):
        answer_at(topic, players[name], correct_index(topic), 4)
    record_queued(voting)
    board = leaderboard(client, game, voter_id=players["Cy"])
    assert [(r["name"], r["score"], r["rank"]) for r in board["players"]] == [
        ("Ann", 900, 1), ("Bob", 900, 1), ("Cy", 0, 3)]  # fmt: skip
    assert board["me"] == {"name": "Cy", "score": 0, "correct": 0, "rank": 3}
    # A tie at the cut: the top 1 is either of them, ranked 1 (one Query of 1 item).
    (top,) = leaderboard(client, game, limit=1)["players"]
    assert top["name"] in ("Ann", "Bob") and (top["score"], top["rank"]) == (900, 1)


def test_the_team_board_ranks_teams_by_their_members_mean_score(client, voting, answer_at):
    event = quiz_event(client, teams=["Red", "Blue"])
    ids = {name: join(client, event, name, team=team)["voter_id"]
           for name, team in (("Ann", "Red"), ("Bob", "Red"), ("Cy", "Blue"))}  # fmt: skip
    move(client, event)
    topic = event["topics"][0]
    answer_at(topic, ids["Ann"], correct_index(topic), 0)
    answer_at(topic, ids["Cy"], correct_index(topic), 10)
    record_queued(voting)
    assert leaderboard(client, event)["teams"] == [
        {"team": "Blue", "members": 1, "score": 750.0, "rank": 1},
        {"team": "Red", "members": 2, "score": 500.0, "rank": 2},
    ]


# -- correct stays hidden while open -----------------------------------------------------------


def public_reads(client, game, topic, vote_id) -> dict[str, str]:
    """Every public read of the question, as text; the pages as a player sees them (this
    browser joins with a nickname, so its stage page is the stage)."""
    code = game["code"]
    form = {"csrf_token": token_from(client.get(f"/{code}").text), "name": "Reader"}
    assert client.post(f"/{code}/player", data=form).status_code == 303
    reads = {
        "topic": client.get(f"/topics/{topic['id']}?include_votes=true"),
        "topics": client.get("/topics?include_votes=true"),
        "event state": client.get(f"/events/code/{code}"),
        "stage page": client.get(f"/{code}"),
        "event embed": client.get(f"/{code}/embed"),
        "topic page": client.get(f"/t/{topic['id']}"),
        "topic results page": client.get(f"/t/{topic['id']}/results"),
        "topic embed": client.get(f"/t/{topic['id']}/embed"),
        "votes": client.get(f"/votes?topic_id={topic['id']}"),
        # The fragments htmx polls: the stage, the embed's stage, the topic's results.
        "stage fragment": client.get(f"/{code}/stage", headers=HX),
        "event embed stage": client.get(f"/{code}/embed/stage", headers=HX),
        "topic results fragment": client.get(f"/t/{topic['id']}/results", headers=HX),
        "topic present": client.get(f"/t/{topic['id']}/present"),
        "topic present revealed": client.get(f"/t/{topic['id']}/present?reveal=1"),
        # An answer's own record, and its status fragment on the topic page.
        "vote": client.get(f"/votes/{vote_id}"),
        "vote status": client.get(f"/t/{topic['id']}/votes/{vote_id}", headers=HX),
    }
    for name, answer in reads.items():
        assert answer.status_code == (403 if name == "votes" else 200), name
    return {name: answer.get_data(as_text=True) for name, answer in reads.items()}


def test_correct_never_shows_on_a_public_read_while_the_question_is_open(
    client, voting, game, answer_at
):
    topic, ann = game["topics"][0], game["players"]["Ann"]
    queued = answer_at(topic, ann, correct_index(topic), 1)
    record_queued(voting)
    for name, text in public_reads(client, game, topic, queued["id"]).items():
        assert '"correct"' not in text and "quiz-correct" not in text, name
        assert "Correct answer" not in text and "✓ Paris" not in text, name  # the marks
    # The admin's read marks them (the presenter made the question).
    admin = client.get(f"/topics/{topic['id']}", headers=ADMIN).json
    assert [c["correct"] for c in admin["choices"]] == [True, False, False]
    # Revealed: the question closes, and every public read may show it.
    assert client.post(f"/events/{game['id']}/results", json={"shown": True},
                       headers=ADMIN).status_code == 200  # fmt: skip
    shown = client.get(f"/topics/{topic['id']}").json
    assert [c["correct"] for c in shown["choices"]] == [True, False, False]
    assert shown["is_active"] is False
    state = client.get(f"/events/code/{game['code']}").json["current"]["topic"]
    assert [c.get("correct") for c in state["choices"]] == [True, False, False]
    assert state["results"]["choices"][0]["count"] == 1
    for path in (f"/{game['code']}/stage", f"/t/{topic['id']}/results"):  # and the pages'
        assert "✓ Paris" in client.get(path, headers=HX).text, path


def test_the_exports_show_correct_only_once_the_answer_is_public(client, voting, game, answer_at):
    topic, ann = game["topics"][0], game["players"]["Ann"]
    answer_at(topic, ann, correct_index(topic), 2.5)
    record_queued(voting)

    def topic_csv():
        return client.get(f"/topics/{topic['id']}/export.csv", headers=ADMIN).get_data(True)

    def scores():
        text = client.get(f"/events/{game['id']}/scores.csv", headers=ADMIN).get_data(True)
        return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))

    assert "correct" not in topic_csv()
    rows = [r for r in scores() if r["row"] == "answer" and r["question"] == topic["title"]]
    ann_row = next(r for r in rows if r["player"] == "Ann")
    assert (ann_row["answer"], ann_row["correct"], ann_row["points"]) == ("Paris", "", "")
    assert ann_row["seconds"] == "2.5"
    client.post(f"/events/{game['id']}/results", json={"shown": True}, headers=ADMIN)
    assert ",correct,count," in topic_csv()
    rows = scores()
    ann_row = next(r for r in rows if r["player"] == "Ann" and r["question"] == topic["title"])
    assert (ann_row["correct"], ann_row["points"], ann_row["status"]) == ("yes", "938", "counted")
    total = next(r for r in rows if r["row"] == "total" and r["player"] == "Ann")
    assert (total["correct"], total["points"]) == ("1", "938")
    assert len([r for r in rows if r["row"] == "answer"]) == 3 * 3  # player x question


def test_the_scores_csv_is_safe_against_formula_injection(client, game):
    join(client, game, "=HYPERLINK(1)")
    text = client.get(f"/events/{game['id']}/scores.csv", headers=ADMIN).get_data(True)
    assert "'=HYPERLINK(1)" in text and ",=HYPERLINK" not in text
    assert client.get(f"/events/{game['id']}/scores.csv").status_code == 401


# -- a quiz question is asked once --------------------------------------------------------------


def test_an_asked_question_is_not_reopened_and_its_scored_answers_stay(
    client, voting, game, answer_at
):
    topic = game["topics"][0]
    answer_at(topic, game["players"]["Ann"], correct_index(topic), 1)
    record_queued(voting)
    move(client, game)  # the first question closes
    back = client.post(f"/events/{game['id']}/position", json={"to": 0}, headers=ADMIN)
    assert back.status_code == 200
    reopen = client.post(f"/events/{game['id']}/voting", json={"open": True}, headers=ADMIN)
    assert reopen.status_code == 409 and "asked" in reopen.json["detail"]
    reset = client.post(f"/topics/{topic['id']}/reset", headers=ADMIN)
    assert reset.status_code == 409 and "scores" in reset.json["detail"]
    assert client.delete(f"/topics/{topic['id']}", headers=ADMIN).status_code == 409


# -- recount ---------------------------------------------------------------------------------


def test_recount_rebuilds_scores_from_the_records_and_fixes_drift(
    client, voting, game, answer_at, runner
):
    topic, ann = game["topics"][0], game["players"]["Ann"]
    answer_at(topic, ann, correct_index(topic), 0)
    record_queued(voting)
    clean = runner.invoke(args=["recount", "--event", game["code"]])
    assert clean.exit_code == 0 and "1 scored answers, no drift" in clean.output
    add_to_score(voting, game, ann, 77)
    drift = runner.invoke(args=["recount", "--event", game["id"]])
    assert drift.exit_code == 1 and "score 1077 (drift +77)" in drift.output
    fixed = runner.invoke(args=["recount", "--event", game["code"], "--fix"])
    assert fixed.exit_code == 0 and "fixed" in fixed.output
    assert board_scores(client, game)["Ann"] == (1000, 1, 1)


def test_recount_all_proves_every_quiz_events_scores_and_fixes_their_drift(
    client, voting, game, answer_at, runner
):
    topic, ann = game["topics"][0], game["players"]["Ann"]
    answer_at(topic, ann, correct_index(topic), 0)
    record_queued(voting)
    clean = runner.invoke(args=["recount", "--all"])
    assert clean.exit_code == 0, clean.output
    assert f"{game['code']}: 1 scored answers, no drift" in clean.output
    assert f"{topic['id']}: 1 counted votes, no drift" in clean.output  # the topics as before
    add_to_score(voting, game, ann, 77)
    drift = runner.invoke(args=["recount", "--all"])
    assert drift.exit_code == 1
    assert f"{game['code']}: player {ann}: score 1077 (drift +77)" in drift.output
    assert "drift in 1 quiz event(s); run with --fix" in drift.output
    players = voting.backend.players
    assert players.get_player(game["id"], ann)["score"] == 1077  # read-only without --fix
    fixed = runner.invoke(args=["recount", "--all", "--fix"])
    assert fixed.exit_code == 0 and f"{game['code']}: fixed" in fixed.output
    assert players.get_player(game["id"], ann)["score"] == 1000
    again = runner.invoke(args=["recount", "--all"])
    assert again.exit_code == 0 and f"{game['code']}: 1 scored answers, no drift" in again.output


# -- a scored answer is final -----------------------------------------------------------------


def test_a_scored_answer_is_final_its_deletion_refused_so_scores_agree_with_the_records(
    client, voting, game, answer_at, runner
):
    topic, ann, bob = game["topics"][0], game["players"]["Ann"], game["players"]["Bob"]
    right = correct_index(topic)
    scored = [
        answer_at(topic, ann, right, 0)["id"],  # 1000 points
        answer_at(topic, bob, (right + 1) % 3, 2)["id"],  # wrong: 0 points, one answered
    ]
    bodies = queued_bodies(voting)
    for body in bodies:
        voting.queue.send(body)
    record_queued(voting)
    # Ann's answer again under another id (as a stale process could queue it): recorded
    # rejected, it scored nothing.
    second = {**next(b for b in bodies if b["voter_id"] == ann), "id": new_id()}
    voting.queue.send(second)
    record_queued(voting)
    assert voting.store.get_vote(second["id"])["reason"] == "duplicate_voter"
    for vote_id in scored:
        refused = client.delete(f"/votes/{vote_id}", headers=ADMIN)
        assert refused.status_code == 409
        assert refused.json["detail"] == (
            "This quiz answer has been scored: it is final and cannot be deleted"
        )
        assert client.get(f"/votes/{vote_id}", headers=ADMIN).json["status"] == "counted"
    # One that scored nothing is deleted as any vote.
    assert client.delete(f"/votes/{second['id']}", headers=ADMIN).status_code == 200
    board = board_scores(client, game)
    assert (board["Ann"], board["Bob"]) == ((1000, 1, 1), (0, 0, 2))
    tallies = client.get(f"/topics/{topic['id']}?include_votes=true", headers=ADMIN).json
    assert sum(c["vote_count"] for c in tallies["choices"]) == 2
    clean = runner.invoke(args=["recount", "--event", game["code"]])
    assert clean.exit_code == 0 and "2 scored answers, no drift" in clean.output
    # The ballot stays too: no second chance at the question.
    answer_at(topic, ann, right, 5, status=409)


def test_the_leaderboard_is_polled_with_an_etag(client, game):
    first = client.get(f"/events/code/{game['code']}/leaderboard")
    again = client.get(f"/events/code/{game['code']}/leaderboard",
                       headers={"If-None-Match": first.headers["ETag"]})  # fmt: skip
    assert again.status_code == 304
    assert json.loads(first.get_data(True))["players"][0]["score"] == 0


def test_the_make_run_snapshot_checks_scores_against_the_answer_records(
    client, voting, game, answer_at, tmp_path
):
    from local import snapshot

    topic, ann = game["topics"][0], game["players"]["Ann"]
    answer_at(topic, ann, correct_index(topic), 1)
    record_queued(voting)
    path = tmp_path / "snap.jsonl"
    assert snapshot.save(voting.tables, path).consistent
    assert snapshot.check(path)["table:players"] == 3 + 3  # a player and a nickname item each
    add_to_score(voting, game, ann, 5)
    assert not snapshot.save(voting.tables, path).consistent


def test_a_quiz_created_open_is_held_by_its_event_then_asked_with_its_answer_hidden(client):
    topic = quiz_topic(client, "Capital of France?", ("*Paris", "Rome"), is_active=True)
    event = make_event(client, [topic])
    held = client.get(f"/topics/{topic['id']}").json
    assert held["is_active"] is False and "correct" not in held["choices"][0]
    move(client, event)  # the event asks it: opened, its clock started now
    asked = client.get(f"/topics/{topic['id']}").json
    assert asked["is_active"] is True and "correct" not in asked["choices"][0]
