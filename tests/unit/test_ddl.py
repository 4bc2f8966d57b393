"""ddl/*.json is valid `aws dynamodb create-table --cli-input-json` input, one file per table.

Creating the tables from them on the moto server: tests/integration/test_ddl.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import botocore.session
import pytest
from botocore.validate import ParamValidator

from core.aws.tables import DDL_DIR, TABLES

DDL_FILES = sorted(Path(DDL_DIR).glob("*.json"))


def validation_errors(params: dict) -> str:
    model = botocore.session.get_session().get_service_model("dynamodb")
    report = ParamValidator().validate(params, model.operation_model("CreateTable").input_shape)
    return report.generate_report() if report.has_errors() else ""


@pytest.mark.parametrize("path", DDL_FILES, ids=lambda p: p.name)
def test_ddl_file_is_valid_create_table_input(path):
    spec = json.loads(path.read_text())
    assert spec["TableName"] == path.stem
    assert validation_errors(spec) == ""
    # Every attribute defined is used by a key (DynamoDB refuses unused ones).
    keys = {k["AttributeName"] for k in spec["KeySchema"]}
    for index in spec.get("GlobalSecondaryIndexes", []):
        keys |= {k["AttributeName"] for k in index["KeySchema"]}
    assert {a["AttributeName"] for a in spec["AttributeDefinitions"]} == keys


def test_validator_catches_a_broken_spec():
    spec = json.loads((Path(DDL_DIR) / "votes.json").read_text())
    spec["KeySchema"][0]["KeyType"] = 7
    del spec["TableName"]
    assert "TableName" in validation_errors(spec)


def test_every_store_table_has_a_ddl_file():
    assert {p.stem for p in DDL_FILES} == set(TABLES)
