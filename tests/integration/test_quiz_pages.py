"""A quiz's pages over the app (real moto server; answers recorded by the worker's batch
code in process): a phone's nickname, countdown, "time is up", outcome and rank (and its
team's); the projector's countdown, answers, leaderboard, team board and podium, and its
controls."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

import core.services.voting as voting_module
import webapp.audience.quiz_stage as quiz_stage
import webapp.results.views as results_views
from core.rules.clock import iso
from tests.helpers.api import ADMIN, HX, make_event, move, sign_in, token_from
from tests.helpers.queued import record_queued
from tests.helpers.quiz import correct_index, leaderboard, quiz_event
from tests.helpers.streams import Stream, presenter_pushes
from webapp import services
from webapp.push import hub


def join_page(phone, event, name, team=None, status=303):
    """The phone's nickname form, filled in and posted; the answer to the post."""
    page = phone.get(f"/{event['code']}")
    assert page.status_code == 200 and 'name="name"' in page.text
    data = {"csrf_token": token_from(page.text), "name": name, **({"team": team} if team else {})}
    answer = phone.post(f"/{event['code']}/player", data=data)
    assert answer.status_code == status, answer.text
    return answer


def answer_form(phone, event, topic, index):
    """The stage's ballot: the phone taps choice `index`."""
    page = phone.get(f"/{event['code']}").text
    data = {"csrf_token": token_from(page), "choice_id": topic["choices"][index]["id"]}
    answer = phone.post(f"/{event['code']}/vote/{topic['id']}", data=data, headers=HX)
    assert answer.status_code == 202, answer.text


def clock_moved(monkeypatch, seconds):
    """The pages' clock `seconds` ahead: the countdown's, and the one that decides whether
    the answer is shown (results views, results visibility)."""
    moment = iso(datetime.now(UTC).replace(tzinfo=None) + timedelta(seconds=seconds))
    for module in (quiz_stage, results_views, voting_module):
        monkeypatch.setattr(module, "utc_now", lambda: moment)


def stage_after(phone, event, seconds, monkeypatch):
    """The phone's stage as the server renders it `seconds` from now."""
    clock_moved(monkeypatch, seconds)
    return phone.get(f"/{event['code']}/stage", headers=HX)


@pytest.fixture
def phones(app):
    """phones(n): n browsers, each its own cookies (voter id, session)."""
    return lambda n: [app.test_client() for _ in range(n)]


def test_a_phone_picks_a_nickname_first_and_keeps_it(client, phones):
    event = quiz_event(client, teams=["Red", "Blue"])
    ann, other = phones(2)
    page = ann.get(f"/{event['code']}").text
    assert "Pick a nickname" in page and '<option value="Red"' in page
    assert 'id="stage"' not in page
    # In the phone's language: Arabic right to left, German with "du".
    arabic = other.get(f"/{event['code']}", headers={"Accept-Language": "ar"}).text
    assert 'dir="rtl"' in arabic and "اختر اسمًا مستعارًا" in arabic
    german = other.get(f"/{event['code']}", headers={"Accept-Language": "de"}).text
    assert "Wähle dein Team" in german and "Mitspielen" in german
    no_team = join_page(ann, event, "Ann", status=422)
    assert "Pick one of this event&#39;s teams." in no_team.text
    assert join_page(ann, event, "Ann", team="Red").headers["Location"].endswith(event["code"])
    stage = ann.get(f"/{event['code']}").text
    assert 'id="stage"' in stage and "Pick a nickname" not in stage
    taken = join_page(other, event, "ANN", team="Blue", status=409)
    assert "That nickname is taken in this event" in taken.text
    too_long = join_page(other, event, "x" * 21, team="Blue", status=422)
    assert "Pick a nickname of 1 to 20 characters" in too_long.text
    players = leaderboard(client, event)["players"]
    assert [(r["name"], r["team"]) for r in players] == [("Ann", "Red")]
    move(client, event)
    assert "Playing as <bdi>Ann</bdi>" in ann.get(f"/{event['code']}/stage", headers=HX).text


def test_a_non_quiz_event_asks_no_nickname(client, event):
    assert 'id="stage"' in client.get(f"/{event['code']}").text



