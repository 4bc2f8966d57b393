"""Admin pages: the topic list, create/edit forms, open/close.

Who may reach them, and which topics each organiser sees, is webapp/access.py's
(sign-in is webapp/admin/sign_in.py). The forms go through `Voting` with the same
`TopicIn` model as the JSON API, so the rules (title length, 2-50 choices, choice
ids kept on edit) cannot drift. CSRF tokens are checked for every POST by
CSRFProtect (see security.py).
"""

from __future__ import annotations

from itertools import zip_longest

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext
from pydantic import ValidationError

from core.rules.clock import new_id
from core.rules.errors import (
    Conflict,
    DuplicateChoice,
    QueueUnavailable,
    RulesInvalid,
    RulesLocked,
    UnknownChoice,
    VotesWouldBeDropped,
)
from core.rules.formats.quiz import is_quiz
from core.rules.question_types import votes_counted
from core.rules.topics import (
    MAX_CHOICES,
    SETTING_DEFAULTS,
    with_defaults,
)
from core.schemas.topics import NewTopicIn, TopicIn
from webapp import services
from webapp.access import current_actor
from webapp.admin import type_forms
from webapp.admin.sign_in import safe_next
from webapp.admin.type_forms import (
    VISIBILITY_LABELS,
    VOTE_LIMIT_LABELS,
    friendly,
)
from webapp.htmx import is_htmx
from webapp.i18n import N_
from webapp.lookup import get_topic, shown, valid_id

bp = Blueprint("admin", __name__, url_prefix="/admin")


# -- topic list -----------------------------------------------------------------


def _with_total(topic: dict) -> dict:
    """The row's data: total votes, and whether a deadline closed it under an open flag."""
    total = votes_counted(topic, services.topics().counts(topic["id"]))
    return {**shown(topic), "total_votes": total}


@bp.get("")
def index():
    """The topics this organiser manages (all, for an admin) with status, total votes,
    owner, and edit / open-close actions."""
    topics = [_with_total(t) for t in services.access().topics_for(current_actor())]
    owners = services.accounts().emails_of(t.get("owner") for t in topics)
    return render_template("admin/index.html", topics=topics, owners=owners,
                           pipeline=_pipeline())  # fmt: skip


def _pipeline() -> dict | None:
    """Votes still in the queue and dead letters: SQS's approximate counts, or None if down."""
    try:
        return services.voting().pipeline()
    except QueueUnavailable:
        return None


@bp.post("/topics/<topic_id>/active")
def set_active(topic_id):
    """Open or close a topic in one click; htmx gets the table row back."""
    get_topic(topic_id, fresh=True)
    active = request.form.get("active") == "1"
    topic = services.topics().set_active(topic_id, active)
    if is_htmx():
        owners = services.accounts().emails_of([topic.get("owner")])
        return render_template("admin/_row.html", topic=_with_total(topic), owners=owners,
                               focus_toggle=True)  # fmt: skip
    flash(
        gettext("“%(title)s” is now open.", title=topic["title"])
        if active
        else gettext("“%(title)s” is now closed.", title=topic["title"])
    )
    return redirect(url_for("admin.index"), 303)


# -- create / edit forms ----------------------------------------------------------


# A topic made in the form is "changeable" unless the admin picks otherwise: a
# room poll wants one vote per phone; the API keeps the original's "unlimited".
FORM_VOTE_LIMIT = "changeable"


def _blank_form() -> dict:
    blank = with_defaults(
        {"title": "", "is_active": True, "choices": [{}, {}], "vote_limit": FORM_VOTE_LIMIT}
    )
    return _form_of(blank)


def _form_of(topic: dict) -> dict:
    return {
        "title": topic["title"],
        "is_active": topic["is_active"],
        "listed": topic["listed"],
        "rows": [
            {"id": c.get("id", ""), "description": c.get("description", "")}
            for c in topic["choices"]
        ],  # fmt: skip
        "vote_limit": topic["vote_limit"],
        "results_visibility": topic["results_visibility"],
        # Stored as UTC ISO text; <input type="datetime-local"> wants YYYY-MM-DDTHH:MM.
        "closes_at": (topic["closes_at"] or "")[:16],
        "rules": type_forms.rules_of(topic),
    }


