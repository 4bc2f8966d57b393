"""bench/ scripts that stand in for the store run against today's store and export code.

bench/export_memory.py replaces Store.get_counts with a stub; twice a change of
that method's signature broke the benchmark only when `make bench` ran it.
"""

from __future__ import annotations

from bench.export_memory import isolated_csv


def test_export_memory_builds_its_csv_from_the_stubbed_store():
    for naive in (False, True):
        assert 0 < isolated_csv(100, naive=naive) < isolated_csv(200, naive=naive)
