"""A fresh stack per test on the session's moto server: its settings, tables and queue."""

from __future__ import annotations

import os
import uuid

import boto3

from core.aws.backend import Backend
from core.settings import Settings
from local import launcher as embedded
from tests.helpers.api import ADMIN_KEY

ROOT = embedded.ROOT


def make_env(endpoint: str, **extra: str) -> dict[str, str]:
    """The settings of a fresh stack (its own TABLE_PREFIX) on the AWS endpoint `endpoint`."""
    env = {
        "DYNAMODB_ENDPOINT_URL": endpoint,
        "AWS_SQS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
        "TABLE_PREFIX": f"t{uuid.uuid4().hex[:12]}-",
        "API_KEY": ADMIN_KEY,
        "SECRET_KEY": "test-secret-key",
        "WORKER_WAIT_SECONDS": "1",
        "TOPIC_CACHE_SECONDS": "0",
        "RESULTS_CACHE_SECONDS": "0",
        "VISIBILITY_TIMEOUT": "30",
        # Tests send many votes from 127.0.0.1; test_limits.py turns limits on.
        "RATE_LIMIT_VOTES": "",
        "RATE_LIMIT_VOTES_PER_VOTER": "",
        "RATE_LIMIT_VOTES_PER_ADDRESS": "",
        "RATE_LIMIT_LOGIN": "",
        "RATE_LIMIT_JOIN_CODE_MISSES": "",
        "RATE_LIMIT_QUESTIONS_PER_VOTER": "",
        # Many workers run at once: none binds the metrics port unless a test asks.
        "METRICS_PORT": "0",
    }
    env.update(extra)
    return env


def provision(env: dict[str, str]) -> dict[str, str]:
    """Create the tables and queue named by `env` (as `init-aws` does); returns `env`."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        settings = Settings.from_env()
        backend = Backend.connect(settings)
        backend.tables.create()
        backend.queue.create(settings.visibility_timeout, settings.max_receive_count)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return env


def new_stack(endpoint: str, **extra: str) -> dict[str, str]:
    """A fresh, provisioned stack on the AWS endpoint `endpoint`: its settings."""
    return provision(make_env(endpoint, **extra))


def aws_client(service: str, endpoint: str):
    """A boto3 client for the moto server at `endpoint`, with the tests' credentials."""
    return boto3.client(
        service, endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    )  # fmt: skip


def create_table(ddb, name: str, *keys: tuple[str, str]) -> None:
    """An on-demand table keyed by (attribute, type) pairs: the hash key, then any range key."""
    ddb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": attribute, "KeyType": role}
            for (attribute, _), role in zip(keys, ("HASH", "RANGE"), strict=False)
        ],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in keys],
        BillingMode="PAY_PER_REQUEST",
    )
