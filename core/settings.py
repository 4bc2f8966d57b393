"""Settings read from the environment, shared by the web app and the worker.

Only data lives here: no clients, no logic beyond parsing. The variable names
of the original service keep their meaning (DYNAMODB_ENDPOINT_URL,
AWS_SQS_ENDPOINT_URL, AWS_REGION, API_KEY, API_CORS_ORIGINS); with the
endpoint variables unset the code talks to real AWS.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _csv(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


@dataclass(frozen=True)
class Settings:
    """Every setting with its default; `from_env()` fills it from os.environ."""

    dynamodb_endpoint_url: str | None = None
    sqs_endpoint_url: str | None = None
    aws_region: str = "us-east-1"
    table_prefix: str = ""
    queue_name: str = "votes"
    api_key: str | None = None
    admin_password: str | None = None
    secret_key: str | None = None
    cors_origins: list[str] = field(default_factory=list)
    # Sites allowed to show /t/<id>/embed in an iframe (CSP frame-ancestors);
    # "*" is any site. Every other page may never be framed.
    embed_origins: list[str] = field(default_factory=lambda: ["*"])
    # How long a web process may serve a topic from memory when validating a
    # vote at intake (and as long again while it refreshes it in the background,
    # see cache.py). The worker re-checks every vote, so staleness can only
    # turn a would-be 409/422 into a recorded `rejected` vote, never a wrong count.
    topic_cache_seconds: float = 2.0
    # Results tallies per topic are cached this long per web process (same rule).
    results_cache_seconds: float = 1.0
    # Worker: long-poll wait and SQS visibility timeout it expects.
    worker_wait_seconds: int = 20
    visibility_timeout: int = 30
    max_receive_count: int = 5
    tally_shards: int = 1
    # Intake: votes arriving together in one web process share one
    # SendMessageBatch (core/aws/group_send.py); off sends one message per
    # request. A vote not yet sent after SQS_SEND_MAX_WAIT_SECONDS (SQS slow
    # or stalled) is refused with a 503 instead of waiting on.
    sqs_group_commit: bool = True
    sqs_send_max_wait_seconds: float = 5.0
    # Operations: read by gunicorn.conf.py and the worker's metrics server.
    # gunicorn binds 0.0.0.0:PORT; WEB_CONCURRENCY processes of WEB_THREADS
    # threads each (requests mostly wait on SQS/DynamoDB, so threads are cheap).
    port: int = 8000
    web_concurrency: int = 2
    web_threads: int = 8
    # Comma-separated proxy addresses whose X-Forwarded-* headers gunicorn trusts
    # ("*" for any: only when nothing but the proxy can reach the app).
    trusted_proxies: str = "127.0.0.1,::1"
    # The worker's /metrics and /healthz port (the original's 9191); 0 turns it off.
    metrics_port: int = 9191
    log_level: str = "INFO"
    # Abuse limits (Flask-Limiter syntax, "" turns one off) and where they count.
    # Votes are limited per voter (cookie or voter_id), since a whole room may
    # share one NAT address; per address only for votes naming no voter, plus a
    # ceiling a packed hall (2,000 voters in a minute) stays under. The voter
    # policies, not these, are what stop double voting (webapp/limits.py).
    rate_limit_votes: str = "600 per minute"
    rate_limit_votes_per_voter: str = "60 per minute"
    rate_limit_votes_per_address: str = "5000 per minute"
    rate_limit_login: str = "10 per minute"
    ratelimit_storage_uri: str = "memory://"
    # A file whose text, while there, pauses vote intake (503) and fails /readyz
    # (webapp/pause.py); `make run` sets it to pause votes while saves fail.
    pause_votes_file: str | None = None
    # Intake group commit: how long a batch about to leave may wait for votes
    # already inside the process (announced as their requests start), only
    # while some are announced; 0 sends at once (core/aws/group_send.py).
    sqs_group_max_linger_seconds: float = 0.02

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            dynamodb_endpoint_url=_env("DYNAMODB_ENDPOINT_URL"),
            sqs_endpoint_url=_env("AWS_SQS_ENDPOINT_URL"),
            aws_region=_env("AWS_REGION", _env("AWS_DEFAULT_REGION", "us-east-1")),
            table_prefix=_env("TABLE_PREFIX", ""),
            queue_name=_env("QUEUE_NAME", "votes"),
            api_key=_env("API_KEY"),
            admin_password=_env("ADMIN_PASSWORD"),
            secret_key=_env("SECRET_KEY"),
            cors_origins=_csv(_env("API_CORS_ORIGINS")),
            embed_origins=_csv(_env("EMBED_ORIGINS", "*")),
            topic_cache_seconds=float(_env("TOPIC_CACHE_SECONDS", "2")),
            results_cache_seconds=float(_env("RESULTS_CACHE_SECONDS", "1")),
            worker_wait_seconds=int(_env("WORKER_WAIT_SECONDS", "20")),
            visibility_timeout=int(_env("VISIBILITY_TIMEOUT", "30")),
            max_receive_count=int(_env("MAX_RECEIVE_COUNT", "5")),
            tally_shards=int(_env("TALLY_SHARDS", "1")),
            sqs_group_commit=_env("SQS_GROUP_COMMIT", "1").lower() not in ("0", "false", "off"),
            sqs_send_max_wait_seconds=float(_env("SQS_SEND_MAX_WAIT_SECONDS", "5")),
            port=int(_env("PORT", "8000")),
            web_concurrency=int(_env("WEB_CONCURRENCY", "2")),
            web_threads=int(_env("WEB_THREADS", "8")),
            trusted_proxies=os.environ.get("TRUSTED_PROXIES", "127.0.0.1,::1"),  # "" trusts none
            metrics_port=int(_env("METRICS_PORT", "9191")),
            log_level=_env("LOG_LEVEL", "INFO").upper(),
            rate_limit_votes=os.environ.get("RATE_LIMIT_VOTES", "600 per minute"),
            rate_limit_votes_per_voter=os.environ.get(
                "RATE_LIMIT_VOTES_PER_VOTER", "60 per minute"
            ),
            rate_limit_votes_per_address=os.environ.get(
                "RATE_LIMIT_VOTES_PER_ADDRESS", "5000 per minute"
            ),
            rate_limit_login=os.environ.get("RATE_LIMIT_LOGIN", "10 per minute"),
            ratelimit_storage_uri=_env("RATELIMIT_STORAGE_URI", "memory://"),
            pause_votes_file=_env("PAUSE_VOTES_FILE"),
            sqs_group_max_linger_seconds=float(_env("SQS_GROUP_MAX_LINGER_SECONDS", "0.02")),
        )

    def table_name(self, base: str) -> str:
        return f"{self.table_prefix}{base}"

    @property
    def full_queue_name(self) -> str:
        return f"{self.table_prefix}{self.queue_name}"

    @property
    def dlq_name(self) -> str:
        return f"{self.full_queue_name}-dlq"
