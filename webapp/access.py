"""The one gate of every admin route, JSON API and pages alike: who may reach what.

Every route is an admin route unless it is public: the audience's blueprints
(voting pages, event pages, embeds), health and docs, and the few public
endpoints named in PUBLIC_ENDPOINTS (the original API's reads and vote, the
sign-in pages). Before any admin view runs, `guard`:

1. finds who acts (webapp/auth.py): on the JSON API the operator key or a user's
   API token (and, for SESSION_JSON, a signed-in page session); on the pages the
   session. Nobody: a 401 on the API, the sign-in page for /admin, a 403 else.
2. checks every id the request names (ids in the path, and a `topic_id` or
   `questions` in the form or JSON body) with core/services/access.py: another
   organiser's topic or event answers exactly as a missing one (404); what only
   an owner may do (`@owner_only`) is a 403 for its co-hosts.
3. makes that actor the acting one for the services (owners of what is created,
   the audit log's lines).

A route added later is gated the same way without a line of its own; a path
variable this module does not know stops the app at start (`check_routes`).
"""

from __future__ import annotations

from flask import Flask, current_app, g, make_response, redirect, request, url_for

from core.rules.accounts import token_id_of
from core.rules.errors import (
    EventNotFound,
    NotFound,
    TopicNotFound,
    UserNotFound,
)
from core.services import audit
from core.services.access import MANAGE, OWN
from webapp import services
from webapp.auth import key_actor, presented_key, session_actor
from webapp.body import json_body
from webapp.errors import JSON_BLUEPRINTS, error_response
from webapp.htmx import is_htmx
from webapp.i18n import N_
from webapp.lookup import valid_id

# Whole blueprints the audience uses: public by nature, whatever routes they gain.
PUBLIC_BLUEPRINTS = {"pages", "events_pages", "embed", "event_embed", "health", "docs",
                     "metrics", "qna_pages", "qna_embed"}  # fmt: skip
PUBLIC_ENDPOINTS = {
    "static",
    "set_language",
    # The original API's reads and its vote.
    "api.list_topics", "api.get_topic", "api.cast_vote", "api.get_vote", "api.list_votes",
    "events_api.event_state",
    # The projector's view of a topic (a signed-in manager gets its controls).
    "present.view",
    # The audience's event streams (webapp/push/); the presenter's stream is gated.
    "push.event_stream", "push.embed_stream", "push.topic_stream",
    # Signing in and out, and trading an email and password for an API token.
    "sign_in.login", "sign_in.logout", "sign_in.sso_begin", "sign_in.sso_callback",
    "accounts_api.create_token",
    # Audience questions: asked, read and upvoted by join code.
    "qna_api.ask", "qna_api.listed", "qna_api.upvote", "qna_api.withdraw",
}  # fmt: skip
# JSON routes the admin pages link to: a signed-in session may use them too (with the
# page's CSRF token when they change something).
SESSION_JSON = {"api.export_topic_csv", "api.compute_runoff",
                "qna_api.moderate", "qna_api.moderation_view", "qna_api.export_csv"}  # fmt: skip
# What a path variable names: checked by Access.check.
KINDS = {"topic_id": "topic", "event_id": "event", "vote_id": "vote", "user_id": "user"}
# Path variables that name nothing to check here: a place in a list, a choice of
# action, a join code, an event's co-host (the event is checked), one's own token
# (the accounts service finds only the actor's own, or any for an admin), an
# audience question (looked up within its event, which is checked).
UNCHECKED = {"index", "what", "code", "host_id", "token_id", "filename", "question_id"}


def owner_only(view):
    """Mark a route that only the event's owner (or an admin) may use, not its co-hosts."""
    view.access_level = OWN
    return view


def is_public(endpoint: str) -> bool:
    return endpoint in PUBLIC_ENDPOINTS or endpoint.partition(".")[0] in PUBLIC_BLUEPRINTS


def is_json(endpoint: str) -> bool:
    return endpoint.partition(".")[0] in JSON_BLUEPRINTS


