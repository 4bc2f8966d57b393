"""Operator commands, run as `flask --app webapp <command>`.

Each prints --help, is safe to run twice, and exits non-zero with a clear
message when AWS cannot be reached or refuses.
"""

from __future__ import annotations

import re
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from core.rules.errors import (
    Conflict,
    EmailTaken,
    EventNotFound,
    FieldInvalid,
    QueueUnavailable,
    StoreUnavailable,
    TopicNotFound,
)
from core.services import backups
from core.services.repair import (
    ScoreRecount,
    diagnose,
    fix,
    fix_scores,
    quiz_events,
    recount,
    recount_scores,
)
from core.services.runoffs import RunoffRefused
from webapp import services


def init_app(app: Flask) -> None:
    app.cli.add_command(init_aws)
    app.cli.add_command(export_command)
    app.cli.add_command(import_command)
    app.cli.add_command(recount_command)
    app.cli.add_command(runoff_command)
    app.cli.add_command(dlq_group)
    app.cli.add_command(users_group)


@click.command("init-aws")
def init_aws():
    """Create the DynamoDB tables, the votes queue and its DLQ if missing (idempotent).

    When every table and the queue already answer (made by ddl/stack.yaml or
    an earlier run) nothing is created, so the app's own least-privilege
    credentials are enough to run it as a release step.
    """
    settings = current_app.config["SETTINGS"]
    backend = services.backend()
    try:
        backend.tables.check()
        backend.queue.check()
        created, url = [], backend.queue.url
    except (StoreUnavailable, QueueUnavailable):
        try:
            created = backend.tables.create()
            url = backend.queue.create(settings.visibility_timeout, settings.max_receive_count)
        except (StoreUnavailable, QueueUnavailable) as exc:
            raise aws_failure("could not set up AWS resources", exc) from exc
    for name in created:
        click.echo(f"created table {name}")
    names = backend.tables.names
    click.echo(f"tables ready: {names.topics}, {names.votes}, {names.tallies}, {names.ballots}")
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
    message = _one_line(str(exc)) or type(exc).__name__
    for needles, hint in _HINTS:
        if any(n in message for n in needles):
            return click.ClickException(f"{what}: {message}\nhint: {hint}")
    return click.ClickException(f"{what}: {message}")


def _one_line(message: str) -> str:
    """The error on one line. An XML error body (some endpoints and proxies send one
    where botocore expects JSON) is reduced to its Code and Message."""
    code = re.search(r"<Code>([^<]*)</Code>", message)
    text = re.search(r"<Message>([^<]*)</Message>", message)
    if code:
        head = message.split("<?xml", 1)[0].split("<", 1)[0].strip()
        message = f"{head} {code[1]}: {text[1] if text else ''}".strip()
    return " ".join(message.split())


@click.command("export")
@with_appcontext
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "jsonl"]), default="csv", show_default=True,
    help="csv: results and one row per vote, for spreadsheets; jsonl: a backup `import` loads",
)  # fmt: skip
@click.option("--topic", "topic_id", metavar="ID", help="Only this topic (default: every topic).")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=True, writable=True),
    help="csv: a file (default: standard output); jsonl: a new or empty directory (required)",
)  # fmt: skip
def export_command(fmt, topic_id, output):
    """Export topics, votes and results, from AWS or the embedded endpoint.

    csv: a `result` row per choice and a `total` row per topic, then a `vote`
    row per vote (vote id, topic, choice, created, status), UTF-8 with a BOM.
    jsonl: one <table>.jsonl per table in DynamoDB's own export item format
    ({"Item": {...}} per line) plus manifest.json. See docs/data.md.
    """
    voting, backend = services.voting(), services.backend()
    try:
        if fmt == "jsonl":
            if not output:
                raise click.UsageError("--format jsonl needs --output DIRECTORY")
            manifest = backups.write_export(backend, Path(output), topic_id)
            for base, entry in manifest["tables"].items():
                click.echo(f"{base}: {entry['itemCount']} items", err=True)
            click.echo(f"export written to {output}", err=True)
            return
        store = services.topics()
        topics = [store.get(topic_id, fresh=True)] if topic_id else store.all()
        chunks = voting.csv_export(topics)
        if not output or output == "-":
            for chunk in chunks:
                click.echo(chunk, nl=False)
            return
        # Written beside the target and renamed at the end: no half file under its name.
        partial = Path(f"{output}.partial")
        with open(partial, "w", encoding="utf-8", newline="") as out:
            for chunk in chunks:
                out.write(chunk)
        partial.replace(output)
        click.echo(f"CSV of {len(topics)} topic(s) written to {output}", err=True)
    except TopicNotFound as exc:
        raise click.ClickException(f"no topic with id {topic_id!r}") from exc
    except (backups.BadExport, OSError) as exc:
        raise click.ClickException(str(exc)) from exc
    except StoreUnavailable as exc:
        raise aws_failure("could not read from DynamoDB", exc) from exc


