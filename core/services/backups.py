"""Backups as DynamoDB JSON lines: export every table (or one topic) and import it back.

`write_export`, `ExportDir`, `load_export` (the spreadsheet export is csv_export.py):
a directory holding one `<table>.jsonl` per table in aws/tables.py's TABLES and
a `manifest.json`. Each line is `{"Item": {...}}` with DynamoDB's typed
attribute values: the DYNAMODB_JSON item format of DynamoDB's own export to
S3, so `jq`, pandas or a DynamoDB import can read the files. The manifest
(item counts, SHA-256 per file) is written last: a directory without one is
an unfinished export, and a file that changed or lost lines is refused
before anything is written.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path

from core.aws.backend import Backend
from core.aws.tables import TABLES, Tables
from core.rules.clock import utc_now

MANIFEST = "manifest.json"
FORMAT = "DYNAMODB_JSON"
VERSION = 1


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
    for name, kind in Tables.key_attributes(base).items():
        if kind not in item.get(name, {}):
            raise BadExport(f"key attribute {name!r} of type {kind} is missing")
    return item


def item_key(item: dict, base: str) -> tuple:
    """The primary key values of a typed item of `base`, for duplicate checks."""
    names = Tables.key_attributes(base)
    return tuple(json.dumps(_value_to_json(item[name]), sort_keys=True) for name in names)


def _to_json(item: dict) -> dict:
    return {name: _value_to_json(value) for name, value in item.items()}


def _value_to_json(value: dict) -> dict:
    ((kind, inner),) = value.items()
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
    ((kind, inner),) = value.items()
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


def write_export(backend: Backend, directory: Path, topic_id: str | None = None) -> dict:
    """Write every table (or one topic's items) to `directory`; returns the manifest.

    The directory is created if missing and must be empty. Each table file is
    streamed from a paginated Scan; manifest.json is written last, atomically.
    """
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise BadExport(f"{directory} is not empty: export into a new directory")
    if topic_id is not None and backend.store.get_topic(topic_id) is None:
        raise BadExport(f"no topic with id {topic_id!r}")
    tables = {}
    for base in TABLES:
        path = directory / f"{base}.jsonl"
        digest, count = hashlib.sha256(), 0
        with open(path, "wb") as out:
            for item in backend.tables.scan_items(base, topic_id):
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


def load_export(tables: Tables, export: ExportDir, merge: bool = False, sleep=time.sleep) -> dict:
    """Verify `export`, then write it into the store's tables; returns items written per table.

    Without `merge`, refuses unless every table of the export is empty, and
    writes nothing. With `merge`, an item replaces the stored one with its key.
    """
    export.verify()
    if not merge:
        busy = [tables.names.of(base) for base in export.tables if not tables.is_empty(base)]
        if busy:
            raise BadExport(
                f"tables already hold items: {', '.join(busy)}. Import into empty tables, "
                "or pass --merge to write over items with the same key"
            )
    return {base: tables.put_items(base, export.items(base), sleep=sleep) for base in export.tables}


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
