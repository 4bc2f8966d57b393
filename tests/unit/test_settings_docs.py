"""The docs' settings tables agree with core/settings.py: every variable documented,
every documented default the model's (README.md "Configuration", docs/operations.md)."""

from __future__ import annotations

import re

import pytest

from core.settings import described
from tests.helpers.stacks import ROOT

DOCS = ("README.md", "docs/operations.md")
# Defaults the docs state as what they do rather than as a value.
IN_WORDS = {"SECRET_KEY": "derived from `API_KEY`"}


def settings_rows(text: str) -> list[tuple[list[str], str]]:
    """(variables, default cell) of each row of every `| Variable | Default | ...` table."""
    rows, in_table = [], False
    for line in text.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if not line.startswith("|"):
            in_table = False
        elif cells[:2] == ["Variable", "Default"]:
            in_table = True
        elif in_table and not set(cells[0]) <= {"-", " "}:
            rows.append((re.findall(r"`([A-Z0-9_]+)`", cells[0]), cells[1]))
    return rows


def shown(cell_item: str) -> str:
    """A documented default as the model shows it: `8000` (words) -> 8000."""
    item = re.sub(r"\s*\(.*\)$", "", cell_item).strip()
    return item[1:-1] if item.startswith("`") and item.endswith("`") else item


def mismatches(text: str) -> list[str]:
    """Each documented default that is not the model's, as `NAME: docs X, model Y`."""
    defaults = {item.names[0]: item.default for item in described()}
    found = []
    for variables, cell in settings_rows(text):
        items = [part for part in cell.split(", ")]
        if len(items) == 1:
            items = items * len(variables)
        for variable, item in zip(variables, items, strict=False):
            if variable not in defaults:
                continue  # not ours (AWS_ACCESS_KEY_ID, HOST, ...)
            documented = IN_WORDS.get(variable) if item == IN_WORDS.get(variable) else shown(item)
            expected = IN_WORDS.get(variable, defaults[variable])
            if documented != expected:
                found.append(f"{variable}: docs {item}, model {defaults[variable]}")
    return found


def documented() -> set[str]:
    return {
        variable
        for doc in DOCS
        for variables, _ in settings_rows((ROOT / doc).read_text())
        for variable in variables
    }


@pytest.mark.parametrize("doc", DOCS)
def test_every_documented_default_is_the_models(doc):
    text = (ROOT / doc).read_text()
    assert settings_rows(text), f"{doc} has a | Variable | Default | table"
    assert mismatches(text) == []


def test_every_setting_is_documented():
    assert sorted({item.names[0] for item in described()} - documented()) == []


def test_the_check_catches_a_wrong_default_and_reads_paired_cells():
    table = (
        "| Variable | Default | Meaning |\n| --- | --- | --- |\n"
        "| `PORT` | 8001 | x |\n"
        "| `VISIBILITY_TIMEOUT`, `MAX_RECEIVE_COUNT` | `30`, `6` | x |\n"
        "| `DYNAMODB_ENDPOINT_URL`, `AWS_SQS_ENDPOINT_URL` | unset (real AWS) | x |\n"
        "| `EMBED_ORIGINS` | `*` (any site) | x |\n"
        "| `TABLE_PREFIX` | `voting-` | x |\n"
    )
    assert mismatches(table) == [
        "PORT: docs 8001, model 8000",
        "MAX_RECEIVE_COUNT: docs `6`, model 5",
        "TABLE_PREFIX: docs `voting-`, model empty",
    ]
