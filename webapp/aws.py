"""boto3 clients: endpoints, retries and timeouts in one place.

Clients are made by the process that uses them (never at import time, never
shared across a fork): gunicorn workers call `clients_for()` after forking via
the app factory, the worker process calls it in `main()`.
"""

from __future__ import annotations

from dataclasses import dataclass

import boto3
from botocore.config import Config

from .config import Settings

# Timeouts shorter than SQS's 20 s long poll would cut every receive short, so
# the read timeout leaves room for it. `standard` retry mode retries throttling
# and transient errors with jittered backoff.
CLIENT_CONFIG = Config(
    connect_timeout=3,
    read_timeout=25,
    retries={"mode": "standard", "max_attempts": 4},
    max_pool_connections=32,
)


@dataclass
class Clients:
    dynamodb: object
    sqs: object


def clients_for(settings: Settings, config: Config = CLIENT_CONFIG) -> Clients:
    """A fresh boto3 session and its two clients for this process."""
    session = boto3.session.Session(region_name=settings.aws_region)
    return Clients(
        dynamodb=session.client(
            "dynamodb", endpoint_url=settings.dynamodb_endpoint_url, config=config
        ),
        sqs=session.client("sqs", endpoint_url=settings.sqs_endpoint_url, config=config),
    )