def test_the_phone_counts_down_then_time_is_up_then_its_outcome_and_rank(
    client, phones, voting, monkeypatch
):
    event = quiz_event(client)
    ann, bob = phones(2)
    join_page(ann, event, "Ann")
    join_page(bob, event, "Bob")
    move(client, event)
    topic = event["topics"][0]
    page = ann.get(f"/{event['code']}").text
    remaining = int(re.search(r'data-remaining="(\d+)"', page)[1])
    assert 0 < remaining <= 20 and "Answer by" in page and " UTC" in page  # without JS
    answer_form(ann, event, topic, correct_index(topic))
    stage = ann.get(f"/{event['code']}/stage", headers=HX)
    etag = stage.headers["ETag"]
    assert "data-remaining" in stage.text
    late = stage_after(ann, event, 21, monkeypatch)  # the server's clock passed the deadline
    assert late.headers["ETag"] != etag
    assert "Time is up" in late.text and "data-remaining" not in late.text
    assert "Your answer is in" in late.text and 'name="choice_id"' not in late.text
    monkeypatch.undo()
    record_queued(voting)
    client.post(f"/events/{event['id']}/results", json={"shown": True}, headers=ADMIN)
    points = leaderboard(client, event)["players"][0]["score"]
    assert points >= 900
    shown = ann.get(f"/{event['code']}/stage", headers=HX).text
    assert f"Correct, +{points:,} points" in shown
    assert f"You are number 1, with {points:,} points." in shown
    missed = bob.get(f"/{event['code']}/stage", headers=HX).text
    assert "Not this time" in missed and "You are number 2, with 0 points." in missed
    assert "Your team" not in shown + missed and "data-team-rank" not in shown + missed


def test_the_projector_counts_down_then_shows_answers_the_board_and_the_podium(
    client, phones, voting, monkeypatch
):
    event = quiz_event(client, questions=(("2 + 2?", ("3", "*4")), ("Sky?", ("*Blue", "Red"))))
    ann, bob = phones(2)
    join_page(ann, event, "Ann")
    join_page(bob, event, "Bob")
    sign_in(client)
    present = f"/admin/events/{event['id']}/present"
    lobby = client.get(present).text
    assert "Start the quiz (S)" in lobby

    def control(action):
        page = client.get(present).text
        answer = client.post(f"/admin/events/{event['id']}/control", headers=HX,
                             data={"csrf_token": token_from(page), "action": action})  # fmt: skip
        assert answer.status_code == 200, answer.text
        return answer.text

    asked = control("next")
    assert "data-remaining" in asked and "Skip the countdown (K)" in asked
    assert "Reveal the answer (R)" in asked and "Correct answer" not in asked
    assert "<li>3</li>" in asked and "<li>4</li>" in asked
    topic = event["topics"][0]
    answer_form(ann, event, topic, correct_index(topic))
    answer_form(bob, event, topic, 0)
    record_queued(voting)
    clock_moved(monkeypatch, 21)  # the time runs out: the answers show, the correct one marked
    timed_out = client.get(f"{present}/stage", headers=HX).text
    assert "Time is up" in timed_out and "✓ 4" in timed_out and "data-remaining" not in timed_out
    monkeypatch.undo()
    assert "data-remaining" in client.get(f"{present}/stage", headers=HX).text
    skipped = control("close")  # Skip: time is up now
    assert "Time is up" in skipped and "data-remaining" not in skipped
    assert "✓ 4" in skipped and "Correct answer" in skipped  # a tick and words, not colour
    assert "Press <kbd>R</kbd> to reveal the answer" in skipped
    revealed = control("reveal")
    board = re.findall(r"<tr><td>(\d+)</td><td><bdi>(\w+)</bdi></td>", revealed)
    assert board == [("1", "Ann"), ("2", "Bob")] and "data-podium" not in revealed
    # No teams: the team board is left out of the boards' one layout (.quiz-boards).
    assert "data-team-board" not in revealed and 'class="quiz-boards"' in revealed
    control("next")
    control("close")
    end = control("reveal")
    assert "data-podium" in end and "Place 1" in end and "Place 2" in end
    assert '<strong class="podium-name"><bdi>Ann</bdi></strong>' in end
    assert "data-team-board" not in end and 'class="quiz-boards"' in end


def store_reads(store, monkeypatch) -> list[str]:
    """The names of the players store's reads, listed as they are made from now on."""
    reads = []
    for method in ("top", "standings", "get_player"):
        original = getattr(store, method)

        def counted(*args, _name=method, _original=original, **kwargs):
            reads.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(store, method, counted)
    return reads


TEAM_ROW = re.compile(
    r'<tr data-team-rank="(\d+)"><td>(\d+)</td><td><bdi>(.*?)</bdi></td>'
    r"<td>([\d.,]+)</td><td>(\d+)</td></tr>"
)


