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
    """Create the DynamoDB tables, the votes queue and its DLQ if missing (idempotent)."""
    settings = current_app.config["SETTINGS"]
    voting = services.voting()
    try:
        created = voting.store.create_tables()
        url = voting.queue.create(settings.visibility_timeout, settings.max_receive_count)
    except (StoreUnavailable, QueueUnavailable) as exc:
        raise click.ClickException(f"could not set up AWS resources: {exc}") from exc
    for name in created:
        click.echo(f"created table {name}")
    click.echo(f"tables ready: {voting.store.topics}, {voting.store.votes}, {voting.store.tallies}")
    click.echo(f"queue ready: {url} (DLQ {settings.dlq_name})")
