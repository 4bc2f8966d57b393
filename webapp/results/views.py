"""Results made ready for the results partials: a single choice's counts, every other
type's results_for() dict.

core/rules/results.py does the counting maths (shares of voters, Borda points,
distributions, means, answers most first); this module only adds what a page
needs to draw it: choice names instead of ids, bar lengths (0-100, as an SVG
attribute because the CSP allows no inline styles), word-cloud size steps,
and the one sentence the persistent live region reads out. Pure functions of
the topic and the dict, so the partials can be tested with hand-written dicts.
"""

from __future__ import annotations

from flask_babel import format_decimal, format_percent, gettext, ngettext

from core.rules.clock import utc_now
from core.rules.formats.quiz import answer_shown, correct_ids
from core.rules.shares import leaders, shares_adding_to_100

# Font sizes in a few steps (CSS classes cloud-size-1 .. cloud-size-5).
CLOUD_STEPS = 5


def _names(topic: dict) -> dict[str, str]:
    return {c["id"]: c["description"] for c in topic["choices"]}


def _length(value: float, top: float) -> float:
    """A bar's length out of 100, relative to the largest (0 when nothing yet)."""
    return round(100 * value / top, 1) if top > 0 else 0


def _top_ids(rows: list[dict], key: str) -> set[str]:
    top = max((r[key] for r in rows), default=0)
    return {r["id"] for r in rows if top > 0 and r[key] == top}


def single_view(topic: dict, counts: dict[str, int]) -> dict:
    """A single choice's bars: votes per choice, shares that add up to 100 (the API keeps
    the original's rounding), and who leads (several on a tie)."""
    numbers = [counts.get(c["id"], 0) for c in topic["choices"]]
    leading = set(leaders({c["id"]: n for c, n in zip(topic["choices"], numbers, strict=True)}))
    choices = [
        {"id": c["id"], "description": c["description"], "vote_count": n, "share": share,
         "leading": c["id"] in leading}
        for c, n, share in zip(topic["choices"], numbers, shares_adding_to_100(numbers),
                               strict=True)
    ]  # fmt: skip
    return {
        "choices": choices,
        "total_votes": sum(numbers),
        "tied": len(leading) > 1,
        "leaders": [c["description"] for c in choices if c["leading"]],
    }


def multiple_view(topic: dict, result: dict) -> dict:
    """Bars of the share of voters who picked each choice."""
    names = _names(topic)
    leading = _top_ids(result["choices"], "count")
    rows = [
        {**c, "name": names.get(c["id"], c["id"]), "length": min(c["share"], 100),
         "leading": c["id"] in leading}
        for c in result["choices"]
    ]  # fmt: skip
    summary = ngettext("%(num)s voter", "%(num)s voters", result["voters"])
    top = [r for r in rows if r["leading"]]
    if top:
        summary += ", " + gettext(
            "most chosen: %(choice)s (%(share)s of voters)",
            choice=", ".join(r["name"] for r in top),
            share=format_percent(top[0]["share"] / 100),
        )
    return {"rows": rows, "voters": result["voters"], "summary": summary}


def ranking_view(topic: dict, result: dict) -> dict:
    """Bars of Borda points, first preferences, the leader(s) and any runoff."""
    names = _names(topic)
    top = max((c["points"] for c in result["choices"]), default=0)
    leaders = set(result.get("leaders") or [])
    rows = [
        {**c, "name": names.get(c["id"], c["id"]), "length": _length(c["points"], top),
         "leading": c["id"] in leaders}
        for c in result["choices"]
    ]  # fmt: skip
    rows.sort(key=lambda r: -r["points"])
    winners = [r["name"] for r in rows if r["leading"]]
    runoff = _runoff_view(names, result.get("runoff"))
    summary = ngettext("%(num)s voter", "%(num)s voters", result["voters"])
    if runoff and runoff["winner"]:
        summary += ", " + gettext("runoff winner: %(choice)s", choice=runoff["winner"])
    elif winners:
        summary += ", " + gettext(
            "most points: %(choice)s (%(num)s)", choice=", ".join(winners),
            num=format_decimal(top),
        )  # fmt: skip
    return {"rows": rows, "winners": winners, "runoff": runoff, "voters": result["voters"],
            "summary": summary}  # fmt: skip


def _runoff_view(names: dict[str, str], runoff: dict | None) -> dict | None:
    if not runoff:
        return None
    rounds = []
    for number, round_ in enumerate(runoff.get("rounds") or [], start=1):
        counts = sorted(round_.get("counts", {}).items(), key=lambda kv: -kv[1])
        rounds.append({
            "number": number,
            "counts": [(names.get(i, i), n) for i, n in counts],
            "eliminated": [names.get(i, i) for i in round_.get("eliminated", [])],
        })  # fmt: skip
    winner = runoff.get("winner")
    return {"winner": names.get(winner, winner) if winner else None, "rounds": rounds,
            "ballots": runoff.get("ballots", 0)}  # fmt: skip


def _distribution(scale: list[int], distribution: dict) -> list[dict]:
    counts = [(v, int(distribution.get(str(v), 0))) for v in range(scale[0], scale[1] + 1)]
    top = max((n for _, n in counts), default=0)
    return [{"value": v, "count": n, "length": _length(n, top)} for v, n in counts]


def _mean_text(mean: float | None) -> str:
    return format_decimal(mean, format="#,##0.0#") if mean is not None else "–"


