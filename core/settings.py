"""Settings read from the environment, shared by the web app and the worker.

One model states each setting once: its environment variable, its default and a
one-line description. The worker's `--help` and the checks of the docs' tables are
made from it (`described`). Only data lives here: no clients, no logic beyond
parsing. The original service's variable names keep their meaning (DYNAMODB_ENDPOINT_URL,
AWS_SQS_ENDPOINT_URL, AWS_REGION, API_KEY, API_CORS_ORIGINS); with the endpoint
variables unset the code talks to real AWS.

An empty variable counts as unset (the default applies), except where empty
says "none": TRUSTED_PROXIES="" trusts no proxy and RATE_LIMIT_*="" turns that
limit off (`EMPTY_IS_NONE`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, EnvSettingsSource, NoDecode, SettingsConfigDict

# Markers in a field's json_schema_extra: WORKER for the settings the worker
# process reads (its --help lists them), EMPTY_IS_NONE where "" is a value.
WORKER = {"worker": True}
EMPTY_IS_NONE = {"empty_is_none": True}
# scheme://host[:port]: a name, an IPv4 address or an IPv6 one in brackets.
_ORIGIN = re.compile(r"https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(:\d{1,5})?")


class InvalidSettings(ValueError):
    """An environment variable holds a value its setting cannot take; says which and why."""


class Settings(BaseSettings):
    """Every setting with its default; `Settings.from_env()` fills it from os.environ."""

    model_config = SettingsConfigDict(
        frozen=True,
        case_sensitive=True,
        # Overrides (create_app's config, worker flags) name fields; the environment, aliases.
        validate_by_name=True,
        validate_by_alias=True,
        extra="forbid",
    )

    # One setting a paragraph: its default, variable, limits, markers and description.
    # fmt: off
    # -- AWS -------------------------------------------------------------------------------
    dynamodb_endpoint_url: str | None = Field(
        None, validation_alias="DYNAMODB_ENDPOINT_URL", json_schema_extra=WORKER,
        description="DynamoDB endpoint (a local emulator); unset for real AWS",
    )
    sqs_endpoint_url: str | None = Field(
        None, validation_alias="AWS_SQS_ENDPOINT_URL", json_schema_extra=WORKER,
        description="SQS endpoint (a local emulator); unset for real AWS",
    )
    aws_region: str = Field(
        "us-east-1", validation_alias=AliasChoices("AWS_REGION", "AWS_DEFAULT_REGION"),
        json_schema_extra=WORKER, description="the AWS region of the tables and the queue",
    )
    table_prefix: str = Field(
        "", validation_alias="TABLE_PREFIX", json_schema_extra=WORKER,
        description="prefix of every table and queue name (two deployments in one account)",
    )
    queue_name: str = Field(
        "votes", validation_alias="QUEUE_NAME", json_schema_extra=WORKER,
        description="the votes queue, after the prefix; its dead-letter queue adds -dlq",
    )
    # -- who may do what -------------------------------------------------------------------
    api_key: str | None = Field(
        None, validation_alias="API_KEY", repr=False,
        description="the admin key of the API and admin pages; unset: admin writes answer 503",
    )
    admin_password: str | None = Field(
        None, validation_alias="ADMIN_PASSWORD", repr=False,
        description="a second way to sign in to the admin pages",
    )
    secret_key: str | None = Field(
        None, validation_alias="SECRET_KEY", repr=False,
        description="signs session and voter cookies; unset: derived from API_KEY",
    )
    session_hours: float = Field(
        12.0, gt=0, le=24 * 31, validation_alias="SESSION_HOURS",
        description="how long an admin page sign-in lasts (signing out ends it at once)",
    )
    # -- single sign-on (OpenID Connect); all three set turn it on -------------------------
    oidc_issuer: str | None = Field(
        None, validation_alias="OIDC_ISSUER",
        description="the provider's issuer URL; its discovery document is read unless "
                    "the endpoints below are given",
    )
    oidc_client_id: str | None = Field(
        None, validation_alias="OIDC_CLIENT_ID", description="this app's client id at the provider",
    )
    oidc_client_secret: str | None = Field(
        None, validation_alias="OIDC_CLIENT_SECRET", repr=False,
        description="this app's client secret at the provider",
    )
    oidc_authorize_url: str | None = Field(
        None, validation_alias="OIDC_AUTHORIZE_URL",
        description="the authorization endpoint, for a provider without discovery",
    )
    oidc_token_url: str | None = Field(
        None, validation_alias="OIDC_TOKEN_URL",
        description="the token endpoint, for a provider without discovery",
    )
    oidc_jwks_url: str | None = Field(
        None, validation_alias="OIDC_JWKS_URL",
        description="the provider's signing keys (JWKS), for a provider without discovery",
    )
    oidc_allowed_domains: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="OIDC_ALLOWED_DOMAINS",
        description="comma-separated email domains whose people get an organiser account "
                    "on their first single sign-on",
    )
    oidc_name: str = Field(
        "single sign-on", validation_alias="OIDC_NAME",
        description="the provider's name on the sign-in button (Sign in with ...)",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, validation_alias="API_CORS_ORIGINS",
        description="comma-separated origins that may call the API from a browser",
    )
    # Every other page may never be framed (CSP frame-ancestors).
    embed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["*"], validation_alias="EMBED_ORIGINS",
        description="comma-separated origins that may show the embeds in an iframe; * any site",
    )
    # The join URL and QR code carry it (webapp/public_url.py); `make run` may set it.
    public_url: str | None = Field(
        None, validation_alias="PUBLIC_URL",
        description="the origin phones reach the app at (https://vote.example.org) for join "
        "URLs and QR codes; unset: the address the request came to",
    )
    # -- intake ----------------------------------------------------------------------------
    # The worker re-checks every vote, so a stale topic can only turn a would-be 409/422
    # into a `rejected` vote, never a wrong count (core/services/topics.py refreshes it).
    topic_cache_seconds: float = Field(
        2.0, ge=0, validation_alias="TOPIC_CACHE_SECONDS",
        description="how long a web process trusts its copy of a topic when checking a vote",
    )
    results_cache_seconds: float = Field(
        1.0, ge=0, validation_alias="RESULTS_CACHE_SECONDS",
        description="how long a web process reuses a topic's tallies for results polling",
    )
    # Votes arriving together share one SendMessageBatch (core/aws/group_send.py).
    sqs_group_commit: bool = Field(
        True, validation_alias="SQS_GROUP_COMMIT",
        description="votes of a web process share a SendMessageBatch; 0, false or off: one each",
    )
    sqs_send_max_wait_seconds: float = Field(
        5.0, ge=0, validation_alias="SQS_SEND_MAX_WAIT_SECONDS",
        description="a vote not sent within this (SQS slow or stalled) is refused with a 503",
    )
    # Only while votes are announced inside the process (their requests started).
    sqs_group_max_linger_seconds: float = Field(
        0.02, ge=0, validation_alias="SQS_GROUP_MAX_LINGER_SECONDS",
        description="how long a batch about to leave waits for the process's other votes; 0: none",
    )
    # -- the worker ------------------------------------------------------------------------
    worker_wait_seconds: int = Field(
        20, ge=0, le=20, validation_alias="WORKER_WAIT_SECONDS", json_schema_extra=WORKER,
        description="the worker's SQS long-poll wait (SQS allows 0 to 20)",
    )
    visibility_timeout: int = Field(
        30, ge=0, le=43200, validation_alias="VISIBILITY_TIMEOUT", json_schema_extra=WORKER,
        description="the queue's visibility timeout; the worker extends it while a batch is slow",
    )
    max_receive_count: int = Field(
        5, ge=1, le=1000, validation_alias="MAX_RECEIVE_COUNT",
        description="receives before SQS moves a message to the DLQ (as init-aws makes the queue)",
    )
    # A topic's own tally_shards (1-100) overrides it.
    tally_shards: int = Field(
        1, ge=1, validation_alias="TALLY_SHARDS", json_schema_extra=WORKER,
        description="tally items per choice, to spread a very hot topic's writes",
    )
    # -- operations: read by gunicorn.conf.py and the worker's metrics server --------------
    port: int = Field(
        8000, ge=0, le=65535, validation_alias="PORT", description="gunicorn binds 0.0.0.0:PORT",
    )
    web_concurrency: int = Field(
        2, ge=1, validation_alias="WEB_CONCURRENCY", description="gunicorn worker processes",
    )
    # One thread of greenlets (gevent) per process: each open event stream is a connection.
    web_connections: int = Field(
        10000, ge=1, validation_alias="WEB_CONNECTIONS",
        description="open connections per web process (gunicorn's worker_connections)",
    )
    max_streams_per_process: int = Field(
        5000, ge=0, validation_alias="MAX_STREAMS_PER_PROCESS",
        description="open event streams per web process; more are answered 503 (pages poll)",
    )
    # A hall behind one NAT is thousands of phones: the proxy limits clients (docs/deploy.md).
    max_connections_per_address: int = Field(
        10000, ge=1, validation_alias="MAX_CONNECTIONS_PER_ADDRESS",
        description="open connections from one client address per web process; more are closed",
    )
    request_body_seconds: float = Field(
        30.0, gt=0, validation_alias="REQUEST_BODY_SECONDS",
        description="a request's body must arrive within this; else 408")  # fmt: skip
    # "*" only when nothing but the proxy can reach the app.
    trusted_proxies: str = Field(
        "127.0.0.1,::1", validation_alias="TRUSTED_PROXIES", json_schema_extra=EMPTY_IS_NONE,
        description="comma-separated proxies whose X-Forwarded-* headers count; * any, empty none",
    )
    metrics_port: int = Field(
        9191, ge=0, le=65535, validation_alias="METRICS_PORT", json_schema_extra=WORKER,
        description="the worker's /metrics and /healthz port; 0 turns it off",
    )
    log_level: str = Field(
        "INFO", validation_alias="LOG_LEVEL", json_schema_extra=WORKER,
        description="DEBUG, INFO, WARNING or ERROR (any case)",
    )
    # -- abuse limits (Flask-Limiter syntax) and where they count ---------------------------
    # A room may share one NAT address: votes are limited per voter (per address when naming
    # none) under a ceiling a packed hall stays under; voter policies stop double voting.
    rate_limit_votes: str = Field(
        "600 per minute", validation_alias="RATE_LIMIT_VOTES", json_schema_extra=EMPTY_IS_NONE,
        description="votes per client address that name no voter; empty: no limit",
    )
    rate_limit_votes_per_voter: str = Field(
        "60 per minute", validation_alias="RATE_LIMIT_VOTES_PER_VOTER",
        json_schema_extra=EMPTY_IS_NONE, description="votes per voter; empty: no limit",
    )
    rate_limit_votes_per_address: str = Field(
        "5000 per minute", validation_alias="RATE_LIMIT_VOTES_PER_ADDRESS",
        json_schema_extra=EMPTY_IS_NONE,
        description="the ceiling on every vote from one client address; empty: no limit",
    )
    rate_limit_questions_per_voter: str = Field(
        "5 per minute", validation_alias="RATE_LIMIT_QUESTIONS_PER_VOTER",
        json_schema_extra=EMPTY_IS_NONE,
        description="audience questions per voter (per address if none named); empty: no limit",
    )
    rate_limit_login: str = Field(
        "10 per minute", validation_alias="RATE_LIMIT_LOGIN", json_schema_extra=EMPTY_IS_NONE,
        description="admin sign-in attempts per client address; empty: no limit",
    )
    rate_limit_join_code_misses: str = Field(
        "30 per minute", validation_alias="RATE_LIMIT_JOIN_CODE_MISSES",
        json_schema_extra=EMPTY_IS_NONE,
        description="join codes naming no event, per client address; empty: no limit",
    )
    event_idle_days: int = Field(
        28, ge=0, validation_alias="EVENT_IDLE_DAYS",
        description="an event without its own expires_at ends this long after its last change",
    )
    ratelimit_storage_uri: str = Field(
        "dynamodb://", validation_alias="RATELIMIT_STORAGE_URI",
        description="where limits count: dynamodb:// the shared counters table, memory://, redis://",
    )
    # `make run` sets it to pause votes while saves fail (webapp/pause.py).
    pause_votes_file: str | None = Field(
        None, validation_alias="PAUSE_VOTES_FILE",
        description="a file whose text, while there, pauses vote intake (503) and fails /readyz",
    )
    # fmt: on

    @field_validator("cors_origins", "embed_origins", "oidc_allowed_domains", mode="before")
    @classmethod
    def _comma_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        return value

    @field_validator("public_url")
    @classmethod
    def _origin(cls, value: str | None) -> str | None:
        # An origin only: the path comes from the app's own URLs (and any proxy prefix).
        if value is None:
            return None
        origin = value.rstrip("/")
        if not _ORIGIN.fullmatch(origin):
            raise ValueError("an origin: http(s)://host or http(s)://host:port, no path")
        return origin

    @field_validator("sqs_group_commit", mode="before")
    @classmethod
    def _switch(cls, value: Any) -> Any:
        # Anything but an explicit "off" keeps group commit on.
        if isinstance(value, str):
            return value.lower() not in ("0", "false", "off")
        return value

    @field_validator("log_level")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, **_sources):
        """Overrides first, then the environment: no .env file, no secrets directory."""
        return init_settings, _Environment(settings_cls)

    @classmethod
    def from_env(cls, **overrides: Any) -> Settings:
        """os.environ's settings, `overrides` (field names) first; InvalidSettings names misfits."""
        try:
            return cls(**overrides)
        except ValidationError as exc:
            raise InvalidSettings(_explain(cls, exc)) from None

    def table_name(self, base: str) -> str:
        return f"{self.table_prefix}{base}"

    @property
    def oidc_enabled(self) -> bool:
        """Single sign-on is on when the issuer, client id and client secret are all set."""
        return bool(self.oidc_issuer and self.oidc_client_id and self.oidc_client_secret)

    @property
    def full_queue_name(self) -> str:
        return f"{self.table_prefix}{self.queue_name}"

    @property
    def dlq_name(self) -> str:
        return f"{self.full_queue_name}-dlq"


