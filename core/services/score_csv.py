"""A quiz's scores as CSV, streamed: one row per player and question, then their totals.

`score_chunks`: a header, then per quiz question of the event (in the event's order)
one `answer` row per player (by nickname): the answer (the choice as described),
`correct` (yes/no), `seconds` from the question's opening to the answer's queue time,
`points` and `status` (counted, or rejected with its reason; empty: no answer); then
one `total` row per player: correct answers and points added up. A question whose
answer is not public yet (quiz.answer_shown: open with time left) shows no `correct`
nor `points`, and adds none to the totals. People's text (nicknames, teams, titles,
choices) goes through core/rules/csv_rows.formula_safe: nothing a spreadsheet would run.

Memory holds the event's players and one question's answers at a time; vote records
are read a page at a time (only the fields a row shows).
"""

from __future__ import annotations

import csv
import io

from core.aws.players import PlayerStore
from core.aws.store import Store
from core.rules.clock import utc_now
from core.rules.csv_rows import formula_safe
from core.rules.formats.quiz import answer_shown, is_quiz, seconds
from core.services.csv_export import BOM, CHUNK_ROWS

HEADER = ("row", "player", "team", "question", "answer", "correct", "seconds", "points",
          "status")  # fmt: skip
RECORD_FIELDS = ("id", "voter_id", "status", "reason", "choice_id", "score", "queued_at")


def score_chunks(store: Store, players: PlayerStore, event: dict, topics: list[dict]):
    """The event's scores as CSV text chunks; `topics` are its questions' topics in order
    (the non-quiz ones are left out)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow(HEADER)
    people = sorted(players.players(event["id"]), key=lambda p: (p["name"].casefold(), p["name"]))
    totals = {p["voter_id"]: [0, 0] for p in people}  # correct answers, points
    rows = 0
    now = utc_now()
    for topic in (t for t in topics if is_quiz(t)):
        shown = answer_shown(topic, now)
        answers = _answers(store, topic["id"])
        descriptions = {c["id"]: c["description"] for c in topic["choices"]}
        for player in people:
            record = answers.get(player["voter_id"])
            cells = _answer_cells(record, descriptions, shown)
            if record and shown and record["status"] == "counted":
                score = record["score"]
                totals[player["voter_id"]][0] += 1 if score["correct"] else 0
                totals[player["voter_id"]][1] += score["points"]
            writer.writerow(
                ("answer", formula_safe(player["name"]), formula_safe(player.get("team", "")),
                 formula_safe(topic["title"]), *cells)
            )  # fmt: skip
            rows += 1
            if rows % CHUNK_ROWS == 0:
                yield _drain(buffer)
    for player in people:
        correct, points = totals[player["voter_id"]]
        name, team = formula_safe(player["name"]), formula_safe(player.get("team", ""))
        writer.writerow(("total", name, team, "", "", correct, "", points, ""))
    yield _drain(buffer)


def _answers(store: Store, topic_id: str) -> dict[str, dict]:
    """Each voter's answer record of the topic: the counted one, else the first."""
    found: dict[str, dict] = {}
    for record in store.topic_votes(topic_id, RECORD_FIELDS):
        voter = record.get("voter_id")
        if voter and (voter not in found or record["status"] == "counted"):
            found[voter] = record
    return found


def _answer_cells(record: dict | None, descriptions: dict[str, str], shown: bool) -> tuple:
    """(answer, correct, seconds, points, status) of one player's answer, or blanks."""
    if record is None:
        return ("", "", "", "", "")
    answer = formula_safe(descriptions.get(record.get("choice_id"), record.get("choice_id", "")))
    status = record["status"] + (f": {record['reason']}" if record.get("reason") else "")
    score = record.get("score")
    if score is None:
        return (answer, "", "", 0 if shown else "", status)
    elapsed = seconds(score["elapsed_us"])
    if not shown:
        return (answer, "", elapsed, "", status)
    return (answer, "yes" if score["correct"] else "no", elapsed, score["points"], status)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