def rating_view(topic: dict, result: dict) -> dict:
    """The distribution over the scale and the mean, for the question or per choice."""
    scale = result["scale"]
    view = {"scale": scale, "voters": result["voters"]}
    if "choices" not in result:
        view["distribution"] = _distribution(scale, result["distribution"])
        view["mean"] = _mean_text(result["mean"])
        view["summary"] = ngettext("%(num)s rating", "%(num)s ratings", result["voters"])
        if result["mean"] is not None:
            view["summary"] += ", " + gettext(
                "average %(mean)s out of %(max)s", mean=view["mean"], max=scale[1]
            )
        return view
    names = _names(topic)
    span = scale[1] - scale[0]
    rows = []
    for c in result["choices"]:
        mean = c.get("mean")
        rows.append({
            "id": c["id"], "name": names.get(c["id"], c["id"]), "count": c["count"],
            "mean": _mean_text(mean),
            "length": _length(mean - scale[0], span) if mean is not None else 0,
            "distribution": _distribution(scale, c["distribution"]),
        })  # fmt: skip
    view["rows"] = rows
    view["summary"] = ngettext("%(num)s voter", "%(num)s voters", result["voters"])
    rated = [(c["mean"], names.get(c["id"], c["id"])) for c in result["choices"]
             if c.get("mean") is not None]  # fmt: skip
    if rated:
        best, name = max(rated, key=lambda pair: pair[0])
        view["summary"] += ", " + gettext(
            "best rated: %(choice)s (%(mean)s)", choice=name, mean=_mean_text(best)
        )
    return view


def _size_steps(counts: list[int]) -> list[int]:
    """Each count as a size step 1..CLOUD_STEPS, spread between the least and most given."""
    low, high = min(counts, default=0), max(counts, default=0)
    if high == low:
        return [3 if high > 1 else 2 for _ in counts]
    return [1 + round((CLOUD_STEPS - 1) * (n - low) / (high - low)) for n in counts]


def text_view(topic: dict, result: dict) -> dict:
    """Short answers as a word cloud, longer ones as a list; hidden ones apart (admins)."""
    # The results hold the answers given most (type_results.MOST_GIVEN) and say
    # whether there are more; the projector shows them all.
    answers = [a for a in result["answers"] if not a.get("hidden")]
    hidden = [a for a in result["answers"] if a.get("hidden")]
    # `cloud`: short enough for the word cloud (text_answers.in_cloud), else listed.
    words = [a for a in answers if a["cloud"]]
    longer = [a for a in answers if not a["cloud"]]
    cloud = [{**a, "size": s} for a, s in zip(words, _size_steps([a["count"] for a in words]),
                                               strict=True)]  # fmt: skip
    # Alphabetical in the cloud (no answer stands out by place, only by size);
    # the list keeps most given first.
    cloud.sort(key=lambda a: a["text"])
    summary = ngettext("%(num)s answer", "%(num)s answers", result["voters"])
    if answers:
        summary += ", " + gettext(
            "most given: “%(answer)s” (%(num)s)", answer=answers[0]["text"],
            num=format_decimal(answers[0]["count"]),
        )  # fmt: skip
    return {"cloud": cloud, "longer": longer, "hidden": hidden, "voters": result["voters"],
            "more": result["more"], "summary": summary}  # fmt: skip


def game_view(topic: dict, result: dict) -> dict:
    """Standing votes per choice (the tug of war), with cast and taken for the record."""
    names = _names(topic)
    top = max((c["standing"] for c in result["choices"]), default=0)
    leading = _top_ids(result["choices"], "standing")
    rows = [
        {**c, "name": names.get(c["id"], c["id"]), "length": _length(c["standing"], top),
         "leading": c["id"] in leading}
        for c in result["choices"]
    ]  # fmt: skip
    summary = gettext("%(cast)s cast, %(taken)s taken", cast=format_decimal(result["cast"]),
                      taken=format_decimal(result["taken"]))  # fmt: skip
    ahead = [r for r in rows if r["leading"]]
    if ahead:
        summary += ", " + gettext(
            "%(choice)s stands at %(num)s", choice=", ".join(r["name"] for r in ahead),
            num=format_decimal(top),
        )  # fmt: skip
    return {"rows": rows, "cast": result["cast"], "taken": result["taken"], "summary": summary}


def quiz_view(topic: dict, result: dict) -> dict:
    """Bars of the answers per choice, the correct ones marked (`correct`) once the answer
    is public (quiz.answer_shown: asked and over), never before."""
    names = _names(topic)
    shown = answer_shown(topic, utc_now())
    right = set(correct_ids(topic)) if shown else set()
    top = max((c["count"] for c in result["choices"]), default=0)
    rows = [
        {**c, "name": names.get(c["id"], c["id"]), "length": _length(c["count"], top),
         "correct": c["id"] in right}
        for c in result["choices"]
    ]  # fmt: skip
    summary = ngettext("%(num)s answer", "%(num)s answers", result["voters"])
    if right:
        summary += ", " + gettext(
            "correct: %(choice)s", choice=", ".join(r["name"] for r in rows if r["correct"])
        )
    return {"rows": rows, "voters": result["voters"], "shown": shown, "summary": summary}


VIEWS = {
    "multiple": multiple_view,
    "quiz": quiz_view,
    "ranking": ranking_view,
    "rating": rating_view,
    "text": text_view,
    "game": game_view,
}


def typed_view(topic: dict, result: dict | None) -> dict | None:
    """The partial's view of a non-single topic's results (None for single choice)."""
    kind = topic.get("type", "single")
    if result is None or kind not in VIEWS:
        return None
    return {"type": kind, **VIEWS[kind](topic, result)}
