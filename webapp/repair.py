"""Proof and repair: recount tallies from the vote records, inspect and redrive the DLQ.

CLI commands (registered by webapp/cli.py), usable against moto or real AWS:
  flask --app webapp recount TOPIC_ID [--fix]   |   recount --all [--fix]
  flask --app webapp dlq show [--limit N]
  flask --app webapp dlq redrive
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import click
from flask.cli import with_appcontext
from pydantic import ValidationError

from . import services
from .models import QueuedVote
from .queue import DeadLetters, QueueUnavailable
from .store import Conflict, Store, StoreUnavailable

STABLE_ATTEMPTS = 5


@dataclass
class Recount:
    """A topic's tallies as stored and as the vote records prove them."""

    topic_id: str
    stored: dict[str, int]
    proven: dict[str, int]
    slots: dict[str, int] = field(default_factory=dict)

    @property
    def drift(self) -> dict[str, int]:
        """choice_id -> stored minus proven, for the choices that disagree."""
        choices = set(self.stored) | set(self.proven)
        diff = {c: self.stored.get(c, 0) - self.proven.get(c, 0) for c in choices}
        return {c: d for c, d in sorted(diff.items()) if d}


def recount(store: Store, topic_id: str) -> Recount:
    """Count the topic's `counted` vote records and compare with its tallies.

    Votes and tallies change together, in one transaction, so a count is
    consistent when the tallies read the same before and after the scan of
    the records; otherwise a vote landed meanwhile and the count is taken again.
    """
    for _ in range(STABLE_ATTEMPTS):
        before = store.get_slot_counts(topic_id)
        proven: dict[str, int] = {}
        for vote in store.topic_votes(topic_id):
            if vote.get("status") == "counted":
                proven[vote["choice_id"]] = proven.get(vote["choice_id"], 0) + 1
        after = store.get_slot_counts(topic_id)
        if before == after:
            stored: dict[str, int] = {}
            for key, count in after.items():
                choice = key.rsplit("#", 1)[0]
                stored[choice] = stored.get(choice, 0) + count
            return Recount(topic_id, {c: n for c, n in stored.items() if n}, proven, after)
    raise Conflict(f"{topic_id}: votes kept landing during the recount; try when it is quieter")


def fix(store: Store, result: Recount) -> None:
    """Write the proven counts, conditioned on the tallies still being what was read."""
    for choice_id in result.drift:
        store.set_choice_tally(
            result.topic_id, choice_id, result.slots, result.proven.get(choice_id, 0)
        )


def diagnose(body: str, store: Store) -> str:
    """Why a dead-lettered message could not be recorded, as far as can be told now."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return "not JSON"
    try:
        vote = QueuedVote.model_validate(data)
    except ValidationError as exc:
        return f"not a vote message ({exc.error_count()} field errors)"
    topic = store.get_topic(vote.topic_id)
    if topic is None:
        return "unknown topic"
    if vote.choice_id not in {c["id"] for c in topic["choices"]}:
        return "choice not in topic"
    return "looks valid now: it failed while something was down (redrive it)"


def _fail(what: str, exc: Exception) -> click.ClickException:
    from .cli import aws_failure

    return aws_failure(what, exc)


@click.command("recount")
@click.argument("topic_id", required=False)
@click.option("--all", "every", is_flag=True, help="Recount every topic.")
@click.option("--fix", "repair", is_flag=True, help="Rewrite drifting tallies from the records.")
@with_appcontext
def recount_command(topic_id, every, repair):
    """Rebuild tallies from the vote records and print any drift.

    Read-only unless --fix. Exits 1 if drift was found and not fixed, so a
    scheduled check can alert on it.
    """
    if bool(topic_id) == every:
        raise click.UsageError("give a TOPIC_ID or --all")
    store = services.voting().store
    try:
        ids = [t["id"] for t in store.list_topics()] if every else [topic_id]
        if not every and store.get_topic(topic_id) is None:
            raise click.ClickException(f"topic {topic_id} not found")
        unresolved = 0
        for tid in ids:
            result = recount(store, tid)
            total = sum(result.proven.values())
            if not result.drift:
                click.echo(f"{tid}: {total} counted votes, no drift")
                continue
            for choice, delta in result.drift.items():
                click.echo(
                    f"{tid}: choice {choice} tally {result.stored.get(choice, 0)} "
                    f"but {result.proven.get(choice, 0)} counted records (drift {delta:+d})"
                )
            if repair:
                fix(store, result)
                click.echo(f"{tid}: fixed")
            else:
                unresolved += 1
    except Conflict as exc:
        raise click.ClickException(
            f"tally changed during the repair ({exc}); run it again"
        ) from exc
    except StoreUnavailable as exc:
        raise _fail("recount failed", exc) from exc
    if unresolved:
        raise click.ClickException(f"drift in {unresolved} topic(s); run with --fix to repair")


@click.group("dlq")
def dlq_group():
    """Inspect or redrive the votes dead-letter queue."""


@dlq_group.command("show")
@click.option("--limit", default=5, show_default=True, help="How many sample messages to show.")
@with_appcontext
def dlq_show(limit):
    """How many messages wait in the DLQ, with a sample of bodies and why they failed."""
    voting = services.voting()
    try:
        dead = DeadLetters(voting.queue)
        counts = voting.queue.message_counts(dead_letters=True)
        click.echo(f"DLQ {voting.queue.dlq_name}: ~{counts['waiting']} waiting")
        for message in dead.peek(limit):
            body = message.body if len(message.body) <= 200 else message.body[:200] + "..."
            why = diagnose(message.body, voting.store)
            click.echo(f"- {message.message_id} (received {message.receive_count}x): {why}")
            click.echo(f"  {body}")
    except (QueueUnavailable, StoreUnavailable) as exc:
        raise _fail("could not read the DLQ", exc) from exc


@dlq_group.command("redrive")
@with_appcontext
def dlq_redrive():
    """Move every DLQ message back to the votes queue (safe to repeat: votes are idempotent)."""
    voting = services.voting()
    try:
        how, moved = DeadLetters(voting.queue).redrive()
    except QueueUnavailable as exc:
        raise _fail("redrive failed", exc) from exc
    if how == "task":
        click.echo("started an SQS message move task (it runs in the background)")
    else:
        click.echo(f"moved {moved} messages back to {voting.queue.name}")


COMMANDS = (recount_command, dlq_group)
