"""core/settings.py: every variable read as it always was, "" semantics, clear errors,
and the worker's --help made from the model."""

from __future__ import annotations

import pytest
from pydantic import Field

from core.services.worker import build_parser
from core.settings import (
    WORKER,
    InvalidSettings,
    Settings,
    described,
    env_names,
    environment_help,
)

VARIABLES = sorted({name for field in Settings.model_fields.values() for name in env_names(field)})


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    """No setting from the machine running the tests: each test sets what it reads."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name in Settings.model_fields:
        monkeypatch.delenv(name, raising=False)


def with_env(monkeypatch, **env: str) -> Settings:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings.from_env()


# Each variable, a value, and the setting it gives.
READS = [
    ("DYNAMODB_ENDPOINT_URL", "http://127.0.0.1:5000", "dynamodb_endpoint_url", "http://127.0.0.1:5000"),
    ("AWS_SQS_ENDPOINT_URL", "http://127.0.0.1:5001", "sqs_endpoint_url", "http://127.0.0.1:5001"),
    ("AWS_REGION", "eu-west-1", "aws_region", "eu-west-1"),
    ("AWS_DEFAULT_REGION", "eu-central-1", "aws_region", "eu-central-1"),
    ("TABLE_PREFIX", "voting-", "table_prefix", "voting-"),
    ("QUEUE_NAME", "ballots", "queue_name", "ballots"),
    ("API_KEY", "k", "api_key", "k"),
    ("ADMIN_PASSWORD", "p", "admin_password", "p"),
    ("SECRET_KEY", "s", "secret_key", "s"),
    ("API_CORS_ORIGINS", "https://a.example, https://b.example,", "cors_origins",
     ["https://a.example", "https://b.example"]),
    ("EMBED_ORIGINS", "https://blog.example", "embed_origins", ["https://blog.example"]),
    ("TOPIC_CACHE_SECONDS", "0", "topic_cache_seconds", 0.0),
    ("RESULTS_CACHE_SECONDS", "2.5", "results_cache_seconds", 2.5),
    ("WORKER_WAIT_SECONDS", "1", "worker_wait_seconds", 1),
    ("VISIBILITY_TIMEOUT", "2", "visibility_timeout", 2),
    ("MAX_RECEIVE_COUNT", "3", "max_receive_count", 3),
    ("TALLY_SHARDS", "4", "tally_shards", 4),
    ("SQS_GROUP_COMMIT", "0", "sqs_group_commit", False),
    ("SQS_GROUP_COMMIT", "false", "sqs_group_commit", False),
    ("SQS_GROUP_COMMIT", "OFF", "sqs_group_commit", False),
    ("SQS_GROUP_COMMIT", "no", "sqs_group_commit", True),  # only 0, false and off turn it off
    ("SQS_SEND_MAX_WAIT_SECONDS", "0.5", "sqs_send_max_wait_seconds", 0.5),
    ("PORT", "8080", "port", 8080),
    ("WEB_CONCURRENCY", "3", "web_concurrency", 3),
    ("WEB_CONNECTIONS", "16", "web_connections", 16),
    ("MAX_STREAMS_PER_PROCESS", "0", "max_streams_per_process", 0),
    ("MAX_CONNECTIONS_PER_ADDRESS", "50", "max_connections_per_address", 50),
    ("REQUEST_BODY_SECONDS", "2.5", "request_body_seconds", 2.5),
    ("TRUSTED_PROXIES", "10.0.0.0/8", "trusted_proxies", "10.0.0.0/8"),
    ("METRICS_PORT", "0", "metrics_port", 0),
    ("LOG_LEVEL", "debug", "log_level", "DEBUG"),
    ("RATE_LIMIT_VOTES", "2 per minute", "rate_limit_votes", "2 per minute"),
    ("RATE_LIMIT_VOTES_PER_VOTER", "3 per minute", "rate_limit_votes_per_voter", "3 per minute"),
    ("RATE_LIMIT_VOTES_PER_ADDRESS", "4 per hour", "rate_limit_votes_per_address", "4 per hour"),
    ("RATE_LIMIT_LOGIN", "5 per minute", "rate_limit_login", "5 per minute"),
    ("RATE_LIMIT_JOIN_CODE_MISSES", "5 per hour", "rate_limit_join_code_misses", "5 per hour"),
    ("EVENT_IDLE_DAYS", "7", "event_idle_days", 7),
    ("RATE_LIMIT_QUESTIONS_PER_VOTER", "2 per minute", "rate_limit_questions_per_voter",
     "2 per minute"),
    ("RATELIMIT_STORAGE_URI", "redis://cache:6379", "ratelimit_storage_uri", "redis://cache:6379"),
    ("PAUSE_VOTES_FILE", "/tmp/pause", "pause_votes_file", "/tmp/pause"),
    ("SQS_GROUP_MAX_LINGER_SECONDS", "0", "sqs_group_max_linger_seconds", 0.0),
    ("SESSION_HOURS", "8", "session_hours", 8.0),
    ("OIDC_ISSUER", "https://id.example.org", "oidc_issuer", "https://id.example.org"),
    ("OIDC_CLIENT_ID", "voting", "oidc_client_id", "voting"),
    ("OIDC_CLIENT_SECRET", "s3cret", "oidc_client_secret", "s3cret"),
    ("OIDC_AUTHORIZE_URL", "https://id/a", "oidc_authorize_url", "https://id/a"),
    ("OIDC_TOKEN_URL", "https://id/t", "oidc_token_url", "https://id/t"),
    ("OIDC_JWKS_URL", "https://id/k", "oidc_jwks_url", "https://id/k"),
    ("OIDC_ALLOWED_DOMAINS", "school.example, staff.example", "oidc_allowed_domains",
     ["school.example", "staff.example"]),
    ("OIDC_NAME", "the school's account", "oidc_name", "the school's account"),
    ("PUBLIC_URL", "https://vote.example.org/", "public_url", "https://vote.example.org"),
    ("PUBLIC_URL", "http://192.168.1.20:8000", "public_url", "http://192.168.1.20:8000"),
]  # fmt: skip

# The defaults with nothing set (as the deployment docs promise them).
DEFAULTS = {
    "dynamodb_endpoint_url": None, "sqs_endpoint_url": None, "aws_region": "us-east-1",
    "table_prefix": "", "queue_name": "votes", "api_key": None, "admin_password": None,
    "secret_key": None, "cors_origins": [], "embed_origins": ["*"], "topic_cache_seconds": 2.0,
    "results_cache_seconds": 1.0, "worker_wait_seconds": 20, "visibility_timeout": 30,
    "max_receive_count": 5, "tally_shards": 1, "sqs_group_commit": True,
    "sqs_send_max_wait_seconds": 5.0, "port": 8000, "web_concurrency": 2, "web_connections": 10000,
    "max_streams_per_process": 5000, "max_connections_per_address": 10000,
    "request_body_seconds": 30.0,
    "trusted_proxies": "127.0.0.1,::1", "metrics_port": 9191, "log_level": "INFO",
    "rate_limit_votes": "600 per minute", "rate_limit_votes_per_voter": "60 per minute",
    "rate_limit_votes_per_address": "5000 per minute", "rate_limit_login": "10 per minute",
    "rate_limit_join_code_misses": "30 per minute", "event_idle_days": 28,
    "ratelimit_storage_uri": "dynamodb://", "pause_votes_file": None,
    "sqs_group_max_linger_seconds": 0.02, "session_hours": 12.0, "oidc_issuer": None,
    "oidc_client_id": None, "oidc_client_secret": None, "oidc_authorize_url": None,
    "oidc_token_url": None, "oidc_jwks_url": None, "oidc_allowed_domains": [],
    "oidc_name": "single sign-on", "public_url": None,
    "rate_limit_questions_per_voter": "5 per minute",
}  # fmt: skip

# "" says "none" for these; for every other variable "" counts as unset.
EMPTY_IS_A_VALUE = {
    "TRUSTED_PROXIES", "RATE_LIMIT_VOTES", "RATE_LIMIT_VOTES_PER_VOTER",
    "RATE_LIMIT_VOTES_PER_ADDRESS", "RATE_LIMIT_LOGIN", "RATE_LIMIT_JOIN_CODE_MISSES",
    "RATE_LIMIT_QUESTIONS_PER_VOTER",
}  # fmt: skip


def test_nothing_set_gives_every_default():
    settings = Settings.from_env()
    assert {name: getattr(settings, name) for name in Settings.model_fields} == DEFAULTS


@pytest.mark.parametrize(("variable", "value", "name", "expected"), READS)
def test_each_variable_sets_its_setting(monkeypatch, variable, value, name, expected):
    settings = with_env(monkeypatch, **{variable: value})
    assert getattr(settings, name) == expected
    others = {n: getattr(settings, n) for n in DEFAULTS if n != name}
    assert others == {n: v for n, v in DEFAULTS.items() if n != name}


def test_every_variable_is_in_the_table():
    assert {variable for variable, *_ in READS} == set(VARIABLES)


@pytest.mark.parametrize("variable", sorted(set(VARIABLES) - EMPTY_IS_A_VALUE))
def test_an_empty_variable_counts_as_unset(monkeypatch, variable):
    settings = with_env(monkeypatch, **{variable: ""})
    assert {name: getattr(settings, name) for name in DEFAULTS} == DEFAULTS


@pytest.mark.parametrize("variable", sorted(EMPTY_IS_A_VALUE))
def test_empty_trusts_no_proxy_and_turns_a_limit_off(monkeypatch, variable):
    name = next(n for n, f in Settings.model_fields.items() if variable in env_names(f))
    assert getattr(with_env(monkeypatch, **{variable: ""}), name) == ""


def test_the_region_falls_back_to_aws_default_region_then_us_east_1(monkeypatch):
    assert with_env(monkeypatch, AWS_REGION="", AWS_DEFAULT_REGION="eu-west-3").aws_region == (
        "eu-west-3"
    )
    assert with_env(monkeypatch, AWS_REGION="eu-west-1").aws_region == "eu-west-1"
    assert with_env(monkeypatch, AWS_REGION="", AWS_DEFAULT_REGION="").aws_region == "us-east-1"


def test_an_empty_embed_origins_is_any_site_and_blank_parts_are_dropped(monkeypatch):
    assert with_env(monkeypatch, EMBED_ORIGINS="").embed_origins == ["*"]
    assert with_env(monkeypatch, EMBED_ORIGINS=" , ").embed_origins == []


def test_field_names_and_other_cases_are_not_variables(monkeypatch):
    """Only the documented names count: `port` or `Port` in the environment is not PORT."""
    settings = with_env(monkeypatch, port="1", Port="2", table_prefix="x-", queue_name="q")
    assert (settings.port, settings.table_prefix, settings.queue_name) == (8000, "", "votes")


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("PORT", "eighty", "valid integer"),
        ("WEB_CONCURRENCY", "2.5", "valid integer"),
        ("WEB_CONNECTIONS", "0", "greater than or equal to 1"),
        ("REQUEST_BODY_SECONDS", "0", "greater than 0"),
        ("TOPIC_CACHE_SECONDS", "soon", "valid number"),
        ("SQS_SEND_MAX_WAIT_SECONDS", "-1", "greater than or equal to 0"),
        ("WORKER_WAIT_SECONDS", "21", "less than or equal to 20"),
        ("METRICS_PORT", "70000", "less than or equal to 65535"),
        ("TALLY_SHARDS", "0", "greater than or equal to 1"),
        ("PUBLIC_URL", "vote.example.org", "an origin"),
        ("PUBLIC_URL", "https://example.org/vote", "no path"),
    ],
)
def test_a_bad_number_is_refused_naming_the_variable(monkeypatch, variable, value, says):
    with pytest.raises(InvalidSettings) as refused:
        with_env(monkeypatch, **{variable: value})
    assert str(refused.value).startswith(f"{variable}={value!r}: ")
    assert says in str(refused.value)
    assert "\n" not in str(refused.value)


def test_every_bad_variable_is_named_at_once(monkeypatch):
    with pytest.raises(InvalidSettings) as refused:
        with_env(monkeypatch, PORT="x", METRICS_PORT="y")
    assert "PORT='x'" in str(refused.value) and "METRICS_PORT='y'" in str(refused.value)


def test_overrides_name_fields_win_over_the_environment_and_are_checked(monkeypatch):
    monkeypatch.setenv("TABLE_PREFIX", "env-")
    settings = Settings.from_env(table_prefix="mine-", sqs_group_commit=False)
    assert (settings.table_prefix, settings.sqs_group_commit) == ("mine-", False)
    assert settings.table_name("topics") == "mine-topics"
    assert (settings.full_queue_name, settings.dlq_name) == ("mine-votes", "mine-votes-dlq")
    with pytest.raises(InvalidSettings, match="WORKER_WAIT_SECONDS"):
        Settings.from_env(worker_wait_seconds=40)
    with pytest.raises(InvalidSettings, match="no_such_setting"):
        Settings.from_env(no_such_setting=1)


def test_settings_are_frozen():
    settings = Settings.from_env()
    with pytest.raises(ValueError):
        settings.port = 1


def test_secrets_stay_out_of_the_repr(monkeypatch):
    settings = with_env(monkeypatch, API_KEY="key-123", ADMIN_PASSWORD="pw-456", SECRET_KEY="s-789")
    for secret in ("key-123", "pw-456", "s-789"):
        assert secret not in repr(settings) and secret not in str(settings)


def test_every_setting_has_a_description():
    assert [item.names for item in described() if not item.description] == []


# -- the worker's --help -------------------------------------------------------------------


def worker_fields() -> dict[str, object]:
    return {n: f for n, f in Settings.model_fields.items() if f.json_schema_extra == WORKER}


def test_worker_help_lists_every_setting_the_worker_reads_with_its_default():
    text = build_parser().format_help()
    assert set(worker_fields()) >= {
        "dynamodb_endpoint_url", "sqs_endpoint_url", "aws_region", "table_prefix", "queue_name",
        "worker_wait_seconds", "visibility_timeout", "tally_shards", "metrics_port", "log_level",
    }  # fmt: skip
    for item in described(worker=True):
        assert f"{item.names[0]} " in text
        assert f"(default {item.default})" in text
        assert item.description in text
    assert "AWS_REGION (or AWS_DEFAULT_REGION) (default us-east-1)" in text
    assert "WORKER_WAIT_SECONDS (default 20)" in text
    assert "METRICS_PORT (default 9191)" in text


def test_worker_help_leaves_out_what_only_the_web_reads():
    text = build_parser().format_help()
    for variable in ("  PORT ", "API_KEY", "SECRET_KEY", "RATE_LIMIT_VOTES", "TRUSTED_PROXIES"):
        assert variable not in text


def test_a_new_worker_setting_shows_in_the_help_by_itself():
    class Wider(Settings):
        batch_pause_seconds: float = Field(
            0.5, validation_alias="BATCH_PAUSE_SECONDS", json_schema_extra=WORKER,
            description="a pause between batches",
        )  # fmt: skip

    text = environment_help(Wider, worker=True)
    assert "  BATCH_PAUSE_SECONDS (default 0.5)\n      a pause between batches" in text
    assert "BATCH_PAUSE_SECONDS" not in environment_help(Settings, worker=True)


def test_the_worker_refuses_a_bad_variable_with_a_usage_error(monkeypatch, capsys):
    from core.services.worker import main

    monkeypatch.setenv("VISIBILITY_TIMEOUT", "half a minute")
    with pytest.raises(SystemExit) as stopped:
        main([])
    assert stopped.value.code == 2
    assert "VISIBILITY_TIMEOUT='half a minute'" in capsys.readouterr().err
