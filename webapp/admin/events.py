"""The events console (signed in): create events and build their talk.

New questions of any type (event_form.py) or existing topics, reorder,
duplicate, and, each through a page that says what goes or stays, remove,
reset, delete; a quiz's teams; co-hosts for the owner; the Q&A mode and moderation
queue (webapp/qna/moderation.py). The join URL is webapp/public_url.py's. What the
projector shows is webapp/presenter/event_present.py's. Every rule is in
core/services/events.py; these views parse forms and render.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext, lazy_gettext, ngettext

from core.rules.access import owns
from core.rules.errors import FieldInvalid, RulesInvalid, UserNotFound
from core.rules.formats.quiz import MAX_TEAM_LENGTH, MAX_TEAMS, nickname, refused_team
from core.rules.question_types import votes_counted
from webapp import services
from webapp.access import current_actor, owner_only
from webapp.admin import event_form, type_forms
from webapp.i18n import N_
from webapp.lookup import get_event, valid_id
from webapp.public_url import join_target
from webapp.qna import moderation as qna_admin

bp = Blueprint("events_admin", __name__, url_prefix="/admin/events")

# -- the console --------------------------------------------------------------------


@bp.get("")
def index():
    """The events this organiser owns or co-hosts (all, for an admin), newest first, their
    topics, and the form that creates one."""
    store, access = services.topics(), services.access()
    topics = [{**t, "votes": votes_counted(t, store.counts(t["id"]))}
              for t in access.topics_for(current_actor())]  # fmt: skip
    events = access.events_for(current_actor())
    owners = services.accounts().emails_of(e.get("owner") for e in events)
    return render_template("events/console.html", events=events, topics=topics,
                           owners=owners)  # fmt: skip


@bp.post("")
def create():
    title = request.form.get("title", "").strip()
    if not title or len(title) > 300:
        flash(gettext("Give the event a title (up to 300 characters)."))
        return redirect(url_for("events_admin.index"), 303)
    qna = request.form.get("qna", "off")
    event = services.events().create(title, qna=qna if qna in qna_admin.MODES else "off")
    return redirect(url_for("events_admin.edit", event_id=event["id"]), 303)


@bp.get("/<event_id>")
def edit(event_id):
    """One event: its questions with type, state and votes; add, edit, reorder, remove."""
    return _edit_page(get_event(event_id), event_form.blank())


def _edit_page(
    event: dict,
    form: dict,
    errors: dict | None = None,
    status: int = 200,
    teams: dict | None = None,
):
    """The edit page; `teams`: the teams form as typed and its error (else the event's)."""
    events, topics = services.events(), services.topics()
    questions = events.questions(event)
    for question in questions:
        topic = question["topic"]
        question["votes"] = votes_counted(topic, topics.counts(topic["id"])) if topic else 0
    in_event = {q["topic_id"] for q in questions}
    access = services.access()
    others = [t for t in access.topics_for(current_actor()) if t["id"] not in in_event]
    page = render_template(
        "events/edit.html", event=event, questions=questions, others=others,
        join=join_target(event), type_names=type_forms.TYPE_NAMES,
        people=access.people(event), may_change_hosts=owns(current_actor(), event),
        mod=qna_admin.moderation_context(event), **event_form.context(form, errors),
        teams=teams or {"text": "\n".join(event.get("teams", ())), "error": None},
    )  # fmt: skip
    return page, status


# -- a quiz's teams ----------------------------------------------------------------------


@bp.post("/<event_id>/teams")
def set_teams(event_id):
    """The teams a quiz's players pick from, one per line (blank lines left out; none: no
    teams), through the service the API's PUT /events/{id} uses, under its rules."""
    event = get_event(event_id)
    typed = request.form.get("teams", "")
    teams = [line.strip() for line in typed.splitlines() if line.strip()]
    try:
        services.events().rename(event_id, event["title"], teams=teams)
    except FieldInvalid as exc:
        if exc.field != "teams":
            raise
        refused = {"text": typed, "error": _teams_refusal(teams)}
        return _edit_page(event, event_form.blank(), status=422, teams=refused)
    flash(gettext("Quiz teams saved.") if teams else gettext("This event has no teams now."))
    return redirect(url_for("events_admin.edit", event_id=event_id, _anchor="teams"), 303)


def _teams_refusal(teams: list[str]) -> str:
    """Why the rules refuse these teams (quiz.refused_team, the rule the service applied),
    in the page's language, naming the refused line."""
    kind, team, _ = refused_team([nickname(team) for team in teams]) or ("refused", "", "")
    if kind == "too_many":
        return gettext("Too many teams: %(num)s at most.", num=MAX_TEAMS)
    if len(team) > MAX_TEAM_LENGTH:  # said in full, a pasted page would fill the message
        team = team[:MAX_TEAM_LENGTH] + "…"
    if kind == "length":
        return gettext("“%(team)s”: a team name takes 1 to %(num)s characters.", team=team,
                       num=MAX_TEAM_LENGTH)  # fmt: skip
    if kind == "twice":
        return gettext("“%(team)s” is listed twice (capitals and look-alike letters count as "
                       "the same name).", team=team)  # fmt: skip
    return gettext("“%(team)s” is not accepted as a team name.", team=team)


# -- co-hosts ---------------------------------------------------------------------------


@bp.post("/<event_id>/hosts")
@owner_only
def add_host(event_id):
    """Make an organiser a co-host by their email: they may present and edit this event."""
    email = request.form.get("email", "").strip()
    try:
        services.access().add_host(event_id, email)
    except UserNotFound:
        flash(gettext("No account has the email %(email)s.", email=email))
    else:
        flash(gettext("%(email)s now co-hosts this event.", email=email))
    return redirect(url_for("events_admin.edit", event_id=event_id, _anchor="hosts"), 303)


@bp.post("/<event_id>/hosts/<host_id>/remove")
@owner_only
def remove_host(event_id, host_id):
    services.access().remove_host(event_id, host_id)
    flash(gettext("Co-host removed."))
    return redirect(url_for("events_admin.edit", event_id=event_id, _anchor="hosts"), 303)


@bp.post("/<event_id>/questions")
def add_question(event_id):
    """An existing topic (topic_id), or a new question of any type: title, type and its
    rules, one choice per line. Either waits, closed and unlisted, until reached."""
    event = get_event(event_id)
    results = "shown" if request.form.get("results") == "shown" else "hidden"
    questions = services.event_questions()
    back = redirect(url_for("events_admin.edit", event_id=event_id), 303)
    if request.form.get("topic_id"):
        questions.add_question(event_id, topic_id=request.form["topic_id"], results=results)
        return back
    form = event_form.read(request.form)
    if "retype" in request.form:  # no JavaScript: the page again, for the type chosen
        return _edit_page(event, form)
    topic, errors = event_form.topic_in(form)
    if topic is None:
        return _edit_page(event, form, errors, 422)
    try:
        questions.add_question(event_id, topic=topic, results=results)
    except RulesInvalid as exc:
        return _edit_page(event, form, type_forms.rules_errors(exc), 422)
    flash(event_form.added_message(topic.title))
    return back


@bp.post("/<event_id>/questions/<int:index>/move")
def move_question(event_id, index):
    to = request.form.get("to", "")
    if not to.lstrip("-").isdigit():
        abort(422, N_("Where to? Send the new position."))
    services.event_questions().move_question(event_id, index, int(to))
    return redirect(url_for("events_admin.edit", event_id=event_id), 303)


@bp.route("/<event_id>/questions/<int:index>/remove", methods=["GET", "POST"])
def remove_question(event_id, index):
    """Take a question out of the event: a page that says what stays (GET), then the deed."""
    event = get_event(event_id)
    back = url_for("events_admin.edit", event_id=event_id)
    if request.method == "GET":
        questions = services.events().questions(event)
        if not 0 <= index < len(questions):
            abort(404, N_("No such question (or its topic is gone)"))
        topic = questions[index]["topic"] or {"title": gettext("(topic deleted)")}
        return render_template(
            "events/confirm.html", what="remove", topic=topic, back=back,
            on_screen=index == event["position"],
            question=gettext("Remove “%(title)s” from the event?", title=topic["title"]),
            button=gettext("Remove from event"),
        )  # fmt: skip
    services.event_questions().remove_question(event_id, index)
    flash(gettext("Question removed from the event (the topic and its votes stay)."))
    return redirect(back, 303)


@bp.post("/<event_id>/questions/<int:index>/duplicate")
def duplicate_question(event_id, index):
    """A copy right after it: same content, no votes, closed."""
    get_event(event_id)
    services.event_questions().duplicate(event_id, index)
    flash(gettext("Question duplicated (same content, no votes)."))
    return redirect(url_for("events_admin.edit", event_id=event_id), 303)


# Confirmed by a page that says what goes: its question and its button (the flash
# after the deed is in _flash_cleared, a plural per language).
CLEARING = {
    "reset": (lazy_gettext("Reset the results of “%(title)s”?"), lazy_gettext("Reset results")),
    "delete": (lazy_gettext("Delete “%(title)s”?"), lazy_gettext("Delete it and its votes")),
}


@bp.route("/<event_id>/questions/<int:index>/<any(reset, delete):what>", methods=["GET", "POST"])
def clear_question(event_id, index, what):
    """Reset a question's results, or delete it with its topic: a page that says how
    many votes go with it (GET), then the deed (POST)."""
    event = get_event(event_id)
    questions = services.events().questions(event)
    if not 0 <= index < len(questions) or questions[index]["topic"] is None:
        abort(404, N_("No such question (or its topic is gone)"))
    topic = questions[index]["topic"]
    back = url_for("events_admin.edit", event_id=event_id)
    if request.method == "GET":
        return _confirm(what, topic, back)
    tools = services.event_questions()
    _, cleared = (tools.reset if what == "reset" else tools.delete)(event_id, index)
    _flash_cleared(what, topic, cleared)
    return redirect(back, 303)


@bp.route("/topics/<topic_id>/delete", methods=["GET", "POST"])
def delete_topic(topic_id):
    """Delete a topic (in an event or not) with its votes: confirmation first."""
    if valid_id(topic_id) is None:
        abort(404, N_("Topic not found"))
    topic = services.topics().get(topic_id, fresh=True)
    if request.method == "GET":
        return _confirm("delete", topic, url_for("events_admin.index"))
    _flash_cleared("delete", topic, services.topics().delete(topic_id))
    return redirect(url_for("events_admin.index"), 303)


def _confirm(what: str, topic: dict, back: str):
    votes = votes_counted(topic, services.topics().counts(topic["id"], fresh=True))
    question, button = CLEARING[what]
    question = question % {"title": topic["title"]}
    return render_template("events/confirm.html", topic=topic, votes=votes, back=back, what=what,
                           question=question, button=button)  # fmt: skip


def _flash_cleared(what: str, topic: dict, cleared: dict) -> None:
    n, title = cleared["counted"], topic["title"]
    if what == "reset":
        said = ngettext(
            "Results of “%(title)s” reset: %(num)s vote went.",
            "Results of “%(title)s” reset: %(num)s votes went.",
            n,
            title=title,
        )
    else:
        said = ngettext(
            "Deleted “%(title)s” with its %(num)s vote.",
            "Deleted “%(title)s” with its %(num)s votes.",
            n,
            title=title,
        )
    flash(said)
