"""Every AWS adapter of one process, made from the settings in one call."""

from __future__ import annotations

from dataclasses import dataclass

from core.aws.accounts import AccountStore
from core.aws.batch import BatchWriter
from core.aws.clients import clients_for
from core.aws.counters import Counters
from core.aws.events import EventStore
from core.aws.players import PlayerStore
from core.aws.purge import Purge
from core.aws.qna import QuestionStore
from core.aws.queue import DeadLetters, VoteQueue
from core.aws.store import Store
from core.aws.tables import Tables
from core.aws.upvotes import UpvoteStore
from core.settings import Settings


@dataclass
class Backend:
    """The adapters over one pair of clients: made per process, never shared across a fork."""

    store: Store
    batches: BatchWriter
    tables: Tables
    queue: VoteQueue
    dead_letters: DeadLetters
    events: EventStore
    purge: Purge
    players: PlayerStore
    accounts: AccountStore
    counters: Counters
    questions: QuestionStore
    upvotes: UpvoteStore

    @classmethod
    def connect(cls, settings: Settings, config=None) -> Backend:
        """The adapters over one set of clients; `config` overrides the botocore Config
        (a benchmark's long read timeout)."""
        clients = clients_for(settings, config) if config is not None else clients_for(settings)
        prefix = settings.table_prefix
        queue = VoteQueue(clients.sqs, settings.full_queue_name, settings.dlq_name)
        return cls(
            store=Store(clients.dynamodb, prefix),
            batches=BatchWriter(clients.dynamodb, prefix),
            tables=Tables(clients.dynamodb, prefix),
            queue=queue,
            dead_letters=DeadLetters(queue),
            events=EventStore(clients.dynamodb, prefix),
            purge=Purge(clients.dynamodb, prefix),
            players=PlayerStore(clients.dynamodb, prefix),
            accounts=AccountStore(clients.dynamodb, prefix),
            counters=Counters(clients.dynamodb, prefix),
            questions=QuestionStore(clients.dynamodb, prefix),
            upvotes=UpvoteStore(clients.dynamodb, prefix),
        )
