"""Voting Game: the Flask app factory."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import Flask

from core.settings import Settings

MAX_BODY_BYTES = 64 * 1024


def create_app(config: dict | None = None) -> Flask:
    """Build the app. `config` (from tests) overrides settings and Flask config keys.

    A key of `config` that names a Settings field (e.g. "table_prefix")
    overrides that setting; any other key goes to `app.config`.
    """
    app = Flask(__name__, template_folder="../templates", static_folder="../static")
    config = dict(config or {})
    overrides = {k: config.pop(k) for k in list(config) if k in Settings.model_fields}
    settings = Settings.from_env(**overrides)
    app.config.from_mapping(
        SETTINGS=settings,
        SECRET_KEY=_secret_key(settings),
        MAX_CONTENT_LENGTH=MAX_BODY_BYTES,
    )
    app.json.sort_keys = False
    app.config.update(config)
    from webapp.body import WholeChunkedBody

    app.wsgi_app = WholeChunkedBody(app.wsgi_app, app.config["MAX_CONTENT_LENGTH"])

    from webapp import (
        access,
        cli,
        errors,
        health,
        i18n,
        limits,
        metrics,
        public_url,
        request_ids,
        security,
        services,
        sso,
    )  # fmt: skip
    from webapp.admin import accounts as accounts_admin
    from webapp.admin import events as events_admin
    from webapp.admin import sign_in
    from webapp.admin import topics as admin
    from webapp.api import accounts as accounts_api
    from webapp.api import events as events_api
    from webapp.api import openapi
    from webapp.api import qna as qna_api
    from webapp.api import quiz as quiz_api
    from webapp.api import topics as api
    from webapp.audience import event_embed, event_pages, topic_embed, topic_pages
    from webapp.compiled import templates as compiled_templates
    from webapp.presenter import console as presenter_console
    from webapp.presenter import event_present, topic_present
    from webapp.push import views as push
    from webapp.qna import moderation as qna_admin
    from webapp.qna import phones as qna_phones

    # First, so every later hook (and its log lines) sees the request id.
    request_ids.init_app(app)
    _name_vote_clients(app)
    metrics.init_app(app)
    services.init_app(app)
    errors.init_app(app)
    limits.init_app(app)
    cli.init_app(app)
    i18n.init_app(app)
    compiled_templates.init_app(app)
    public_url.init_app(app)
    # Headers on every response; CSRF on every form POST but the key-authenticated API.
    security.init_app(app)
    for keyed in (api.bp, events_api.bp, accounts_api.bp, qna_api.bp, quiz_api.bp):
        security.exempt(keyed)
    # After CSRF: who may reach every admin route, and what it names (webapp/access.py).
    access.init_app(app)
    sso.init_app(app)
    for blueprint in (api.bp, health.bp, openapi.bp, events_api.bp, accounts_api.bp, quiz_api.bp,
                      topic_pages.bp, topic_present.bp, topic_embed.bp, event_embed.bp,
                      sign_in.bp, admin.bp, accounts_admin.bp, event_pages.bp,
                      events_admin.bp, event_present.bp, presenter_console.bp, qna_api.bp,
                      qna_phones.pages, qna_phones.embed, qna_admin.bp):  # fmt: skip
        app.register_blueprint(blueprint)
    push.init_app(app)
    access.check_routes(app)
    _cors(app, settings)
    return app


def _name_vote_clients(app: Flask) -> None:
    """Tell this process's group sender which client connection each vote comes from.

    A batch about to leave may then wait (briefly, bounded) for the other
    clients active in this process, instead of leaving half full
    (core/aws/group_send.py). Vote views are those wrapped in metrics.counts_votes.
    """
    from flask import g, request

    from webapp import services

    @app.before_request
    def name_vote_client():
        view = app.view_functions.get(request.endpoint)
        if getattr(view, "casts_vote", False):
            sender = services.voting().sender
            if sender is not None:
                port = request.environ.get("REMOTE_PORT")
                sender.from_client((request.remote_addr, port) if port else None)
                g.vote_sender = sender

    @app.teardown_request
    def forget_vote_client(_exc):
        # gunicorn's threads serve many connections: never leave one's name behind.
        sender = g.pop("vote_sender", None)
        if sender is not None:
            sender.from_client(None)


def _secret_key(settings: Settings) -> str:
    """SECRET_KEY, else one derived from API_KEY so every process agrees, else random.

    Deriving from API_KEY means rotating the key also signs everyone out.
    """
    if settings.secret_key:
        return settings.secret_key
    if settings.api_key:
        return hmac.new(settings.api_key.encode(), b"session-secret", hashlib.sha256).hexdigest()
    return secrets.token_hex(32)


def _cors(app: Flask, settings: Settings) -> None:
    if not settings.cors_origins:
        return
    from flask_cors import CORS

    # Never credentials: the API authenticates with a key header, not cookies,
    # and a wildcard origin must not be combined with credentials.
    CORS(
        app,
        resources={r"/(topics|votes)(/.*)?": {}},
        origins=settings.cors_origins,
        supports_credentials=False,
        allow_headers=["Content-Type", "X-API-Key", "Authorization", "X-Request-ID"],
    )
