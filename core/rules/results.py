"""Results per question type: a topic and its counters -> the `results` the API and pages show.

Pure functions over {counter: total} (Voting.counts; counters in docs/data.md).
One function per type; the API, the pages and the presenter views all show
these dicts and never recompute. Single choice has none: its results are the
choices' `votes`/`vote_count`, as in the original service.
"""

from __future__ import annotations

from collections.abc import Callable

from core.rules.question_types import TEXT_COUNTER, VOTERS, spelling_parts
from core.rules.text_answers import blocker, in_cloud, moderation_key
from core.rules.topics import generation_of

# How many text answers the results list, the most given first: as many as a
# projector's word cloud holds (webapp/results/views.py draws them all).
MOST_GIVEN = 30


def results_for(
    topic: dict, counts: dict[str, int], admin: bool = False, most_given: int | None = MOST_GIVEN
) -> dict | None:
    """The type's results dict, or None for a single-choice topic.

    `admin` keeps hidden text answers in the list (marked "hidden": true);
    `most_given` is how many text answers are listed (None: every one in `counts`).
    """
    kind = topic.get("type", "single")
    if kind == "single":
        return None
    if kind == "text":
        return text_results(topic, counts, admin, most_given)
    return _BY_TYPE[kind](topic, counts)


def _share(count: int, whole: int) -> int:
    """A whole percentage, half up (as results.percentages); 0 of nothing is 0."""
    return (200 * count + whole) // (2 * whole) if whole > 0 else 0


def multiple_results(topic: dict, counts: dict[str, int]) -> dict:
    """Per choice: how many voters picked it and their share of the voters (shares can
    add up past 100%: a voter picks several)."""
    voters = counts.get(VOTERS, 0)
    choices = [
        {"id": c["id"], "count": counts.get(c["id"], 0),
         "share": _share(counts.get(c["id"], 0), voters)}
        for c in topic["choices"]
    ]  # fmt: skip
    return {"voters": voters, "choices": choices, "shares_of": "voters"}


def ranking_results(topic: dict, counts: dict[str, int]) -> dict:
    """Borda points and first preferences per choice, and who leads on points."""
    choices = [
        {"id": c["id"], "points": counts.get(f"points:{c['id']}", 0),
         "first": counts.get(c["id"], 0)}
        for c in topic["choices"]
    ]  # fmt: skip
    top = max((c["points"] for c in choices), default=0)
    return {
        "voters": counts.get(VOTERS, 0),
        "choices": choices,
        "leaders": [c["id"] for c in choices if top > 0 and c["points"] == top],
        "runoff": current_runoff(topic, counts.get(VOTERS, 0)),
    }


def current_runoff(topic: dict, voters: int | None = None) -> dict | None:
    """The topic's stored runoff while it still describes the results, else None.

    A runoff counts one generation's rankings in one open period (its `generation` and
    `opened_at` stamps, Runoffs.compute): after a reset or a reopen it is stale and not
    shown, and so it is when the counted voters (`voters`, when the caller has the
    counts) are no longer the rankings it counted (a vote queued before the close and
    counted after the runoff)."""
    runoff = topic.get("runoff")
    if not runoff:
        return None
    if runoff.get("generation", 0) != generation_of(topic):
        return None
    if runoff.get("opened_at") != topic.get("opened_at"):
        return None
    if voters is not None and runoff.get("ballots") != voters:
        return None
    return runoff


def _distribution(counts: dict[str, int], prefix: str, scale: range) -> tuple[dict, float | None]:
    """{"<value>": raters} for every value of the scale, and the mean (None: no ratings)."""
    spread = {str(v): counts.get(f"{prefix}{v}", 0) for v in scale}
    raters = sum(spread.values())
    total = sum(v * spread[str(v)] for v in scale)
    return spread, (round(total / raters, 2) if raters else None)


def rating_results(topic: dict, counts: dict[str, int]) -> dict:
    """The distribution over the scale and the mean, for the question or per choice."""
    low, high = topic.get("scale_min", 1), topic.get("scale_max", 5)
    scale = range(low, high + 1)
    body: dict = {"voters": counts.get(VOTERS, 0), "scale": [low, high]}
    if not topic.get("rate_each"):
        body["distribution"], body["mean"] = _distribution(counts, "rating:", scale)
        return body
    body["choices"] = []
    for choice in topic["choices"]:
        spread, mean = _distribution(counts, f"rating:{choice['id']}:", scale)
        body["choices"].append(
            {"id": choice["id"], "count": counts.get(choice["id"], 0),
             "distribution": spread, "mean": mean}
        )  # fmt: skip
    return body


