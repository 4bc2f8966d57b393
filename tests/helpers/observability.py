"""Reading what the processes report: Prometheus metrics and JSON log lines."""

from __future__ import annotations

import json
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted label items): value} from a Prometheus text exposition."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(text: str, name: str, **labels) -> float | None:
    return samples(text).get((name, tuple(sorted(labels.items()))))


def scrape(url: str) -> str:
    """GET a /metrics URL on a new connection (so any server process may answer)."""
    answer = requests.get(url, timeout=10, headers={"Connection": "close"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/plain")
    return answer.text


def json_lines(path: Path | str) -> list[dict]:
    """Every non-empty line of a log file, parsed; fails on a line that is not JSON."""
    entries = []
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError as exc:
            raise AssertionError(f"{path}:{number} is not a JSON log line: {line!r}") from exc
        assert isinstance(entry, dict), line
        entries.append(entry)
    return entries
