"""Export formats, streamed: CSV for spreadsheets, DynamoDB JSON lines for backups.

CSV (`csv_chunks`): a header, then per topic its results, one `result` row per
choice and a `total` row (the numbers GET /topics/{id}?include_votes answers),
then one `vote` row per vote record, oldest first. Every row has the same
columns (HEADER), so `csv.DictReader` and spreadsheet filters work on the
whole file. Votes are read from DynamoDB a page at a time and written out
every CHUNK_ROWS rows: memory stays flat whatever the number of votes.

JSON lines (`write_export`, `ExportDir`, `load_export`): a directory holding
one `<table>.jsonl` per table in store.TABLES and a `manifest.json`. Each line
is `{"Item": {...}}` with DynamoDB's typed attribute values: the DYNAMODB_JSON
item format of DynamoDB's own export to S3, so `jq`, pandas or a DynamoDB
import can read the files. The manifest (item counts, SHA-256 per file) is
written last: a directory without one is an unfinished export, and a file that
changed or lost lines is refused before anything is written.
"""

from __future__ import annotations

import base64
import binascii
import csv
import hashlib
import io
import json
import os
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .models import topic_json, utc_now
from .store import TABLES, Store

HEADER = (
    "row", "topic_id", "topic", "choice_id", "choice",
    "vote_id", "created", "status", "reason", "vote_count", "percent",
)  # fmt: skip
CHUNK_ROWS = 500
# What a vote row shows: read only these from DynamoDB.
VOTE_FIELDS = ("id", "choice_id", "created", "status", "reason")
# Excel reads a CSV as UTF-8 only when it starts with a byte order mark;
# Python reads it with encoding="utf-8-sig", LibreOffice and pandas skip it.
BOM = "\ufeff"
# Spreadsheets run a cell starting with one of these as a formula; titles and
# choice descriptions are typed by people, so such cells get a leading quote
# (OWASP's advice against CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

MANIFEST = "manifest.json"
FORMAT = "DYNAMODB_JSON"
VERSION = 1


# -- CSV ------------------------------------------------------------------------


def csv_chunks(store: Store, topics: list[dict], bom: bool = True):
    """The CSV export of `topics` as text chunks: header, then per topic results and votes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if bom:
        buffer.write(BOM)
    writer.writerow(HEADER)
    for topic in topics:
        topic_id, title = topic["id"], _cell(topic["title"])
        results = topic_json(topic, store.get_counts(topic_id))
        for choice in results["choices"]:
            writer.writerow(
                ("result", topic_id, title, choice["id"], _cell(choice["description"]),
                 "", "", "", "", choice["vote_count"], choice["votes"])
            )  # fmt: skip
        writer.writerow(
            ("total", topic_id, title, "", "", "", "", "", "", results["total_votes"], "")
        )
        # A vote for a choice removed since keeps its choice_id; its description is gone.
        descriptions = {c["id"]: _cell(c["description"]) for c in topic["choices"]}
        for n, vote in enumerate(store.topic_votes(topic_id, VOTE_FIELDS), start=1):
            writer.writerow(
                ("vote", topic_id, title, vote["choice_id"],
                 descriptions.get(vote["choice_id"], ""), vote["id"], vote["created"],
                 vote["status"], vote.get("reason", ""), "", "")
            )  # fmt: skip
            if n % CHUNK_ROWS == 0:
                yield _drain(buffer)
    yield _drain(buffer)


def csv_filename(topic: dict | None) -> str:
    """A download name: the title's ASCII letters and digits, then part of the id."""
    if topic is None:
        return "voting-game-export.csv"
    words = "".join(c.lower() if c.isascii() and c.isalnum() else " " for c in topic["title"])
    slug = "-".join(words.split())[:40].strip("-") or "topic"
    return f"{slug}-{topic['id'][:8]}.csv"