def _answer_rules(topic: dict) -> tuple[set[str], Callable[[str], bool]]:
    """A text topic's answers hidden by the presenter (as moderation keys), and its test
    for blocked ones (the shipped lists and the topic's own)."""
    hidden = {moderation_key(answer) for answer in topic.get("hidden_answers") or ()}
    return hidden, blocker(topic.get("blocked_answers") or ())


def shown_answer(topic: dict) -> Callable[[str], bool]:
    """Does a text answer's counter ("text:<key>") go on the screen: neither hidden
    by the presenter nor blocked?"""
    hidden, blocked = _answer_rules(topic)

    def shown(counter: str) -> bool:
        text = counter.removeprefix(TEXT_COUNTER)
        return moderation_key(text) not in hidden and not blocked(text)

    return shown


def text_results(
    topic: dict, counts: dict[str, int], admin: bool = False, most_given: int | None = MOST_GIVEN
) -> dict:
    """The `most_given` answers given most (ties alphabetical; None: all), and `more`:
    whether others were given too. `counts` holds the answers the store read
    (Voting.counts: the top of the count-sorted index, one more than shown, not every
    answer) and their spellings. An answer is its moderation key's group, shown in its
    spelling given most (`_most_given`; an answer whose item holds no spelling, as
    its counter's text). Answers blocked since they were given are left out, and so
    are those the presenter hid, except for admins, who get them after the others,
    marked "hidden". `cloud` says whether an answer is short enough (1-3 words) for
    the word cloud."""
    hidden, blocked = _answer_rules(topic)
    spellings = _spellings_by_answer(counts)
    answers, hidden_ones = [], []
    for key, count in counts.items():
        group = key.removeprefix(TEXT_COUNTER)
        if group == key or count <= 0 or blocked(group):
            continue
        text = _most_given(spellings.get(key)) or group
        answer = {"text": text, "count": count, "cloud": in_cloud(text)}
        if moderation_key(group) not in hidden:
            answers.append(answer)
        elif admin:
            hidden_ones.append({**answer, "hidden": True})
    order = lambda a: (-a["count"], a["text"])  # noqa: E731
    answers.sort(key=order)
    more = most_given is not None and len(answers) > most_given
    answers = answers[:most_given] + sorted(hidden_ones, key=order)
    return {"voters": counts.get(VOTERS, 0), "answers": answers, "more": more}


def _spellings_by_answer(counts: dict[str, int]) -> dict[str, dict[str, int]]:
    """{"text:<key>": {spelling: count}} of the spelling counters in `counts`."""
    found: dict[str, dict[str, int]] = {}
    for key, count in counts.items():
        parts = spelling_parts(key)
        if parts and count > 0:
            found.setdefault(parts[0], {})[parts[1]] = count
    return found


def _most_given(spellings: dict[str, int] | None) -> str | None:
    """The spelling given most; ties to the shortest (the one with fewest extra marks,
    invisible characters or punctuation), then the first in code point order."""
    if not spellings:
        return None
    return min(spellings, key=lambda spelling: (-spellings[spelling], len(spelling), spelling))


def game_results(topic: dict, counts: dict[str, int]) -> dict:
    """Standing votes per choice (cast minus taken), and how many were cast and taken."""
    choices = [
        {"id": c["id"], "standing": counts.get(c["id"], 0),
         "cast": counts.get(f"cast:{c['id']}", 0), "taken": counts.get(f"taken:{c['id']}", 0)}
        for c in topic["choices"]
    ]  # fmt: skip
    return {
        "choices": choices,
        "cast": sum(c["cast"] for c in choices),
        "taken": sum(c["taken"] for c in choices),
    }


_BY_TYPE = {
    "multiple": multiple_results,
    # A quiz's answers per choice, as a multiple choice's (one each); which is correct is
    # on the topic's choices, shown as quiz.answer_shown allows.
    "quiz": multiple_results,
    "ranking": ranking_results,
    "rating": rating_results,
    "game": game_results,
}
