"""The embedded mode's memory: the local AWS endpoint's data saved to one file.

`make run` serves DynamoDB and SQS from a moto server, which keeps everything
in memory. local/launcher.py keeps it across restarts by running
`python -m local.snapshot_cli` (restore on start, watch beside the app, a final
save with the waiting messages on stop). This module is the file format alone:
writing, checking and loading a snapshot, given Tables and queues, with no
command line, signals or settings, so tests and tools call it directly.

The snapshot goes through the AWS APIs with the same code as `export` and
`import` (Tables.scan_items / Tables.put_items, export.item_line /
export.parse_item), so it works against any endpoint and any table in
core/aws/tables.py's TABLES is included without changes here.

File format, JSON lines: a header {"snapshot": "voting-game", "version": 1,
...}; one {"table": <table>, "Item": {...}} per item (DynamoDB JSON, as in
exports); one {"queue": "main"|"dlq", "Body": ...} per saved message; and an
end line {"end": {"lines": N, "sha256": ...}} over everything before it. A
file without a matching end line (truncated, edited, not ours) is refused
whole: nothing is restored from it and it is left as it is.

Saves write a temporary file beside the target, fsync it and rename it over
the target, so a crash or power cut during a save leaves the previous file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from itertools import groupby
from pathlib import Path

from core.aws.queue import VoteQueue
from core.aws.tables import TABLES, Tables
from core.rules.clock import utc_now
from core.services.backups import BadExport, item_line, parse_item
from core.services.repair import Proof

log = logging.getLogger("snapshot")

MAGIC = "voting-game"
VERSION = 1
QUEUES = ("main", "dlq")


@dataclass
class Saved:
    """What a save wrote (or, with `unchanged`, found already saved)."""

    items: dict[str, int] = field(default_factory=dict)
    messages: dict[str, int] = field(default_factory=dict)
    content_sha256: str = ""
    unchanged: bool = False
    # What recount would call drift in what was saved (repair.Proof.drift): {topic or
    # event id: its drift}. Empty: the tallies and scores agree with the records.
    drift: dict[str, dict] = field(default_factory=dict)

    @property
    def consistent(self) -> bool:
        return not self.drift


class SnapshotError(Exception):
    """A snapshot file that cannot be used: the message names the file and the reason."""


# -- saving ---------------------------------------------------------------------


def save(
    tables: Tables,
    path: Path,
    queues: dict[str, VoteQueue] | None = None,
    *,
    attempts: int = 1,
    previous_sha256: str | None = None,
    patience: float = 0.0,
) -> Saved:
    """Write every table (and, with `queues`, their waiting messages) to `path`.

    With `attempts` > 1, a save whose tallies disagree with its vote records
    (votes recorded while it read) is done again; the last try is kept anyway.
    When the content equals `previous_sha256`, the file is left alone.
    Taking messages receives them: only for the final save, once nothing else
    consumes the queues. `patience` is how long to wait for messages that a
    stopped worker left invisible to become visible again.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    for attempt in range(1, attempts + 1):
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            saved = _write(tables, tmp, queues if attempt == attempts else None, patience)
            if not saved.consistent and attempt < attempts:
                log.info("votes were recorded while saving; saving again")
                continue
            if saved.content_sha256 == previous_sha256:
                saved.unchanged = True
                return saved
            os.replace(tmp, path)
            _fsync_dir(path.parent)
            return saved
        finally:
            tmp.unlink(missing_ok=True)
    raise AssertionError("unreachable")  # the last attempt always returns


def _write(tables: Tables, tmp: Path, queues, patience: float) -> Saved:
    saved = Saved()
    content = hashlib.sha256()  # without the header: equal content, equal digest
    whole = hashlib.sha256()
    lines = 0
    proof = Proof()
    with open(tmp, "wb") as out:

        def write(data: bytes, *, in_content: bool = True) -> None:
            nonlocal lines
            out.write(data)
            whole.update(data)
            if in_content:
                content.update(data)
            lines += 1

        header = {"snapshot": MAGIC, "version": VERSION, "saved_at": utc_now(), "tables": TABLES}
        write(_line(header), in_content=False)
        for base in TABLES:
            count = 0
            # Pages of up to 1 MB (DynamoDB's own cap) rather than 1,000 items: the
            # local endpoint walks the whole table for every page it answers, so
            # fewer, bigger pages read a large table several times faster.
            for item in tables.scan_items(base, page_size=0):
                body = item_line(item)  # '{"Item":{...}}\n', as in a jsonl export
                write(f'{{"table":{json.dumps(base)},{body[1:]}'.encode())
                count += 1
                proof.add(base, item)
            saved.items[base] = count
        if queues:
            for kind in QUEUES:
                saved.messages[kind] = 0
                for body in take_messages(queues[kind], patience):
                    write(_line({"queue": kind, "Body": body}))
                    saved.messages[kind] += 1
        saved.content_sha256 = content.hexdigest()
        out.write(_line({"end": {"lines": lines, "sha256": whole.hexdigest()}}))
        out.flush()
        os.fsync(out.fileno())
    saved.drift = proof.drift()
    return saved


