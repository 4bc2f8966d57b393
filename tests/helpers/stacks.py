"""A fresh stack per test on the session's moto server: its settings, tables and queue."""

from __future__ import annotations

import os
import uuid

import boto3

from bench.common import LIMITS_OFF
from core.aws.clients import Clients, clients_for
from core.aws.queue import VoteQueue
from core.aws.tables import Tables
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
        # Tests send many votes from 127.0.0.1; test_limits.py turns limits on. Every
        # limit the settings have, as the benchmarks turn them off.
        **LIMITS_OFF,
        # Many workers run at once: none binds the metrics port unless a test asks.
        "METRICS_PORT": "0",
    }
    env.update(extra)
    return env


def provision(env: dict[str, str]) -> dict[str, str]:
    """Create the tables and queue named by `env` (as `init-aws` does, through the same
    adapters); returns `env`. Most tests make a stack: the clients are made once per
    endpoint, and the moto server's tables need no wait to be ACTIVE."""
    saved = dict(os.environ)
    os.environ.update(env)  # what the clients read: credentials, region
    try:
        settings = Settings.from_env()
        endpoints = (settings.dynamodb_endpoint_url, settings.sqs_endpoint_url)
        clients = _CLIENTS.get(endpoints) or _CLIENTS.setdefault(endpoints, clients_for(settings))
    finally:
        os.environ.clear()
        os.environ.update(saved)
    Tables(clients.dynamodb, settings.table_prefix).create(wait=False)
    queue = VoteQueue(clients.sqs, settings.full_queue_name, settings.dlq_name)
    queue.create(settings.visibility_timeout, settings.max_receive_count)
    return env


# The provisioning clients of each endpoint (every stack's credentials are make_env's).
_CLIENTS: dict[tuple[str | None, str | None], Clients] = {}


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
