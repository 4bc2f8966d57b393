"""CSV export, streamed: a topic's results and vote records for spreadsheets.

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
"""

from __future__ import annotations

import csv
import io

from core.aws.store import Store
from core.rules.csv_rows import answer_text, formula_safe, result_rows, total_of
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
        for row in result_rows(topic, counts):
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


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