def current_actor():
    """The actor the guard let through (None on public routes)."""
    return g.get("actor")


def request_actor():
    """Whoever the request's credentials name, on any route: for public reads that show
    more to a topic's managers. The API's key or token; the pages' session."""
    if request.endpoint and is_json(request.endpoint):
        return key_actor()
    return session_actor()


def _actor_for(endpoint: str):
    if not is_json(endpoint):
        return session_actor()
    actor = key_actor()
    if actor is None and endpoint in SESSION_JSON:
        actor = session_actor()
        if actor is not None and request.method not in ("GET", "HEAD"):
            from webapp.security import csrf

            csrf.protect()  # a browser sends its cookie anywhere: the page's token too
    return actor


def named_ids() -> list[tuple[str, str, bool]]:
    """(kind, id, in the path) of everything the request names: path variables, and a
    topic named in the form, the query or the JSON body (an existing topic added to an
    event)."""
    named = [(KINDS[k], v, True) for k, v in (request.view_args or {}).items() if k in KINDS]
    given = request.form.getlist("topic_id") + request.args.getlist("topic_id")
    body = json_body(required=False) if request.is_json else None
    if isinstance(body, dict):
        given.append(body.get("topic_id"))
        if isinstance(body.get("questions"), list):
            given += body["questions"]
    return named + [("topic", value, False) for value in given if isinstance(value, str)]


_MISSING = {"topic": TopicNotFound, "event": EventNotFound, "vote": NotFound, "user": UserNotFound}


def guard():
    """Before every view: the route's actor, and every id it names, or a refusal."""
    endpoint = request.endpoint
    if endpoint is None or is_public(endpoint):
        return None
    actor = _actor_for(endpoint)
    if actor is None:
        return _unauthenticated(endpoint)
    g.actor = actor
    g.acting = audit.act_as(actor)
    if actor.is_admin:
        return None  # admins and the operator reach everything; each view finds its ids
    level = getattr(current_app.view_functions[endpoint], "access_level", MANAGE)
    access = services.access()
    for kind, item_id, in_path in named_ids():
        if valid_id(item_id) is None:
            if in_path:
                raise _MISSING[kind](item_id)
            continue  # a malformed id in a body: the view's validation says so (422)
        access.check(actor, kind, item_id, level)
    return None


def _unauthenticated(endpoint: str):
    if is_json(endpoint):
        if not current_app.config["SETTINGS"].api_key and not _token_shaped():
            return error_response(503, "API_KEY is not set on this server, so the operator's "
                                       "key is off: send an account's API token instead")
        return error_response(
            401, "A valid admin key or API token is required (X-API-Key or Authorization: Bearer)"
        )
    if not request.path.startswith("/admin"):
        return error_response(403, N_("Sign in as this topic's organiser first."))
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    login = url_for("sign_in.login", next=target)
    if is_htmx():
        # A redirect would be followed by the XHR and the login page swapped
        # into a fragment; htmx navigates the whole page on HX-Redirect.
        return make_response("", 401, {"HX-Redirect": login})
    return redirect(login, 303)


def _token_shaped() -> bool:
    return token_id_of(presented_key() or "") is not None


def _stop_acting(_exc) -> None:
    token = g.pop("acting", None)
    if token is not None:
        audit.stop_acting(token)


def check_routes(app: Flask) -> None:
    """Every admin route's path variables are ones `guard` knows how to check."""
    for rule in app.url_map.iter_rules():
        if is_public(rule.endpoint):
            continue
        unknown = set(rule.arguments) - set(KINDS) - UNCHECKED
        if unknown:
            raise RuntimeError(
                f"{rule.rule}: webapp/access.py does not know what {sorted(unknown)} names"
            )




def init_app(app: Flask) -> None:
    """Register the gate after CSRFProtect (a forged form is a 400 before anything)."""
    app.before_request(guard)
    app.teardown_request(_stop_acting)
    # The admin pages' navigation says who is signed in and shows what their role may use.
    app.context_processor(lambda: {"actor": g.get("actor")})
