"""`python -m local.snapshot_cli`: the snapshot commands that local/launcher.py runs.

`make run` serves DynamoDB and SQS from a moto server that keeps everything in
memory; the launcher keeps that data across restarts by running this module
against the endpoint, as separate processes:

- `restore FILE` after the tables and queue exist and before the web app and
  the worker start: loads the file into the (empty) tables and queues.
- `watch FILE --every SECONDS` runs beside the app and saves every SECONDS.
- `save FILE --queues` runs once the web app and the worker have stopped: the
  final save, which also takes the messages still waiting in the queues.
- `check FILE` reads a file fully and writes nothing (for people, not the launcher).

The file format, and saving and restoring it, are local/snapshot.py's; this
module only connects to the endpoint from the environment, schedules saves and
turns failures into exit codes and messages. It is kept apart so the format
can be used (and tested) without argparse, signals or AWS settings, and so
this module can import the format one-way: local.snapshot never imports it.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from pathlib import Path

from core.aws.backend import Backend
from core.aws.queue import VoteQueue
from core.aws.tables import Tables
from core.rules.errors import QueueUnavailable, StoreUnavailable
from core.settings import Settings
from local import snapshot

log = logging.getLogger("snapshot")

# A periodic save reads the tables one after the other while the worker keeps
# recording votes; a vote recorded in between can land in the tallies but not
# in the vote records (or the other way round). Such a save is done again.
CONSISTENT_ATTEMPTS = 3
# The local endpoint reads slowly (moto serialises every item), so a big data
# set would keep it busy saving: never spend more than 1/SAVE_DUTY of the time.
SAVE_DUTY = 10
# While saves fail (a full disk), try again this often: votes are paused meanwhile.
FAILING_RETRY_SECONDS = 2.0


def connect(settings: Settings) -> tuple[Tables, dict[str, VoteQueue]]:
    """The endpoint's tables and both queues (main and DLQ), as saves and restores need them."""
    backend = Backend.connect(settings)
    dlq = VoteQueue(backend.queue.client, settings.dlq_name)
    return backend.tables, {"main": backend.queue, "dlq": dlq}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m local.snapshot_cli",
        description=(
            "Save and restore the embedded mode's data (all tables, and on a final save the "
            "messages waiting in the queues) as one snapshot file. `make run` runs these for "
            "you. AWS settings come from the environment, as for the app."
        ),
    )
    commands = parser.add_subparsers(dest="command", required=True)
    check_cmd = commands.add_parser("check", help="read the file fully; write nothing")
    check_cmd.add_argument("file", type=Path)
    restore_cmd = commands.add_parser("restore", help="load the file into empty tables and queues")
    restore_cmd.add_argument("file", type=Path)
    save_cmd = commands.add_parser("save", help="save once, atomically")
    save_cmd.add_argument("file", type=Path)
    save_cmd.add_argument(
        "--queues", action="store_true",
        help="also take the messages waiting in the queue and DLQ (once nothing consumes them)",
    )  # fmt: skip
    watch_cmd = commands.add_parser("watch", help="save every N seconds until SIGTERM")
    watch_cmd.add_argument("file", type=Path)
    watch_cmd.add_argument("--every", type=float, default=30.0, help="seconds between saves (30)")
    watch_cmd.add_argument(
        "--pause-file", type=Path,
        help="while saves fail, write why here (the web app's PAUSE_VOTES_FILE: votes get 503)",
    )  # fmt: skip
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if args.command == "check":
        try:
            counts = snapshot.check(args.file)
        except snapshot.SnapshotError as exc:
            print(f"snapshot refused: {exc}", file=sys.stderr)
            return 2
        print(json.dumps(counts))
        return 0
    settings = Settings.from_env()
    tables, queues = connect(settings)
    try:
        if args.command == "restore":
            return _restore(tables, queues, args.file)
        if args.command == "save":
            saved = snapshot.save(
                tables,
                args.file,
                queues if args.queues else None,
                patience=settings.visibility_timeout if args.queues else 0.0,
            )
            log.info("saved %s: items %s, messages %s", args.file, saved.items, saved.messages)
            if not saved.consistent:
                # Nothing records meanwhile (the final save runs once the worker stopped):
                # this is drift that `recount` shows and `recount --fix` repairs.
                log.warning(
                    "tallies and vote records disagree in %s: `flask --app webapp recount` "
                    "shows it (see docs/data.md)",
                    _named(saved.drift),
                )
            return 0
        return _watch(tables, args.file, args.every, args.pause_file)
    except (StoreUnavailable, QueueUnavailable, OSError) as exc:
        print(f"snapshot {args.command} failed: {exc}", file=sys.stderr)
        return 1