@click.command("import")
@with_appcontext
@click.argument("directory", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--merge", is_flag=True,
    help="Write into tables that already hold items; an item replaces the one with its key.",
)  # fmt: skip
def import_command(directory, merge):
    """Load an `export --format jsonl` DIRECTORY into the tables.

    The whole export is read and checked first (items, counts, checksums);
    nothing is written if any of it is wrong. Without --merge every table must
    be empty. Writes use BatchWriteItem, retrying unprocessed items.
    """
    tables = services.backend().tables
    try:
        written = backups.load_export(tables, backups.ExportDir(Path(directory)), merge=merge)
    except backups.BadExport as exc:
        raise click.ClickException(str(exc)) from exc
    except StoreUnavailable as exc:
        raise aws_failure("could not import into DynamoDB", exc) from exc
    for base, count in written.items():
        click.echo(f"{tables.names.of(base)}: {count} items written")


@click.command("recount")
@click.argument("topic_id", required=False)
@click.option(
    "--all", "every", is_flag=True, help="Recount every topic, and every quiz event's scores."
)
@click.option("--event", "event", metavar="ID|CODE", help="Recount a quiz event's scores.")
@click.option("--fix", "repair", is_flag=True, help="Rewrite drifting tallies from the records.")
@with_appcontext
def recount_command(topic_id, every, event, repair):
    """Rebuild tallies (and a quiz's player scores: with --event one event's, with --all
    every quiz event's) from the vote records and print any drift.

    Read-only unless --fix. Exits 1 if drift was found and not fixed, so a
    scheduled check can alert on it.
    """
    if (bool(topic_id) + every + bool(event)) != 1:
        raise click.UsageError("give a TOPIC_ID, --all or --event")
    if event:
        return _recount_scores(event, repair)
    backend = services.backend()
    store = backend.store
    try:
        topics = store.list_topics() if every else []
        ids = [t["id"] for t in topics] if every else [topic_id]
        if not every and store.get_topic(topic_id) is None:
            raise click.ClickException(f"topic {topic_id} not found")
        unresolved = 0
        for tid in ids:
            result = recount(store, tid)
            if not result.drift:
                click.echo(f"{tid}: {result.counted} counted votes, no drift")
                continue
            for counter, delta in result.drift.items():
                # A single choice's counter is its choice id; other types have named ones.
                kind = "counter" if ":" in counter else "choice"
                shown = counter.replace("\x1f", " / ")  # a spelling's: "spelt:<key> / <text>"
                click.echo(
                    f"{tid}: {kind} {shown} tally {result.stored.get(counter, 0)} "
                    f"but {result.proven.get(counter, 0)} counted records (drift {delta:+d})"
                )
            if repair:
                fix(store, result)
                click.echo(f"{tid}: fixed")
            else:
                unresolved += 1
        quizzes = 0
        if every:  # every quiz event's scores too, from the same read of the topics
            for quiz, asked in quiz_events(backend.events.list_events(), topics):
                result = recount_scores(store, backend.players, quiz["id"], asked)
                quizzes += _report_scores(quiz, result, repair)
    except Conflict as exc:
        raise click.ClickException(f"changed meanwhile ({exc}); run it again") from exc
    except StoreUnavailable as exc:
        raise aws_failure("recount failed", exc) from exc
    left = {"topic(s)": unresolved, "quiz event(s)": quizzes}
    if any(left.values()):
        drifting = " and ".join(f"{n} {what}" for what, n in left.items() if n)
        raise click.ClickException(f"drift in {drifting}; run with --fix to repair")


def _recount_scores(event_ref: str, repair: bool) -> None:
    """`recount --event`: a quiz event's player tallies against its answer records."""
    backend = services.backend()
    try:
        try:
            event = services.events().event(event_ref, fresh=True)
        except EventNotFound:
            event = services.events().by_code(event_ref)
        result = recount_scores(backend.store, backend.players, event["id"])
        if _report_scores(event, result, repair):
            raise click.ClickException("score drift found; run with --fix to repair")
    except EventNotFound as exc:
        raise click.ClickException(f"no event {event_ref!r}") from exc
    except Conflict as exc:
        raise click.ClickException(f"scores changed meanwhile ({exc}); run it again") from exc
    except StoreUnavailable as exc:
        raise aws_failure("recount failed", exc) from exc


