"""The voting forms of the pages, per question type: what a form sends, as the
fields of a VoteIn, and what a vote said, in words.

The pages (the topic page, the event stage and both embeds) all post the same
form (templates/_vote.html, templates/ballots/), which the ballot box
(ballot_box.py) reads here: `choice_id` from a single choice's (or game's) button,
`choice_ids` checkboxes, a `rank-<choice id>` select per choice, `rating` or
`rating-<choice id>` radio buttons, a `text` box. The rules of each type are
the voting service's (it raises AnswerInvalid); here only what a form alone
can get wrong: the same rank given to two choices, or a ranking sent
untouched (its selects start at "Not ranked": nothing is ranked by default).
"""

from __future__ import annotations

from flask_babel import format_decimal, gettext
from pydantic import ValidationError
from werkzeug.datastructures import MultiDict

from core.rules.errors import AnswerInvalid
from core.schemas.votes import VoteIn

PAYLOAD_FIELDS = ("choice_id", "choice_ids", "ranking", "rating", "text")


class FormInvalid(ValueError):
    """What the voter sent cannot be read as a vote (message for the page)."""


def _kind(topic: dict) -> str:
    return topic.get("type") or "single"


def _whole(value: str | None) -> int | None:
    value = (value or "").strip()
    if value.lstrip("-").isdigit() and len(value) < 4:
        return int(value)
    return None


def _ranking(topic: dict, form: MultiDict) -> list[str]:
    ranked: dict[int, str] = {}
    for choice in topic["choices"]:
        rank = _whole(form.get(f"rank-{choice['id']}"))
        if rank is None:
            continue
        if rank in ranked:
            raise FormInvalid(gettext("Give each rank to one choice only."))
        ranked[rank] = choice["id"]
    if not ranked:
        raise FormInvalid(gettext("Rank the choices before you vote: nothing is ranked yet."))
    return [ranked[rank] for rank in sorted(ranked)]


def _rating(topic: dict, form: MultiDict) -> int | dict[str, int] | None:
    if not topic.get("rate_each"):
        return _whole(form.get("rating"))
    given = {c["id"]: _whole(form.get(f"rating-{c['id']}")) for c in topic["choices"]}
    return {choice_id: value for choice_id, value in given.items() if value is not None}


def payload_from_form(topic: dict, form: MultiDict) -> dict:
    """The VoteIn fields this topic's form sent (a missing one is left out, so the
    voting service names it in its refusal)."""
    kind = _kind(topic)
    if kind == "multiple":
        return {"choice_ids": form.getlist("choice_ids")}
    if kind == "ranking":
        return {"ranking": _ranking(topic, form)}
    if kind == "rating":
        rating = _rating(topic, form)
        return {} if rating is None else {"rating": rating}
    if kind == "text":
        return {"text": form.get("text", "")}
    return {"choice_id": form.get("choice_id", "")}


def answer_of(record: dict | None) -> dict | None:
    """The payload fields a vote record or ballot holds (None if none)."""
    if not record:
        return None
    answer = {k: record[k] for k in PAYLOAD_FIELDS if record.get(k) is not None}
    return answer or None


def described(topic: dict, answer: dict | None) -> str | None:
    """A vote in words, for "Your vote for … was counted" (None if nothing to say)."""
    if not answer:
        return None
    names = {c["id"]: c["description"] for c in topic["choices"]}
    if answer.get("text") is not None:
        return f"“{answer['text']}”"
    if answer.get("choice_ids") is not None:
        return ", ".join(names.get(i, i) for i in answer["choice_ids"])
    if answer.get("ranking") is not None:
        return ", ".join(
            f"{format_decimal(n)}. {names.get(i, i)}" for n, i in enumerate(answer["ranking"], 1)
        )
    rating = answer.get("rating")
    if isinstance(rating, dict):
        return ", ".join(f"{names.get(i, i)}: {format_decimal(v)}" for i, v in rating.items())
    if rating is not None:
        top = topic.get("scale_max") or 5
        return gettext("%(value)s out of %(max)s", value=format_decimal(rating),
                       max=format_decimal(top))  # fmt: skip
    choice_id = answer.get("choice_id")
    return names.get(choice_id) if choice_id else None


def vote_in(topic: dict, payload: dict) -> VoteIn:
    """The form's payload as a VoteIn; a malformed one is refused in the page's words."""
    try:
        return VoteIn(topic_id=topic["id"], **payload)
    except ValidationError as exc:
        if _kind(topic) in ("single", "game", "quiz"):
            raise FormInvalid(gettext("Pick one of the choices.")) from exc
        raise FormInvalid(_rule(topic)) from exc


def _rule(topic: dict) -> str:
    """What this topic's form asks for, said as a request (a refusal's message)."""
    kind = _kind(topic)
    if kind == "multiple":
        most = topic.get("max_choices") or len(topic["choices"])
        least = topic.get("min_choices") or 1
        if least == most:
            return gettext("Choose exactly %(num)s choices.", num=format_decimal(most))
        return gettext("Choose between %(min)s and %(max)s choices.",
                       min=format_decimal(least), max=format_decimal(most))  # fmt: skip
    if kind == "ranking":
        top = topic.get("rank_top")
        if top and top < len(topic["choices"]):
            return gettext("Give ranks 1 to %(num)s, each to one choice.", num=format_decimal(top))
        return gettext("Give every choice a rank, each rank once.")
    if kind == "rating":
        low = topic.get("scale_min", 1)
        high = topic.get("scale_max") or 5
        if topic.get("rate_each"):
            return gettext("Rate at least one choice, from %(min)s to %(max)s.",
                           min=format_decimal(low), max=format_decimal(high))  # fmt: skip
        return gettext("Pick a rating from %(min)s to %(max)s.",
                       min=format_decimal(low), max=format_decimal(high))  # fmt: skip
    return gettext("Write an answer of 1 to %(num)s characters.", num=format_decimal(60))


def refusal_message(topic: dict, exc: Exception) -> str:
    """A refused answer's message for the page, in its language.

    The voting service's AnswerInvalid messages are English (the API's); the
    page says the topic's rule instead, or, for a blocked text, that it is not
    taken (a word list's hit is no one's business to see spelled out).
    """
    if isinstance(exc, AnswerInvalid):
        if exc.field == "text" and "not accepted" in exc.message:
            return gettext("That answer is not accepted here. Try other words.")
        return _rule(topic)
    return str(exc)