def take_messages(queue: VoteQueue, patience: float = 0.0, sleep=time.sleep):
    """Receive every message left in `queue`; yields bodies, each message once.

    Messages are received, not deleted: the endpoint stops right after the
    final save. Redeliveries are recognised by message id. Messages that are
    invisible (a stopped worker's unfinished batch) are waited for up to
    `patience` seconds, then left out with a warning.
    """
    seen: set[str] = set()
    deadline = time.monotonic() + patience
    while True:
        batch = queue.receive(wait_seconds=0)
        fresh = [m for m in batch if m.message_id not in seen]
        for message in fresh:
            seen.add(message.message_id)
            yield message.body
        if fresh:
            continue
        depth = queue.message_counts()
        waiting, in_flight = depth["waiting"], depth["in_flight"]
        hidden = max(0, in_flight - len(seen))
        if waiting == 0 and hidden == 0:
            return
        if time.monotonic() >= deadline:
            if hidden:
                log.warning("%d messages in %s still invisible: not saved", hidden, queue.name)
            return
        sleep(0.5)


def _line(data: dict) -> bytes:
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable (POSIX: the directory entry lives in the directory)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# -- reading and restoring -----------------------------------------------------------


def check(path: Path) -> dict[str, int]:
    """Read the whole file without writing anything; item and message counts, or SnapshotError."""
    counts: dict[str, int] = {}
    for kind, name, _ in records(path):
        counts[f"{kind}:{name}"] = counts.get(f"{kind}:{name}", 0) + 1
    return counts


def restore(tables: Tables, queues: dict[str, VoteQueue], path: Path) -> dict[str, int]:
    """Check the file, then load it into empty tables and queues; counts per table/queue.

    Refuses tables that already hold items: a restore only ever fills the
    fresh endpoint that `make run` just started.
    """
    counts = check(path)
    busy = [tables.names.of(base) for base in TABLES if not tables.is_empty(base)]
    if busy:
        raise SnapshotError(f"will not restore {path} into tables that hold items: {busy}")
    for (kind, name), group in groupby(records(path), key=lambda r: (r[0], r[1])):
        if kind == "table":
            tables.put_items(name, (item for _, _, item in group))
        else:
            for _, _, body in group:
                queues[name].send_raw(body)
    return counts


def records(path: Path):
    """(kind, name, payload) per line after a full validation pass; SnapshotError otherwise.

    kind "table": name a table, payload a typed item; kind "queue": name
    "main" or "dlq", payload a message body. Both passes stream the file.
    """
    last = _validate(path)
    for number, raw in _read_lines(path):
        if number == 1 or number == last:
            continue
        data = json.loads(raw)
        if "table" in data:
            yield "table", data["table"], parse_item({"Item": data["Item"]}, data["table"])
        else:
            yield "queue", data["queue"], data["Body"]


def _read_lines(path: Path):
    try:
        with open(path, "rb") as source:
            yield from enumerate(source, start=1)
    except OSError as exc:
        raise SnapshotError(f"cannot read {path}: {exc.strerror or exc}") from exc


def _validate(path: Path) -> int:
    """Check header, every record and the end line; returns the end line's number."""
    digest = hashlib.sha256()
    previous: tuple[int, bytes] | None = None
    for number, raw in _read_lines(path):
        if previous is not None:
            # Every line but the last counts towards the end record's digest.
            digest.update(previous[1])
            if previous[0] == 1:
                _validate_header(path, previous[1])
            else:
                _validate_line(path, *previous)
        previous = (number, raw)
    if previous is None:
        raise SnapshotError(f"{path} is empty")
    if previous[0] == 1:
        _validate_header(path, previous[1])
        raise SnapshotError(f"{path} is truncated: it has no end record")
    try:
        end = json.loads(previous[1])
    except (ValueError, RecursionError):
        end = None
    if not isinstance(end, dict) or not isinstance(end.get("end"), dict):
        raise SnapshotError(f"{path} is truncated: its last line is not the end record")
    if end["end"].get("lines") != previous[0] - 1 or end["end"].get("sha256") != digest.hexdigest():
        raise SnapshotError(f"{path} is damaged: its content does not match its end record")
    return previous[0]


def _validate_header(path: Path, raw: bytes) -> None:
    try:
        header = json.loads(raw)
    except (ValueError, RecursionError):
        header = None
    if not isinstance(header, dict) or header.get("snapshot") != MAGIC:
        raise SnapshotError(f"{path} is not a Voting Game snapshot")
    if header.get("version") != VERSION:
        raise SnapshotError(f"{path} has snapshot version {header.get('version')!r}, not {VERSION}")


def _validate_line(path: Path, number: int, raw: bytes) -> None:
    try:
        _validate_record(json.loads(raw))
    except (ValueError, RecursionError) as exc:  # BadExport is a ValueError
        raise SnapshotError(f"{path}:{number}: {exc}") from exc


def _validate_record(data) -> None:
    if isinstance(data, dict) and set(data) == {"table", "Item"}:
        if data["table"] not in TABLES:
            raise BadExport(f"table {data['table']!r} is not one this version knows {TABLES}")
        parse_item({"Item": data["Item"]}, data["table"])
    elif isinstance(data, dict) and set(data) == {"queue", "Body"}:
        if data["queue"] not in QUEUES or not isinstance(data["Body"], str):
            raise BadExport("a queue line needs queue main or dlq and a string Body")
    else:
        raise BadExport("neither a table item nor a queue message")
