"""Operator commands, run as `flask --app webapp <command>`.

Each prints --help, is safe to run twice, and exits non-zero with a clear
message when AWS cannot be reached or refuses.
"""

from __future__ import annotations

import click
from flask import Flask, current_app

from . import services
from .queue import QueueUnavailable
from .store import StoreUnavailable


def init_app(app: Flask) -> None:
    app.cli.add_command(init_aws)


@click.command("init-aws")
def init_aws():
    """Create the DynamoDB tables, the votes queue and its DLQ if missing (idempotent).

    When every table and the queue already answer (made by ddl/stack.yaml or
    an earlier run) nothing is created, so the app's own least-privilege
    credentials are enough to run it as a release step.
    """
    settings = current_app.config["SETTINGS"]
    voting = services.voting()
    try:
        voting.store.check()
        voting.queue.check()
        created, url = [], voting.queue.url
    except (StoreUnavailable, QueueUnavailable):
        try:
            created = voting.store.create_tables()
            url = voting.queue.create(settings.visibility_timeout, settings.max_receive_count)
        except (StoreUnavailable, QueueUnavailable) as exc:
            raise aws_failure("could not set up AWS resources", exc) from exc
    for name in created:
        click.echo(f"created table {name}")
    click.echo(f"tables ready: {voting.store.topics}, {voting.store.votes}, {voting.store.tallies}")
    click.echo(f"queue ready: {url} (DLQ {settings.dlq_name})")


# What an operator should check for the usual failures, found by the error
# codes botocore puts in its messages.
_HINTS = (
    (
        ("UnrecognizedClient", "InvalidClientTokenId", "SignatureDoesNotMatch",
         "InvalidSignature", "ExpiredToken", "Unable to locate credentials"),
        "AWS did not accept the credentials: check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, "
        "AWS_PROFILE or the instance/task role, and AWS_REGION",
    ),
    (
        ("AccessDenied", "not authorized"),
        "the credentials lack a permission: attach the policies of ddl/stack.yaml "
        "(see docs/deploy.md)",
    ),
    (
        ("Could not connect", "Connect timeout", "Read timeout", "Name or service not known"),
        "the endpoint cannot be reached: check DYNAMODB_ENDPOINT_URL / AWS_SQS_ENDPOINT_URL "
        "(unset them for real AWS) and the network",
    ),
)  # fmt: skip


def aws_failure(what: str, exc: Exception) -> click.ClickException:
    """A ClickException (exit 1) saying what failed, AWS's words, and what to check."""
    message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    for needles, hint in _HINTS:
        if any(n in message for n in needles):
            return click.ClickException(f"{what}: {message}\nhint: {hint}")
    return click.ClickException(f"{what}: {message}")
