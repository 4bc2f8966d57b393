"""The event console's "Add a question" form: a new question of any type, read and checked.

The type and its rules are the topic form's (webapp/admin/type_forms.py,
templates/admin/_type_rules.html): the same select, the same fields, only the
chosen type's rules sent on; without JavaScript "Show this type's settings"
renders the page again for the type chosen. Choices are typed one per line; a
quiz (offered here only: it is asked in an event) marks its correct ones with a "*".
What TopicIn (the API's model) or the topics service refuse comes back as the
form's errors, in the page's language, next to the field they concern.
"""

from __future__ import annotations

from flask_babel import gettext
from pydantic import ValidationError
from werkzeug.datastructures import MultiDict

from core.rules.formats.quiz import QUIZ
from core.rules.question_types import takes_choices
from core.schemas.topics import TopicIn
from webapp.admin import type_forms


def blank() -> dict:
    return {"title": "", "choices": "", "results": False, "rules": type_forms.rules_of({})}


def read(form: MultiDict) -> dict:
    """What the presenter typed, kept as typed (shown again with errors or a new type)."""
    return {
        "title": form.get("title", ""),
        "choices": form.get("choices", ""),
        "results": form.get("results") == "shown",
        "rules": type_forms.read_rules(form, type_forms.EVENT_TYPE_LABELS),
    }


def choice_lines(form: dict) -> list[str]:
    return [line.strip() for line in form["choices"].splitlines() if line.strip()]


def choices_hidden(form: dict) -> bool:
    """No choices box while the type takes none and it holds none (as the topic form)."""
    rules = form["rules"]
    return not takes_choices(rules["type"], rules["rate_each"]) and not choice_lines(form)


def topic_in(form: dict) -> tuple[TopicIn | None, dict]:
    """The form as a new topic's TopicIn, or its errors per field."""
    data = {
        "title": form["title"],
        "choices": [_choice(line, form["rules"]["type"]) for line in choice_lines(form)],
        **type_forms.rules_data(form["rules"]),
    }
    try:
        return TopicIn.model_validate(data), {}
    except ValidationError as exc:
        errors: dict = {}
        for error in exc.errors(include_url=False, include_input=False):
            field = error["loc"][0] if error["loc"] else "form"
            if field not in ("title", "choices", *type_forms.RULE_FIELDS):
                field = "form"
            errors.setdefault(field, type_forms.friendly(error))
        return None, errors


def _choice(line: str, kind: str) -> dict:
    """A typed line as a choice; in a quiz, a leading "*" marks it correct."""
    if kind == QUIZ and line.startswith("*"):
        return {"description": line[1:].strip(), "correct": True}
    return {"description": line}


def context(form: dict, errors: dict | None = None) -> dict:
    """What templates/events/edit.html's form needs besides the event."""
    return {
        "form": form,
        "errors": errors or {},
        "types": type_forms.EVENT_TYPE_LABELS,
        "choices_need": type_forms.CHOICES_NEED,
        "choices_hidden": choices_hidden(form),
        "no_choices": type_forms.NO_CHOICES,
    }


def added_message(title: str) -> str:
    return gettext("Added “%(title)s”: it waits, closed, until you reach it.", title=title)
