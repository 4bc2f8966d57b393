"""The CSV exports' rows: per question type what each result row counts and a vote's
answer as a person reads it (pure functions over the type's results), and the guard
every typed cell passes (`formula_safe`)."""

from __future__ import annotations

from core.rules.question_types import votes_counted
from core.rules.results import results_for
from core.rules.shares import percentages

# Spreadsheets run a cell starting with one of these as a formula; titles, choices and
# questions are typed by people, so such cells get a leading quote (OWASP's advice
# against CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(text: str) -> str:
    """A cell a person typed, as a spreadsheet shows it and never runs it."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def result_rows(topic: dict, counts: dict[str, int]) -> list[tuple]:
    """(choice_id, answer, measure, number, percent) per result row of the topic."""
    kind = topic["type"]
    if kind == "single":
        numbers = [counts.get(c["id"], 0) for c in topic["choices"]]
        shares = percentages(numbers)
        return [(c["id"], "", "", n, p) for c, n, p in zip(topic["choices"], numbers, shares,
                                                            strict=True)]  # fmt: skip
    results = results_for(topic, counts, admin=True, most_given=None)  # every answer
    if kind == "multiple":
        return [(c["id"], "", "count", c["count"], c["share"]) for c in results["choices"]]
    if kind == "ranking":
        return [(c["id"], "", measure, c[measure], "")
                for c in results["choices"] for measure in ("points", "first")]  # fmt: skip
    if kind == "game":
        measures = ("standing", "cast", "taken")
        return [(c["id"], "", m, c[m], "") for c in results["choices"] for m in measures]
    if kind == "text":
        return [("", a["text"], "hidden" if a.get("hidden") else "count", a["count"], "")
                for a in results["answers"]]  # fmt: skip
    per_choice = results.get("choices") or [{"id": "", **results}]
    rows = []
    for row in per_choice:
        rows += [(row["id"], value, "ratings", n, "") for value, n in row["distribution"].items()]
        rows.append((row["id"], "", "mean", "" if row["mean"] is None else row["mean"], ""))
    return rows


def total_of(topic: dict, counts: dict[str, int]) -> int:
    """The total row's number: a single topic's votes, a game's votes cast, else voters."""
    return votes_counted(topic, counts)


def answer_text(vote: dict, descriptions: dict[str, str]) -> str:
    """A vote record's answer for a person: choices by description (an id when the choice
    was removed since); empty for single choice, whose choice has its own columns."""
    name = lambda choice_id: descriptions.get(choice_id) or choice_id  # noqa: E731
    if "choice_ids" in vote:
        return "; ".join(name(c) for c in vote["choice_ids"])
    if "ranking" in vote:
        return " > ".join(name(c) for c in vote["ranking"])
    rating = vote.get("rating")
    if isinstance(rating, dict):
        return "; ".join(f"{name(c)}={v}" for c, v in rating.items())
    if rating is not None:
        return str(rating)
    return vote.get("text", "")