class _Environment(EnvSettingsSource):
    """A setting from its variables, the first set winning ("" unset unless EMPTY_IS_NONE)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        for name in env_names(field):
            value = self.env_vars.get(name)
            if value is not None and (value != "" or _marked(field, EMPTY_IS_NONE)):
                # Keyed by the variable, so a validation error names it.
                return value, name, False
        return None, field_name, False


def env_names(field: FieldInfo) -> list[str]:
    """The variables a setting is read from, in order of preference."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return [str(choice) for choice in alias.choices]
    return [str(alias)]


def _marked(field: FieldInfo, marker: dict) -> bool:
    extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
    return all(extra.get(key) == value for key, value in marker.items())


def _explain(model: type[Settings], exc: ValidationError) -> str:
    """One line per bad value: `NAME='value': what is wrong`."""
    lines = []
    for error in exc.errors():
        key = str(error["loc"][0]) if error["loc"] else "settings"
        if key in model.model_fields:
            key = env_names(model.model_fields[key])[0]
        lines.append(f"{key}={error.get('input')!r}: {error['msg']}")
    return "; ".join(lines)


@dataclass(frozen=True)
class Described:
    """One setting as the docs and --help show it."""

    names: list[str]
    default: str
    description: str


def shown_default(field: FieldInfo) -> str:
    """A default as it would be written in the environment ("unset" for none)."""
    value = field.get_default(call_default_factory=True)
    if value is None or value == []:
        return "unset"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list):
        return ",".join(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value) if value != "" else "empty"


def described(model: type[Settings] = Settings, *, worker: bool = False) -> list[Described]:
    """Every setting of `model` (or only those the worker reads), in the model's order."""
    return [
        Described(env_names(field), shown_default(field), field.description or "")
        for field in model.model_fields.values()
        if not worker or _marked(field, WORKER)
    ]


def environment_help(model: type[Settings] = Settings, *, worker: bool = False) -> str:
    """The settings as an --help epilog: each variable, its default and what it does."""
    lines = ["environment (an empty variable counts as unset unless said):"]
    for item in described(model, worker=worker):
        names = " (or ".join(item.names) + ")" * (len(item.names) - 1)
        lines.append(f"  {names} (default {item.default})")
        lines.append(f"      {item.description}")
    return "\n".join(lines)