def test_the_projector_shows_the_team_board_between_questions_and_on_the_podium(
    app, client, phones, voting, monkeypatch
):
    """Teams by their members' mean score, as the API ranks them (equal means share a
    rank), names escaped; read as the API reads them: the top's Query and the event's
    standings, once each, whatever the number of teams."""
    teams = ["Red", "<b>Blue</b>", "Gold"]
    event = quiz_event(client, questions=(("2 + 2?", ("3", "*4")), ("Sky?", ("*Blue", "Red"))),
                       teams=teams)  # fmt: skip
    ann, bob, cy, di = phones(4)
    for phone, name, team in ((ann, "Ann", "Red"), (bob, "Bob", teams[1]), (cy, "Cy", "Gold"),
                              (di, "Di", "Gold")):  # fmt: skip
        join_page(phone, event, name, team=team)
    move(client, event)
    topic = event["topics"][0]
    answer_form(ann, event, topic, correct_index(topic))
    answer_form(bob, event, topic, 0)
    answer_form(cy, event, topic, 0)  # Di does not answer: Gold's mean is 0, as Blue's
    record_queued(voting)
    client.post(f"/events/{event['id']}/voting", json={"open": False}, headers=ADMIN)
    client.post(f"/events/{event['id']}/results", json={"shown": True}, headers=ADMIN)
    sign_in(client)
    stage = f"/admin/events/{event['id']}/present/stage"
    with app.app_context():
        reads = store_reads(services.players().store, monkeypatch)
    between = client.get(stage, headers=HX).text
    # The first read since the reveal: the API's two reads, none per team or player.
    assert sorted(reads) == ["standings", "top"]
    api = leaderboard(client, event)
    points = api["players"][0]["score"]
    assert points >= 900
    expected = [("1", "1", "Red", f"{points:,}", "1"),
                ("2", "2", "&lt;b&gt;Blue&lt;/b&gt;", "0", "1"),
                ("2", "2", "Gold", "0", "2")]  # fmt: skip
    assert TEAM_ROW.findall(between) == expected
    assert [(str(t["rank"]), t["members"]) for t in api["teams"]] == [("1", 1), ("2", 1), ("2", 2)]
    assert "<b>Blue</b>" not in between and "data-podium" not in between
    assert "data-leaderboard" in between and "Average points" in between
    # Right to left in Arabic: the names isolated (bdi), the headings the page's.
    arabic = client.get(stage, headers={**HX, "Accept-Language": "ar"}).text
    assert "الفرق" in arabic and "متوسط النقاط" in arabic
    assert TEAM_ROW.findall(arabic) == expected
    move(client, event)
    client.post(f"/events/{event['id']}/voting", json={"open": False}, headers=ADMIN)
    client.post(f"/events/{event['id']}/results", json={"shown": True}, headers=ADMIN)
    podium = client.get(stage, headers=HX).text
    assert "data-podium" in podium and TEAM_ROW.findall(podium) == expected


def test_a_phone_shows_its_teams_rank_once_revealed(client, phones, voting):
    teams = ["Red", "<i>Blue</i>", "Gold"]
    event = quiz_event(client, teams=teams)
    ann, bob, cy = phones(3)
    for phone, name, team in ((ann, "Ann", "Red"), (bob, "Bob", teams[1]), (cy, "Cy", "Gold")):
        join_page(phone, event, name, team=team)
    move(client, event)
    topic = event["topics"][0]
    answer_form(ann, event, topic, correct_index(topic))
    answer_form(bob, event, topic, correct_index(topic) + 1)  # wrong: Blue's 0 ties with Gold's
    record_queued(voting)
    before = ann.get(f"/{event['code']}/stage", headers=HX)
    assert "Your team" not in before.text  # not before the reveal
    client.post(f"/events/{event['id']}/results", json={"shown": True}, headers=ADMIN)
    first = ann.get(f"/{event['code']}/stage", headers=HX)
    assert 'data-team-rank="1"' in first.text
    assert "Your team, <bdi>Red</bdi>, is number 1 of 3 teams." in first.text
    assert first.headers["ETag"] != before.headers["ETag"]
    tied = bob.get(f"/{event['code']}/stage", headers=HX).text  # Bob and Cy: both 0
    assert "Your team, <bdi>&lt;i&gt;Blue&lt;/i&gt;</bdi>, is number 2 of 3 teams." in tied
    assert "<i>Blue</i>" not in tied
    own = cy.get(f"/{event['code']}/quiz/{topic['id']}", headers=HX).text  # after a push
    assert "Your team, <bdi>Gold</bdi>, is number 2 of 3 teams." in own
    german = ann.get(f"/{event['code']}/stage", headers={**HX, "Accept-Language": "de"}).text
    assert "Dein Team, <bdi>Red</bdi>, ist auf Platz 1 von 3 Teams." in german