def _cell(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


# -- DynamoDB JSON: one item per line ---------------------------------------------

_SCALAR_TYPES = {"S", "N", "B", "BOOL", "NULL"}
_SET_TYPES = {"SS", "NS", "BS"}
_ALL_TYPES = _SCALAR_TYPES | _SET_TYPES | {"L", "M"}


def item_line(item: dict) -> str:
    """A typed item (as boto3's client returns it) as one `{"Item": ...}` JSON line."""
    return json.dumps({"Item": _to_json(item)}, ensure_ascii=False, separators=(",", ":")) + "\n"


def parse_item(data, base: str) -> dict:
    """A decoded `{"Item": ...}` object back to a typed item boto3 can write into `base`.

    Raises BadExport when it is not one: wrong shape, an attribute value that
    is not DynamoDB JSON, or a key attribute of `base` missing or mistyped.
    """
    if not isinstance(data, dict) or set(data) != {"Item"} or not isinstance(data["Item"], dict):
        raise BadExport('expected an object {"Item": {...}}')
    item = {}
    for name, value in data["Item"].items():
        item[name] = _from_json(value, name)
    for name, kind in Store.key_attributes(base).items():
        if kind not in item.get(name, {}):
            raise BadExport(f"key attribute {name!r} of type {kind} is missing")
    return item


def item_key(item: dict, base: str) -> tuple:
    """The primary key values of a typed item of `base`, for duplicate checks."""
    names = Store.key_attributes(base)
    return tuple(json.dumps(_value_to_json(item[name]), sort_keys=True) for name in names)


def _to_json(item: dict) -> dict:
    return {name: _value_to_json(value) for name, value in item.items()}


def _value_to_json(value: dict) -> dict:
    (kind, inner), = value.items()
    if kind == "B":
        return {"B": base64.b64encode(inner).decode()}
    if kind == "BS":
        return {"BS": [base64.b64encode(b).decode() for b in inner]}
    if kind == "L":
        return {"L": [_value_to_json(v) for v in inner]}
    if kind == "M":
        return {"M": _to_json(inner)}
    return {kind: inner}


def _from_json(value, where: str) -> dict:
    if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in _ALL_TYPES:
        raise BadExport(f"attribute {where!r} is not a DynamoDB JSON value")
    (kind, inner), = value.items()
    ok = {
        "S": lambda: isinstance(inner, str),
        "N": lambda: _is_number(inner),
        "B": lambda: _is_base64(inner),
        "BOOL": lambda: isinstance(inner, bool),
        "NULL": lambda: inner is True,
        "SS": lambda: _is_set(inner, lambda v: isinstance(v, str)),
        "NS": lambda: _is_set(inner, _is_number),
        "BS": lambda: _is_set(inner, _is_base64),
        "L": lambda: isinstance(inner, list),
        "M": lambda: isinstance(inner, dict),
    }[kind]()
    if not ok:
        raise BadExport(f"attribute {where!r} has a bad {kind} value")
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(v) for v in inner]}
    if kind == "L":
        return {"L": [_from_json(v, f"{where}[{i}]") for i, v in enumerate(inner)]}
    if kind == "M":
        return {"M": {k: _from_json(v, f"{where}.{k}") for k, v in inner.items()}}
    return {kind: inner}


def _is_number(value) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return Decimal(value).is_finite()
    except InvalidOperation:
        return False


def _is_base64(value) -> bool:
    if not isinstance(value, str):
        return False
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return True


def _is_set(values, check) -> bool:
    return isinstance(values, list) and bool(values) and all(check(v) for v in values)


# -- export directories -------------------------------------------------------------


def write_export(store: Store, directory: Path, topic_id: str | None = None) -> dict:
    """Write every table (or one topic's items) to `directory`; returns the manifest.

    The directory is created if missing and must be empty. Each table file is
    streamed from a paginated Scan; manifest.json is written last, atomically.
    """
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise BadExport(f"{directory} is not empty: export into a new directory")
    if topic_id is not None and store.get_topic(topic_id) is None:
        raise BadExport(f"no topic with id {topic_id!r}")
    tables = {}
    for base in TABLES:
        path = directory / f"{base}.jsonl"
        digest, count = hashlib.sha256(), 0
        with open(path, "wb") as out:
            for item in store.scan_items(base, topic_id):
                line = item_line(item).encode()
                out.write(line)
                digest.update(line)
                count += 1
        tables[base] = {"file": path.name, "itemCount": count, "sha256": digest.hexdigest()}
    manifest = {
        "format": FORMAT,
        "version": VERSION,
        "exportedAt": utc_now(),
        "topicId": topic_id,
        "tables": tables,
    }
    replace_atomically(directory / MANIFEST, json.dumps(manifest, indent=2).encode() + b"\n")
    return manifest