def _report_scores(event: dict, result: ScoreRecount, repair: bool) -> bool:
    """Print a quiz event's score recount, one line per drifting player; with `repair`,
    fix them. True when drift is left (found, not fixed)."""
    if not result.drift:
        click.echo(f"{event['code']}: {result.counted} scored answers, no drift")
        return False
    for voter, diff in result.drift.items():
        stored = result.stored.get(voter, {})
        changes = ", ".join(f"{t} {stored.get(t, 0)} (drift {d:+d})" for t, d in diff.items())
        click.echo(f"{event['code']}: player {voter}: {changes}")
    if not repair:
        return True
    fix_scores(services.backend().players, result)
    click.echo(f"{event['code']}: fixed")
    return False


@click.command("runoff")
@click.argument("topic_id")
@with_appcontext
def runoff_command(topic_id):
    """Compute a closed ranking topic's instant runoff and store it on the topic.

    Reads the topic's counted vote records (a page at a time), prints each round
    and the winner, and keeps the result as the topic's `runoff` (shown with its
    results). Safe to run again: it recomputes. Exits 1 when the topic is unknown,
    not a ranking, or still open.
    """
    try:
        runoff = services.runoffs().compute(topic_id)
        names = {c["id"]: c["description"] for c in services.topics().get(topic_id)["choices"]}
    except TopicNotFound as exc:
        raise click.ClickException(f"topic {topic_id} not found") from exc
    except RunoffRefused as exc:
        raise click.ClickException(str(exc)) from exc
    except Conflict as exc:
        raise click.ClickException("the topic changed meanwhile; run it again") from exc
    except StoreUnavailable as exc:
        raise aws_failure("runoff failed", exc) from exc
    click.echo(f"{topic_id}: {runoff['ballots']} counted rankings")
    for number, round_ in enumerate(runoff["rounds"], 1):
        counts = ", ".join(f"{names.get(c, c)} {n}" for c, n in round_["counts"].items())
        gone = "".join(f"; {names.get(c, c)} eliminated" for c in round_["eliminated"])
        click.echo(f"round {number}: {counts} (exhausted {round_['exhausted']}){gone}")
    winner = runoff["winner"]
    click.echo(f"winner: {names.get(winner, winner)}" if winner else "no winner: no rankings")


@click.group("dlq")
def dlq_group():
    """Inspect or redrive the votes dead-letter queue."""


@dlq_group.command("show")
@click.option("--limit", default=5, show_default=True, help="How many sample messages to show.")
@with_appcontext
def dlq_show(limit):
    """How many messages wait in the DLQ, with a sample of bodies and why they failed."""
    backend = services.backend()
    try:
        dead = backend.dead_letters
        counts = backend.queue.message_counts(dead_letters=True)
        click.echo(f"DLQ {backend.queue.dlq_name}: ~{counts['waiting']} waiting")
        for message in dead.peek(limit):
            body = message.body if len(message.body) <= 200 else message.body[:200] + "..."
            why = diagnose(message.body, backend.store)
            click.echo(f"- {message.message_id} (received {message.receive_count}x): {why}")
            click.echo(f"  {body}")
    except (QueueUnavailable, StoreUnavailable) as exc:
        raise aws_failure("could not read the DLQ", exc) from exc


@dlq_group.command("redrive")
@with_appcontext
def dlq_redrive():
    """Move every DLQ message back to the votes queue (safe to repeat: votes are idempotent)."""
    backend = services.backend()
    try:
        how, moved = backend.dead_letters.redrive()
    except QueueUnavailable as exc:
        raise aws_failure("redrive failed", exc) from exc
    if how == "task":
        click.echo("started an SQS message move task (it runs in the background)")
    else:
        click.echo(f"moved {moved} messages back to {backend.queue.name}")


@click.group("users")
def users_group():
    """Organiser accounts: create the first admin, list who has an account."""


@users_group.command("create")
@click.argument("email")
@click.option("--role", type=click.Choice(["admin", "organiser"]), default="organiser",
              show_default=True, help="admin: every topic, event and account.")  # fmt: skip
@click.password_option(help="Asked for (hidden, twice) unless given here.")
@with_appcontext
def users_create(email, role, password):
    """Create an account (the first admin, say). The password is asked for, hidden."""
    try:
        user = services.accounts().create(email, password, role)
    except FieldInvalid as exc:
        raise click.ClickException(f"{exc.field}: {exc.message}") from exc
    except EmailTaken as exc:
        raise click.ClickException(f"an account with the email {email} exists already") from exc
    except StoreUnavailable as exc:
        raise aws_failure("could not create the account", exc) from exc
    click.echo(f"created {user['role']} {user['email']} (id {user['id']})")


@users_group.command("list")
@with_appcontext
def users_list():
    """Every account: email, role, and whether it is disabled."""
    try:
        users = services.accounts().all()
    except StoreUnavailable as exc:
        raise aws_failure("could not list the accounts", exc) from exc
    for user in users:
        state = " (disabled)" if user["disabled"] else ""
        click.echo(f"{user['email']}\t{user['role']}{state}\t{user['id']}")
