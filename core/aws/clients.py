"""AWS clients (botocore, as boto3 makes them): endpoints, retries and timeouts in one place.

Clients are made by the process that uses them (never at import time, never
shared across a fork): gunicorn workers call `clients_for()` after forking via
the app factory, the worker process calls it in `main()`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import botocore.loaders
import botocore.session
from botocore.config import Config

from core.settings import Settings

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


_loader: botocore.loaders.Loader | None = None
_loader_lock = threading.Lock()


def _shared_loader() -> botocore.loaders.Loader:
    """One reader of botocore's service models per process.

    A new session parses the DynamoDB and SQS models from JSON again (about
    0.1 s per client); the loader caches them and holds nothing else (no
    credentials, no connections), so sharing it, even across a fork, is safe.
    """
    global _loader
    with _loader_lock:
        if _loader is None:
            _loader = botocore.loaders.create_loader()
        return _loader


def clients_for(settings: Settings, config: Config = CLIENT_CONFIG) -> Clients:
    """A fresh session (credentials and settings read now) and its two clients."""
    session = botocore.session.get_session()
    session.register_component("data_loader", _shared_loader())

    def client(service: str, endpoint_url: str | None):
        return session.create_client(
            service, region_name=settings.aws_region, endpoint_url=endpoint_url, config=config
        )

    return Clients(
        dynamodb=client("dynamodb", settings.dynamodb_endpoint_url),
        sqs=client("sqs", settings.sqs_endpoint_url),
    )