def test_the_console_adds_a_quiz_question_its_correct_choices_starred(client):
    event = make_event(client, [])
    sign_in(client)
    console = f"/admin/events/{event['id']}"
    token = token_from(client.get(console).text)

    def add(choices):
        return client.post(f"{console}/questions", data={
            "csrf_token": token, "title": "Capital?", "type": "quiz", "time_limit": "30",
            "choices": choices})  # fmt: skip

    unmarked = add("Paris\nRome")
    assert unmarked.status_code == 422
    assert "Mark at least one correct choice with a * at the start of its line." in unmarked.text
    assert add("*Paris\nRome").status_code == 303
    (question,) = client.get(f"/events/{event['id']}", headers=ADMIN).json["questions"]
    topic = client.get(f"/topics/{question['topic_id']}", headers=ADMIN).json
    assert (topic["type"], topic["time_limit"]) == ("quiz", 30)
    assert [(c["description"], c["correct"]) for c in topic["choices"]] == [
        ("Paris", True), ("Rome", False)]  # fmt: skip
    # The topic form has no field for correct choices: it does not edit a quiz.
    assert "/edit" not in client.get(console).text.split("event-questions", 1)[1].split("</ol>")[0]
    refused = client.get(f"/admin/topics/{topic['id']}/edit")
    assert refused.status_code == 409 and "does not edit a quiz question" in refused.text


def test_a_pushed_quiz_stage_moves_as_time_runs_out_and_holds_no_player(
    client, phones, voting, monkeypatch
):
    """The stream's question region follows the quiz's clock and reveal (the hub re-reads
    it); what it pushes is the same for every phone: no nickname, outcome, score or rank.
    Each phone asks for its own part (GET /<CODE>/quiz/<topic>; 204 once the room moved on)."""
    monkeypatch.setattr(hub, "HEARTBEAT_SECONDS", 1.0)  # a quiet stream's read ends soon
    event = quiz_event(client)
    ann, bob = phones(2)
    join_page(ann, event, "Ann")
    join_page(bob, event, "Bob")
    move(client, event)
    topic = event["topics"][0]
    answer_form(ann, event, topic, correct_index(topic))
    stream = Stream(ann, f"/{event['code']}/stream")
    [*_, (_, held, _)] = stream.events()
    own = f"/{event['code']}/quiz/{topic['id']}"
    assert 'data-clock-sync="' in ann.get(own, headers=HX).text  # the seconds left, now
    clock_moved(monkeypatch, 21)  # the server's clock passes the deadline
    [(name, ids, timed_out)] = stream.events(until="question")
    assert ids.split(".")[0] != held.split(".")[0] and "Time is up" in timed_out
    assert "data-remaining" not in timed_out and 'name="choice_id"' not in timed_out
    assert f'data-own-url="{own}"' in timed_out and "Your answer is in" not in timed_out
    assert "Your answer is in" in ann.get(own, headers=HX).text
    monkeypatch.undo()
    record_queued(voting)
    client.post(f"/events/{event['id']}/results", json={"shown": True}, headers=ADMIN)
    pushed = "".join(data for _, _, data in stream.events(until="question"))
    points = leaderboard(client, event)["players"][0]["score"]
    for private in ("Ann", "Bob", "Playing as", "Correct, +", "Not this time", "You are number",
                    f"{points:,}", "data-rank", "data-outcome"):  # fmt: skip
        assert private not in pushed
    mine = ann.get(own, headers=HX).text
    assert "Playing as <bdi>Ann</bdi>" in mine and f"Correct, +{points:,} points" in mine
    assert f"You are number 1, with {points:,} points." in mine
    assert "Not this time" in bob.get(own, headers=HX).text
    stream.close()
    move(client, event)
    assert ann.get(own, headers=HX).status_code == 204


def test_the_projectors_pushed_stage_moves_as_time_runs_out(app, client, monkeypatch):
    """The presenter's stream (PresenterFeed) re-reads the quiz question: time running out
    moves its stage region, rendered with "Time is up" and no countdown."""
    event = quiz_event(client)
    move(client, event)
    pushed = presenter_pushes(app, event["id"], "stage")

    (asked, _), asking = pushed()
    assert "data-remaining" in asking and "data-time-up" not in asking
    clock_moved(monkeypatch, 21)
    (timed_out, _), stage = pushed()
    assert timed_out != asked and "data-remaining" not in stage
    assert "Time is up" in stage  # the answers' total says so (templates/results/_quiz.html)
