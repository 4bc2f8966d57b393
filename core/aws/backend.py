"""Every AWS adapter of one process, made from the settings in one call."""

from __future__ import annotations

from dataclasses import dataclass

from ..settings import Settings
from .batch import BatchWriter
from .clients import clients_for
from .events import EventStore
from .purge import Purge
from .queue import VoteQueue
from .store import Store
from .tables import Tables


@dataclass
class Backend:
    """The adapters over one pair of clients: made per process, never shared across a fork."""

    store: Store
    batches: BatchWriter
    tables: Tables
    queue: VoteQueue
    events: EventStore
    purge: Purge

    @classmethod
    def connect(cls, settings: Settings, config=None) -> Backend:
        """The adapters over one set of clients; `config` overrides the botocore Config
        (a benchmark's long read timeout)."""
        clients = clients_for(settings, config) if config is not None else clients_for(settings)
        prefix = settings.table_prefix
        return cls(
            store=Store(clients.dynamodb, prefix),
            batches=BatchWriter(clients.dynamodb, prefix),
            tables=Tables(clients.dynamodb, prefix),
            queue=VoteQueue(clients.sqs, settings.full_queue_name, settings.dlq_name),
            events=EventStore(clients.dynamodb, prefix),
            purge=Purge(clients.dynamodb, prefix),
        )
