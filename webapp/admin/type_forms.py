"""The topic form's settings: the question type and its rules (as the admin
typed them, and as TopicIn fields), the options of its selects, and the
form's messages for what TopicIn refuses.

The rules themselves (which types take choices, min <= max, scales...) are
TopicIn's (core/schemas/topics.py), shared with the JSON API; here only how the form
shows and reads them (templates/admin/_type_rules.html).
"""

from __future__ import annotations

from flask_babel import gettext, lazy_gettext
from werkzeug.datastructures import MultiDict

from core.rules.errors import RulesInvalid, RulesLocked
from core.rules.formats.quiz import DEFAULT_TIME_LIMIT
from core.rules.question_types import takes_choices

# The voter policies (core/rules/topics.py) and results visibility, as the form offers them.
VOTE_LIMIT_LABELS = {
    "changeable": lazy_gettext("One vote per voter, who may change it"),
    "one_per_voter": lazy_gettext("One vote per voter"),
    "unlimited": lazy_gettext("Unlimited: anyone may vote again and again"),
}
VISIBILITY_LABELS = {
    "always": lazy_gettext("Always"),
    "after_vote": lazy_gettext("After the voter has voted"),
    "after_close": lazy_gettext("After voting closes"),
}
TYPE_LABELS = {
    "single": lazy_gettext("Single choice"),
    "multiple": lazy_gettext("Multiple select: pick several"),
    "ranking": lazy_gettext("Ranking: put the choices in order"),
    "rating": lazy_gettext("Rating scale"),
    "text": lazy_gettext("Open text: a word cloud of short answers"),
    "game": lazy_gettext("Game: a tug of war between the choices"),
}
# The event console offers a quiz too: it is asked in an event, its correct choices
# marked with a "*" in the console's one-choice-per-line box (event_form.py).
EVENT_TYPE_LABELS = {
    **TYPE_LABELS,
    "quiz": lazy_gettext("Quiz: correct answers, points for speed"),
}
# Each type in a word or two, for lists (the event console's questions).
TYPE_NAMES = {
    "single": lazy_gettext("Single choice"),
    "multiple": lazy_gettext("Multiple select"),
    "ranking": lazy_gettext("Ranking"),
    "rating": lazy_gettext("Rating scale"),
    "text": lazy_gettext("Open text"),
    "game": lazy_gettext("Game"),
    "quiz": lazy_gettext("Quiz"),
}
# The rules each type has, as TopicIn names them (and the form's fields).
RULES = {
    "single": (),
    "multiple": ("min_choices", "max_choices"),
    "ranking": ("rank_top",),
    "rating": ("scale_min", "scale_max", "rate_each"),
    "text": ("blocked_answers",),
    "game": (),
    "quiz": ("time_limit",),
}
RULE_FIELDS = ("type", "min_choices", "max_choices", "rank_top", "scale_min", "scale_max",
               "rate_each", "blocked_answers", "time_limit")  # fmt: skip
# Types whose choices are optional: open text, and a rating of the question itself.
NO_CHOICES = lazy_gettext("(none for open text or a rating of the whole question)")
# Whether each type takes choices, for static/app.js to show or hide the choice rows as
# the type changes: always, never, or when the rule checkbox of that id is ticked.
CHOICES_NEED = {
    kind: "always" if takes_choices(kind, False) else "rate_each" if takes_choices(kind, True)
    else "never"
    for kind in EVENT_TYPE_LABELS
}  # fmt: skip


def choices_hidden(form: dict) -> bool:
    """Whether the form hides (and sends no) choice rows: its type takes none and no row
    holds a choice (one that does stays in sight, with what the type says about it)."""
    rules = form["rules"]
    filled = any(row["id"] or row["description"].strip() for row in form["rows"])
    return not takes_choices(rules["type"], rules["rate_each"]) and not filled


def rules_of(topic: dict) -> dict:
    """A stored topic's type and rules as the form shows them (numbers as text)."""

    def shown(value) -> str:
        return "" if value is None else str(value)

    return {
        "type": topic.get("type") or "single",
        "min_choices": shown(topic.get("min_choices", 1)),
        "max_choices": shown(topic.get("max_choices")),
        "rank_top": shown(topic.get("rank_top")),
        "scale_min": shown(topic.get("scale_min", 1)),
        "scale_max": shown(topic.get("scale_max", 5)),
        "rate_each": bool(topic.get("rate_each")),
        "blocked_answers": "\n".join(topic.get("blocked_answers") or []),
        "time_limit": shown(topic.get("time_limit", DEFAULT_TIME_LIMIT)),
    }


