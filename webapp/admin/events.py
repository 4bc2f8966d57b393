"""The presenter's pages (signed-in admin): the events console and the presenter view.

The console creates events and edits their questions: new ones of any type
(event_form.py) or existing topics, reorder, duplicate, and, each through a
page that says what goes or stays, remove, reset, delete. The join URL is
webapp/public_url.py's. The presenter view is what the projector shows:
the current question full screen with its results (or a "results hidden"
panel until revealed), the join code and QR code always, and a slim control
bar whose buttons are plain forms (htmx swaps the stage; without JavaScript
they post and come back). static/presenter.js adds the keyboard shortcuts.
Every rule is in core/services/events.py; these views parse forms and render.
"""

from __future__ import annotations

import hashlib
import json

from flask import (
    Blueprint,
    abort,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext, lazy_gettext, ngettext

from core.rules.access import owns
from core.rules.clock import utc_now
from core.rules.errors import RulesInvalid, UserNotFound
from core.rules.events import LOBBY
from core.rules.question_types import votes_counted
from core.rules.topics import is_open
from webapp import services
from webapp.access import current_actor, owner_only
from webapp.admin import event_form, type_forms
from webapp.htmx import is_htmx, polled, vary
from webapp.i18n import N_
from webapp.lookup import valid_id
from webapp.presenter.topic_present import qr_svg
from webapp.public_url import join_target
from webapp.results.panel import results_of

bp = Blueprint("events_admin", __name__, url_prefix="/admin/events")

# The control bar's buttons: form value -> what it does.
ACTIONS = {
    "next": lambda events, event_id: events.step(event_id, +1),
    "previous": lambda events, event_id: events.step(event_id, -1),
    "open": lambda events, event_id: events.set_open(event_id, True),
    "close": lambda events, event_id: events.set_open(event_id, False),
    "reveal": lambda events, event_id: events.set_results(event_id, True),
    "hide": lambda events, event_id: events.set_results(event_id, False),
    "lobby": lambda events, event_id: events.go_to(event_id, LOBBY),
    # The current question's results: its votes, ballots and tallies go.
    "reset": lambda events, event_id: services.event_questions().reset(event_id)[0],
}


def _event(event_id: str) -> dict:
    if valid_id(event_id) is None:
        abort(404, N_("Event not found"))
    return services.events().event(event_id, fresh=True)


def _join_url(event: dict) -> str:
    return join_target(event).url


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
    event = services.events().create(title)
    return redirect(url_for("events_admin.edit", event_id=event["id"]), 303)


@bp.get("/<event_id>")
def edit(event_id):
    """One event: its questions with type, state and votes; add, edit, reorder, remove."""
    return _edit_page(_event(event_id), event_form.blank())


def _edit_page(event: dict, form: dict, errors: dict | None = None, status: int = 200):
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
        **event_form.context(form, errors),
    )  # fmt: skip
    return page, status


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
    event = _event(event_id)
    results = "shown" if request.form.get("results") == "shown" else "hidden"
    events = services.events()
    back = redirect(url_for("events_admin.edit", event_id=event_id), 303)
    if request.form.get("topic_id"):
        events.add_question(event_id, topic_id=request.form["topic_id"], results=results)
        return back
    form = event_form.read(request.form)
    if "retype" in request.form:  # no JavaScript: the page again, for the type chosen
        return _edit_page(event, form)
    topic, errors = event_form.topic_in(form)
    if topic is None:
        return _edit_page(event, form, errors, 422)
    try:
        events.add_question(event_id, topic=topic, results=results)
    except RulesInvalid as exc:
        return _edit_page(event, form, type_forms.rules_errors(exc), 422)
    flash(event_form.added_message(topic.title))
    return back


@bp.post("/<event_id>/questions/<int:index>/move")
def move_question(event_id, index):
    to = request.form.get("to", "")
    if not to.lstrip("-").isdigit():
        abort(422, N_("Where to? Send the new position."))
    services.events().move_question(event_id, index, int(to))
    return redirect(url_for("events_admin.edit", event_id=event_id), 303)


@bp.route("/<event_id>/questions/<int:index>/remove", methods=["GET", "POST"])
def remove_question(event_id, index):
    """Take a question out of the event: a page that says what stays (GET), then the deed."""
    event = _event(event_id)
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
    services.events().remove_question(event_id, index)
    flash(gettext("Question removed from the event (the topic and its votes stay)."))
    return redirect(back, 303)


@bp.post("/<event_id>/questions/<int:index>/duplicate")
def duplicate_question(event_id, index):
    """A copy right after it: same content, no votes, closed."""
    _event(event_id)
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
    event = _event(event_id)
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


# -- the presenter view ----------------------------------------------------------------


def presenter_stage(event: dict) -> dict:
    """What the projector shows, and its ETag (the event and topic versions: no counts,
    so hidden results cannot show through it; revealed ones poll on their own)."""
    question, topic, _ = services.events().on_screen(event, is_admin=True)
    view = {"question": question, "topic": None, "results": None}
    fingerprint = [event["version"], event["position"], question]
    if topic:
        view["topic"] = {**topic, "is_open": _open(topic)}
        fingerprint += [topic["last_upd"], view["topic"]["is_open"]]
    view["etag"] = hashlib.sha256(json.dumps(fingerprint).encode()).hexdigest()[:24]
    return view


def _open(topic: dict) -> bool:
    return is_open(topic, utc_now())


def _with_results(view: dict) -> dict:
    """The revealed results' view for the template (only ever read once revealed)."""
    if view["topic"] and view["question"]["results"] == "shown":
        view["results"] = results_of(view["topic"])
    return view


def _render_stage(event: dict, view: dict):
    return render_template("events/_present_stage.html", event=event, stage=_with_results(view))


@bp.get("/<event_id>/present")
def present(event_id):
    """Full screen for the projector: the current question, the code and QR, the controls."""
    event = _event(event_id)
    join_url = _join_url(event)
    return render_template(
        "events/present.html", event=event, stage=_with_results(presenter_stage(event)),
        join_url=join_url, qr=qr_svg(join_url),
    )  # fmt: skip


@bp.get("/<event_id>/present/stage")
def present_stage(event_id):
    """The projector's stage, polled every second: 304 while nothing changed."""
    event = services.events().event(event_id) if valid_id(event_id) else _event(event_id)
    view = presenter_stage(event)
    return polled(view["etag"], lambda: _render_stage(event, view))


@bp.post("/<event_id>/control")
def control(event_id):
    """One control-bar button: the new stage for htmx, else back to the presenter view."""
    action = ACTIONS.get(request.form.get("action", ""))
    if action is None:
        abort(422, N_("Unknown action"))
    _event(event_id)
    event = action(services.events(), event_id)
    if is_htmx():
        return vary(make_response(_render_stage(event, presenter_stage(event))))
    return redirect(url_for("events_admin.present", event_id=event_id), 303)
