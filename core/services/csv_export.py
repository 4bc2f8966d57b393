"""CSV exports, streamed: a topic's results and vote records, and a quiz's scores,
for spreadsheets.

`csv_chunks`: a header, then per topic its results, one `result` row per
choice and a `total` row (the numbers GET /topics/{id}?include_votes answers),
then one `vote` row per vote record, oldest first. A question type other than
single choice says what each result row counts in `measure` (count, points,
first, ratings, mean, standing, cast, taken; its `answer` is the scale value
or the text answer) and its total is the number of voters (a game's: votes
cast); a vote row shows its answer in `answer` (choices by description:
"A; B" picked, "A > B" ranked, "A=4; B=5" rated, or the text). Every row has the same
columns (HEADER), so `csv.DictReader` and spreadsheet filters work on the
whole file. Votes are read from DynamoDB a page at a time and written out
every CHUNK_ROWS rows: memory stays flat whatever the number of votes.

`score_chunks`: a header, then per quiz question of the event (in the event's order)
one `answer` row per player (by nickname): the answer (the choice as described),
`correct` (yes/no), `seconds` from the question's opening to the answer's queue time,
`points` and `status` (counted, or rejected with its reason; empty: no answer); then
one `total` row per player: correct answers and points added up. A question whose
answer is not public yet (quiz.answer_shown: open with time left) shows no `correct`
nor `points`, and adds none to the totals. People's text (nicknames, teams, titles,
choices) goes through core/rules/csv_rows.formula_safe: nothing a spreadsheet would run.

Its memory holds the event's players and one question's answers at a time; vote records
are read a page at a time (only the fields a row shows).
"""

from __future__ import annotations

import csv
import io

from core.aws.players import PlayerStore
from core.aws.store import Store
from core.rules.clock import utc_now
from core.rules.csv_rows import answer_text, formula_safe, result_rows, total_of
from core.rules.formats.quiz import answer_shown, correct_ids, is_quiz, seconds
from core.rules.question_types import ANSWER_FIELDS
from core.rules.topics import generation_of

HEADER = (
    "row", "topic_id", "topic", "choice_id", "choice",
    # answer and measure before the counts: a row still ends with its numbers, as before.
    "vote_id", "created", "status", "reason", "answer", "measure", "vote_count", "percent",
)  # fmt: skip
CHUNK_ROWS = 500
# What a vote row shows: read only these from DynamoDB.
VOTE_FIELDS = ("id", "created", "status", "reason", *ANSWER_FIELDS)
# Excel reads a CSV as UTF-8 only when it starts with a byte order mark;
# Python reads it with encoding="utf-8-sig", LibreOffice and pandas skip it.
BOM = "\ufeff"


def csv_chunks(store: Store, topics: list[dict], bom: bool = True):
    """The CSV export of `topics` as text chunks: header, then per topic results and votes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if bom:
        buffer.write(BOM)
    writer.writerow(HEADER)
    for topic in topics:
        topic_id, title = topic["id"], formula_safe(topic["title"])
        # The current results: since the topic's last reset.
        counts = store.get_counts(topic_id, generation_of(topic), answers=True)
        descriptions = {c["id"]: formula_safe(c["description"]) for c in topic["choices"]}
        # A quiz's correct choices only once its answer is public (quiz.answer_shown).
        shown = answer_shown(topic, utc_now())
        for row in result_rows(topic, counts, frozenset(correct_ids(topic) if shown else ())):
            choice_id, answer, measure, number, percent = row
            writer.writerow(
                ("result", topic_id, title, choice_id, descriptions.get(choice_id, ""),
                 "", "", "", "", formula_safe(str(answer)), measure, number, percent)
            )  # fmt: skip
        writer.writerow(
            ("total", topic_id, title, "", "", "", "", "", "", "",
             "" if topic["type"] == "single" else "voters" if topic["type"] != "game" else "cast",
             total_of(topic, counts), "")
        )  # fmt: skip
        # A vote for a choice removed since keeps its choice_id; its description is gone.
        for n, vote in enumerate(store.topic_votes(topic_id, VOTE_FIELDS), start=1):
            choice_id = vote.get("choice_id", "")
            writer.writerow(
                ("vote", topic_id, title, choice_id, descriptions.get(choice_id, ""), vote["id"],
                 vote["created"], vote["status"], vote.get("reason", ""),
                 formula_safe(answer_text(vote, descriptions)), "", "", "")
            )  # fmt: skip
            if n % CHUNK_ROWS == 0:
                yield _drain(buffer)
    yield _drain(buffer)


def csv_filename(topic: dict | None) -> str:
    """A download name: the title's ASCII letters and digits, then part of the id."""
    if topic is None:
        return "voting-game-export.csv"
    words = "".join(c.lower() if c.isascii() and c.isalnum() else " " for c in topic["title"])
    slug = "-".join(words.split())[:40].strip("-") or "topic"
    return f"{slug}-{topic['id'][:8]}.csv"


SCORE_HEADER = ("row", "player", "team", "question", "answer", "correct", "seconds", "points",
          "status")  # fmt: skip
SCORE_FIELDS = ("id", "voter_id", "status", "reason", "choice_id", "score", "queued_at")


def score_chunks(store: Store, players: PlayerStore, event: dict, topics: list[dict]):
    """The event's scores as CSV text chunks; `topics` are its questions' topics in order
    (the non-quiz ones are left out)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow(SCORE_HEADER)
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
    for record in store.topic_votes(topic_id, SCORE_FIELDS):
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