def _read_form() -> dict:
    """What the admin typed, kept as typed (it is shown again on errors)."""
    ids = request.form.getlist("choice_id")
    texts = request.form.getlist("choice")
    return {
        "title": request.form.get("title", ""),
        "is_active": request.form.get("is_active") == "on",
        "listed": request.form.get("listed") == "on",
        "vote_limit": request.form.get("vote_limit", SETTING_DEFAULTS["vote_limit"]),
        "results_visibility": request.form.get(
            "results_visibility", SETTING_DEFAULTS["results_visibility"]
        ),
        "closes_at": request.form.get("closes_at", "").strip(),
        "rows": [
            {"id": i.strip(), "description": t} for i, t in zip_longest(ids, texts, fillvalue="")
        ],
        "rules": type_forms.read_rules(request.form),
    }


def _validate(form: dict, model: type[TopicIn] = TopicIn) -> tuple[TopicIn | None, dict]:
    """The form as a TopicIn (the API's model; NewTopicIn for a new topic), or the
    errors per field.

    Blank rows the admin added but left empty are skipped rather than
    refused; a row that had a choice and was emptied is an error (removing a
    choice is a deliberate click on its Remove button).
    """
    kept = [i for i, r in enumerate(form["rows"]) if r["id"] or r["description"].strip()]
    data = {
        "title": form["title"],
        "is_active": form["is_active"],
        "listed": form["listed"],
        "vote_limit": form["vote_limit"],
        "results_visibility": form["results_visibility"],
        # Always sent: an emptied field removes the deadline (naive times mean UTC).
        "closes_at": form["closes_at"] or None,
        "choices": [
            {"id": form["rows"][i]["id"] or None, "description": form["rows"][i]["description"]}
            for i in kept
        ],
        **type_forms.rules_data(form["rules"]),
    }
    try:
        return model.model_validate(data), {}
    except ValidationError as exc:
        errors: dict = {"rows": {}}
        for error in exc.errors(include_url=False, include_input=False):
            loc = error["loc"]
            if loc[:1] in (
                ("title",),
                ("vote_limit",),
                ("results_visibility",),
                ("closes_at",),
            ) or (loc[:1] and loc[0] in type_forms.RULE_FIELDS):
                errors.setdefault(loc[0], friendly(error))
            elif loc[:1] == ("choices",) and len(loc) >= 2 and isinstance(loc[1], int):
                errors["rows"].setdefault(kept[loc[1]], friendly(error))
            elif loc[:1] == ("choices",):
                errors.setdefault("choices", friendly(error))
                if error["type"] == "duplicate_choice":
                    errors["rows"].setdefault(kept[error["ctx"]["index"]], friendly(error))
            else:
                errors.setdefault("form", friendly(error))
        return None, errors


def _edit_rows(form: dict) -> tuple[dict, str | None]:
    """Apply "add another choice" / "remove" (the no-JavaScript path); a note if refused."""
    rows = list(form["rows"])
    note = None
    if "add" in request.form:
        if len(rows) >= MAX_CHOICES:
            note = gettext("A topic can have at most %(num)s choices.", num=MAX_CHOICES)
        else:
            rows.append({"id": "", "description": ""})
    remove = request.form.get("remove", "")
    if remove.isdigit() and int(remove) < len(rows):
        del rows[int(remove)]
    return {**form, "rows": rows}, note


def _rearranging() -> bool:
    """A submit that only re-renders the form (no JavaScript): add or remove a choice
    row, or show the chosen type's settings."""
    return bool(request.form.keys() & {"add", "remove", "retype"})