def _restore(tables: Tables, queues: dict[str, VoteQueue], path: Path) -> int:
    for stale in path.parent.glob(f".{path.name}.*.tmp"):
        stale.unlink()  # a save that a crash interrupted: never renamed, never used
    if not path.exists():
        log.info("no snapshot at %s: starting with empty tables", path)
        return 0
    try:
        counts = snapshot.restore(tables, queues, path)
    except snapshot.SnapshotError as exc:
        print(
            f"snapshot refused: {exc}\nThe file was left as it is. Move it away to start "
            "empty, or put back a good copy (see docs/data.md).",
            file=sys.stderr,
        )
        return 2
    log.info("restored %s: %s", path, counts)
    return 0


def _watch(tables: Tables, path: Path, every: float, pause_file: Path | None = None) -> int:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    previous, wait, failing = None, every, False
    while not stop.wait(wait):
        started = time.monotonic()
        try:
            saved = snapshot.save(
                tables, path, attempts=CONSISTENT_ATTEMPTS, previous_sha256=previous
            )
        except (StoreUnavailable, QueueUnavailable, OSError) as exc:
            # Keep running: the previous file is intact. Votes pause (503) so no more
            # are answered 202 than the last save holds, and the save is tried again soon.
            _say_failing(path, exc, pause_file)
            failing, wait = True, min(every, FAILING_RETRY_SECONDS)
            continue
        if failing:
            _pause(pause_file, "")
            print(f"saving works again: {path} is up to date; votes are taken", file=sys.stderr)
            failing = False
        took = time.monotonic() - started
        wait = max(every, SAVE_DUTY * took)
        if wait > every:
            log.warning("saving took %.1fs: next save in %.0fs, not %gs", took, wait, every)
        previous = saved.content_sha256
        if not saved.unchanged:
            log.info("saved %s: %s", path, saved.items)
        if not saved.consistent:
            log.warning(
                "tallies and vote records disagreed in %s while saving; saved anyway "
                "(votes kept arriving, or drift: see docs/data.md)", _named(saved.drift),
            )  # fmt: skip
    return 0


def _named(drift: dict) -> str:
    """The topics and quiz events that drift, as a log names them (ids, a few at most)."""
    shown = ", ".join(sorted(drift)[:5])
    return shown + (f" and {len(drift) - 5} more" if len(drift) > 5 else "")


def _say_failing(path: Path, exc: Exception, pause_file: Path | None) -> None:
    reason = f"saving the data to {path} failed ({exc})"
    _pause(pause_file, reason)
    paused = " Votes are refused (503) until a save works again." if pause_file else ""
    print(f"!!! {reason}. {path} keeps the last good save.{paused}", file=sys.stderr, flush=True)


def _pause(pause_file: Path | None, reason: str) -> None:
    """Write `reason` (or nothing: votes flow) to the web app's pause file."""
    if pause_file is None:
        return
    try:
        pause_file.write_text(reason)
    except OSError as exc:
        log.error("cannot write the pause file %s: %s", pause_file, exc)


if __name__ == "__main__":
    sys.exit(main())
