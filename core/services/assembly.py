"""Every service of one process, made from the settings in one call.

Made per process and never shared across a fork (boto3 clients must not
be): the web app builds one after gunicorn forks (webapp/services.py), the
worker its own, operator commands theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from core.aws.backend import Backend
from core.aws.group_send import BatchObserver
from core.services.access import Access
from core.services.accounts import Accounts
from core.services.event_questions import EventQuestions
from core.services.events import Events
from core.services.qna import Qna
from core.services.runoffs import Runoffs
from core.services.topics import Topics
from core.services.voting import Voting
from core.settings import Settings


@dataclass
class Services:
    """The services over one Backend; `backend` is for operator commands only."""

    backend: Backend
    topics: Topics
    voting: Voting
    events: Events
    event_questions: EventQuestions
    runoffs: Runoffs
    accounts: Accounts
    access: Access
    qna: Qna

    @classmethod
    def connect(
        cls,
        settings: Settings,
        send_timer: Callable[[], AbstractContextManager] = nullcontext,
        observe_batch: BatchObserver | None = None,
    ) -> Services:
        """`send_timer` wraps each vote's send (the web's metrics timer); `observe_batch`
        sees each SendMessageBatch of the group sender."""
        backend = Backend.connect(settings)
        topics = Topics(backend, settings)
        voting = Voting(backend, topics, settings, send_timer, observe_batch)
        events = Events(backend.events, topics, voting, settings)
        accounts = Accounts(backend.accounts, settings)
        access = Access(topics, events, voting, accounts)
        return cls(backend, topics, voting, events, EventQuestions(events), Runoffs(topics),
                   accounts, access, Qna(backend, voting, settings))  # fmt: skip

    def close(self, timeout: float) -> int:
        """Refuse new votes and send any still pending; how many were left unsent."""
        return self.voting.close(timeout)
