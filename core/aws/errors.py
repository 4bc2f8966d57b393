"""The one place botocore errors are translated: callers only ever see domain errors.

DynamoDB and SQS adapters wrap each call in `translated(...)`: an error code
the call expects (a failed condition, say) becomes the domain error it means,
and anything else (unreachable endpoint, refused credentials, throttling past
botocore's retries) becomes StoreUnavailable or QueueUnavailable.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager

from botocore.exceptions import BotoCoreError, ClientError

from core.rules.errors import StoreError, StoreUnavailable


def error_code(exc: Exception) -> str:
    """AWS's error code of a ClientError ("" for anything else)."""
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code", "")
    return ""


@contextmanager
def translated(
    unavailable: type[Exception] | None = None,
    on_code: dict[str, Callable[[ClientError], Exception]] | None = None,
):
    """Re-raise botocore errors from the block as domain errors.

    `on_code` maps an AWS error code to a function making the domain error for
    it; every other botocore error becomes `unavailable` (StoreUnavailable by
    default) with AWS's message.
    """
    try:
        yield
    except ClientError as exc:
        make = (on_code or {}).get(error_code(exc))
        if make is not None:
            raise make(exc) from exc
        raise (unavailable or StoreUnavailable)(str(exc)) from exc
    except BotoCoreError as exc:  # unreachable endpoint, no credentials, waiter gave up
        raise (unavailable or StoreUnavailable)(str(exc)) from exc


class WriteRetryable(StoreError):
    """A transaction cancelled by a conflict or throttling: nothing written, try again."""


class WriteInvalid(StoreError):
    """DynamoDB refused a write as malformed (ValidationException): sending it again
    cannot help, and in a batch one bad vote refuses them all."""


class BallotChanged(StoreError):
    """A voter's ballot changed since it was read: read it again and re-plan."""


class TopicChanged(StoreError):
    """A topic check failed inside a batch: the topic closed, lost a choice, or is gone."""

    def __init__(self, topic_id: str, topic: dict | None):
        super().__init__(topic_id)
        self.topic_id = topic_id
        self.topic = topic


class TalliesChanged(StoreError):
    """A game's batch no longer fits the tallies it was planned on: a rival slot lacks the
    votes the batch takes (another batch took them), or a redelivered game vote was dropped
    from a plan that counted it. Nothing of the failing transaction was written: read the
    standings again and re-plan without the votes already settled (`recorded` by earlier
    transactions of the batch, or `duplicates` found recorded before), so none counts twice."""

    def __init__(self, topic_id: str, duplicates: list | None = None):
        super().__init__(topic_id)
        self.topic_id = topic_id
        self.duplicates = list(duplicates or [])
        self.recorded: list = []