def read_rules(form: MultiDict, types: dict = TYPE_LABELS) -> dict:
    """What the admin typed, kept as typed (shown again on errors); a type the form does
    not offer (`types`) is read as single choice."""
    kind = form.get("type", "single")
    return {
        "type": kind if kind in types else "single",
        **{name: form.get(name, "").strip() for name in
           ("min_choices", "max_choices", "rank_top", "scale_min", "scale_max", "time_limit")},
        "rate_each": form.get("rate_each") == "on",
        "blocked_answers": form.get("blocked_answers", ""),
    }  # fmt: skip


def _number(text: str):
    """A typed number: an int, None when left empty (the rule's default), else the
    text itself, for TopicIn to refuse with its own message."""
    if text == "":
        return None
    return int(text) if text.isdigit() and len(text) < 4 else text


def rules_data(rules: dict) -> dict:
    """The form's type and the rules of that type, as TopicIn fields.

    Only the chosen type's rules are sent: the fields of the other types'
    sections (shown without JavaScript) are left out.
    """
    data = {"type": rules["type"]}
    for name in RULES[rules["type"]]:
        if name == "rate_each":
            data[name] = rules[name]
        elif name == "blocked_answers":
            lines = (line.strip() for line in rules[name].splitlines())
            data[name] = [line for line in lines if line]
        else:
            value = _number(rules[name])
            if value is not None:
                data[name] = value
    return data


def friendly(error: dict) -> str:
    """Pydantic's messages, said the way a form would say them."""
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind == "string_too_short":
        return gettext("This can't be empty.")
    if kind == "string_too_long":
        return gettext("Keep it to %(num)s characters or fewer.", num=ctx.get("max_length"))
    if kind == "too_short":
        return gettext("A topic needs at least %(num)s choices.", num=ctx.get("min_length"))
    if kind == "too_long":
        return gettext("A topic can have at most %(num)s choices.", num=ctx.get("max_length"))
    if kind == "string_pattern_mismatch":
        return gettext("This choice id is not valid; reload the form.")
    if kind == "literal_error":
        return gettext("Pick one of the options.")
    if kind.startswith(("datetime_", "date_")):
        return gettext("Give a date and time, like 2030-01-31 18:30.")
    if kind.startswith("int_"):
        return gettext("Give a whole number.")
    if kind == "greater_than_equal":
        return gettext("Give a number of at least %(num)s.", num=ctx.get("ge"))
    if kind == "less_than_equal":
        return gettext("Give a number of at most %(num)s.", num=ctx.get("le"))
    if kind == "duplicate_choice":
        return repeated_choice_message(ctx["choice"])
    if kind == "rules_invalid":
        # TopicIn's body rules (core/rules/question_types.body_rule_broken), in English for the API.
        if "takes no choices" in error["msg"]:
            return gettext("This type of question takes no choices: leave the rows empty.")
        if "at least 2 choices" in error["msg"]:
            return gettext("A topic needs at least %(num)s choices.", num=2)
        if "rate each" in error["msg"]:
            return gettext("A rating of each choice needs 1 to %(num)s choices.", num=20)
        if "at most" in error["msg"]:
            return gettext("A ranking takes at most %(num)s choices.", num=20)
    if kind == "value_error" and error["loc"][:1] == ("closes_at",):
        # TopicIn's own refusals of a deadline (core/schemas/topics.py), in English for the API.
        if "in the past" in error["msg"]:
            return gettext("That deadline is in the past: a new topic needs one still ahead.")
        if "out of range" in error["msg"]:
            return gettext("That date and time is out of range.")
        return gettext("Give a date and time, like 2030-01-31 18:30.")
    return gettext("This is not a valid value.")


def repeated_choice_message(choice: str) -> str:
    """TopicIn's duplicate_choice refusal, said in the page's language (events use it too)."""
    return gettext(
        "“%(choice)s” is listed twice: choices must differ by more than case or spaces.",
        choice=choice,
    )


def rules_errors(exc: RulesInvalid | RulesLocked) -> dict:
    """The voting service's refusal of the type's rules, as the form's errors: the
    field it names gets the message, in the page's language."""
    if isinstance(exc, RulesLocked):
        return {"type": gettext("The type and its rules cannot change once the topic has votes.")}
    message = {
        "rank_top": gettext("Give a number from 1 to the number of choices."),
        "max_choices": gettext(
            "“At least” can't be above “At most”, nor “At most” above the number of choices."
        ),
        "scale_max": gettext("The scale must end above where it starts."),
        "vote_limit": gettext("A game takes one vote per voter, or unlimited votes."),
    }.get(exc.field)
    if exc.field == "choices":
        if exc.kind == "too_short":
            message = gettext("A topic needs at least %(num)s choices.", num=2)
        elif "no choices" in exc.message:
            message = gettext("This type of question takes no choices: leave the rows empty.")
        elif "correct" in exc.message:
            message = gettext("Mark at least one correct choice with a * at the start of its line.")
        else:
            message = gettext("A ranking or a rating of each choice takes at most 20 choices.")
    return {exc.field if message else "form": message or exc.message}
