"""The store creates its tables from ddl/*.json, idempotently, on the moto server.

That the files are valid create-table input: tests/unit/test_ddl.py.
"""

from __future__ import annotations


def test_create_tables_is_idempotent(aws_env, voting):
    # aws_env created them already: a second run creates nothing and fails nothing.
    assert voting.tables.create() == []
    voting.tables.check()