def _render_form(form, topic=None, errors=None, status=200):
    if not form["rows"]:
        # Two blank rows, shown once the type takes choices (blank rows are never saved).
        form = {**form, "rows": [{"id": "", "description": ""}] * 2}
    page = render_template(
        "admin/topic_form.html",
        form=form,
        topic=topic,
        # Each existing choice's votes, shown beside it (removing it drops them).
        counts=services.topics().counts(topic["id"]) if topic else {},
        errors=errors or {},
        vote_limits=VOTE_LIMIT_LABELS,
        visibilities=VISIBILITY_LABELS,
        types=type_forms.TYPE_LABELS,
        no_choices=type_forms.NO_CHOICES,
        choices_need=type_forms.CHOICES_NEED,
        choices_hidden=type_forms.choices_hidden(form),
        back=_back(),
    )
    return page, status


def _back() -> str | None:
    """The admin page the form returns to (`next`: the event console's Edit link), or None
    for the topic list."""
    return safe_next(request.values["next"]) if request.values.get("next") else None


@bp.route("/topics/new", methods=["GET", "POST"])
def new_topic():
    """Create a topic; each choice gets a new id."""
    if request.method == "GET":
        return _render_form(_blank_form())
    form = _read_form()
    if _rearranging():
        form, note = _edit_rows(form)
        return _render_form(form, errors={"choices": note} if note else None)
    data, errors = _validate(form, NewTopicIn)
    if data is None:
        return _render_form(form, errors=errors, status=422)
    try:
        topic = services.topics().create(data)
    except RulesInvalid as exc:
        return _render_form(form, errors=type_forms.rules_errors(exc), status=422)
    flash(gettext("Created “%(title)s”.", title=topic["title"]))
    return redirect(url_for("admin.index"), 303)


@bp.route("/topics/<topic_id>/edit", methods=["GET", "POST"])
def edit_topic(topic_id):
    """Edit title, state and choices; existing choices keep their ids and votes."""
    topic = get_topic(topic_id, fresh=True)
    if is_quiz(topic):  # its correct choices and time limit are not this form's fields
        abort(409, N_("This form does not edit a quiz question: change it with the API."))
    if request.method == "GET":
        return _render_form(_form_of(topic), topic=topic)
    form = _read_form()
    if _rearranging():
        form, note = _edit_rows(form)
        return _render_form(form, topic=topic, errors={"choices": note} if note else None)
    data, errors = _validate(form)
    if data is None:
        return _render_form(form, topic=topic, errors=errors, status=422)
    # Choices whose votes the admin agreed to drop: in the Remove dialog or the 409 form.
    confirmed = request.form.getlist("drop_votes_for")
    try:
        updated = services.topics().update(topic_id, data, drop_votes=confirmed)
    except (RulesInvalid, RulesLocked) as exc:
        status = 409 if isinstance(exc, RulesLocked) else 422
        return _render_form(form, topic=topic, errors=type_forms.rules_errors(exc), status=status)
    except VotesWouldBeDropped as exc:
        errors = {"dropped": exc.dropped}
        return _render_form(form, topic=topic, errors=errors, status=409)
    except (UnknownChoice, DuplicateChoice):
        errors = {
            "form": gettext("The choices no longer match this topic. Reload the form and retry.")
        }
        return _render_form(form, topic=topic, errors=errors, status=422)
    except Conflict:
        errors = {
            "form": gettext("Someone changed this topic while you were editing. Reload and retry.")
        }
        return _render_form(form, topic=topic, errors=errors, status=409)
    flash(gettext("Saved “%(title)s”.", title=updated["title"]))
    return redirect(_back() or url_for("admin.index"), 303)


@bp.get("/choice-row")
def choice_row():
    """A blank choice row, appended to the form by htmx's "add another choice"."""
    # Each added row gets its own element id, so each has its own label.
    row = {"id": "", "description": ""}
    return render_template("admin/_choice_row.html", row=row, index=None, uid=new_id()[:8])


@bp.get("/choice-row/removed")
def removed_row():
    """What htmx swaps in for a removed row (no state changes here).

    Nothing for a new row; for a choice with votes (the admin confirmed "Remove
    Rust and its 2 votes?"), a hidden row saying so, which Save sends along.
    """
    choice_id = valid_id(request.args.get("choice_id"))
    if choice_id is None:
        return ""
    return render_template("admin/_dropped_row.html", choice_id=choice_id)