class ExportDir:
    """A jsonl export directory as `write_export` left it; `verify()` before reading items."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        try:
            manifest = json.loads((self.directory / MANIFEST).read_text())
        except FileNotFoundError as exc:
            raise BadExport(
                f"{self.directory} has no {MANIFEST}: not an export, or the export did not finish"
            ) from exc
        except (OSError, ValueError) as exc:
            raise BadExport(f"{self.directory / MANIFEST} is unreadable: {exc}") from exc
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise BadExport(f"{self.directory / MANIFEST} does not describe a {FORMAT} export")
        if manifest.get("version") != VERSION:
            version = manifest.get("version")
            raise BadExport(f"export version {version!r}; this code reads version {VERSION}")
        tables = manifest.get("tables")
        if not isinstance(tables, dict):
            raise BadExport(f"{self.directory / MANIFEST} lists no tables")
        unknown = sorted(set(tables) - set(TABLES))
        if unknown:
            raise BadExport(f"the export has tables this version does not know: {unknown}")
        self.manifest = manifest
        # Known tables in the store's order: topics before the records that name them.
        self.tables = [base for base in TABLES if base in tables]

    def _path(self, base: str) -> Path:
        name = self.manifest["tables"][base].get("file", "")
        path = self.directory / name
        if not name or path.parent != self.directory:
            raise BadExport(f"manifest names a bad file for table {base}: {name!r}")
        return path

    def verify(self) -> dict[str, int]:
        """Read every file once: valid items, no duplicate keys, counts and checksums as listed.

        Returns the item count per table; raises BadExport naming the file and line.
        """
        counts = {}
        for base in self.tables:
            entry, path = self.manifest["tables"][base], self._path(base)
            digest, seen = hashlib.sha256(), set()
            for number, raw in _lines(path):
                digest.update(raw)
                item = _parse_line(raw, base, path, number)
                key = item_key(item, base)
                if key in seen:
                    raise BadExport(f"{path}:{number}: a second item with the same key")
                seen.add(key)
            if len(seen) != entry.get("itemCount") or digest.hexdigest() != entry.get("sha256"):
                raise BadExport(
                    f"{path} holds {len(seen)} items but the manifest lists "
                    f"{entry.get('itemCount')} (or its checksum differs): truncated or edited"
                )
            counts[base] = len(seen)
        return counts

    def items(self, base: str):
        """The typed items of table `base`, streamed from its file."""
        path = self._path(base)
        for number, raw in _lines(path):
            yield _parse_line(raw, base, path, number)


def load_export(store: Store, export: ExportDir, merge: bool = False, sleep=time.sleep) -> dict:
    """Verify `export`, then write it into the store's tables; returns items written per table.

    Without `merge`, refuses unless every table of the export is empty, and
    writes nothing. With `merge`, an item replaces the stored one with its key.
    """
    export.verify()
    if not merge:
        busy = [store.table_name(base) for base in export.tables if not store.is_empty(base)]
        if busy:
            raise BadExport(
                f"tables already hold items: {', '.join(busy)}. Import into empty tables, "
                "or pass --merge to write over items with the same key"
            )
    return {base: store.put_items(base, export.items(base), sleep=sleep) for base in export.tables}


def _lines(path: Path):
    try:
        with open(path, "rb") as source:
            yield from enumerate(source, start=1)
    except OSError as exc:
        raise BadExport(f"{path} is unreadable: {exc}") from exc


def _parse_line(raw: bytes, base: str, path: Path, number: int) -> dict:
    try:
        return parse_item(json.loads(raw), base)
    except (ValueError, RecursionError) as exc:
        raise BadExport(f"{path}:{number}: not a DynamoDB JSON item ({exc})") from exc


def replace_atomically(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, fsync, rename over it: all or nothing."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, path)


class BadExport(ValueError):
    """An export that cannot be written or read: the message says which file and why."""
