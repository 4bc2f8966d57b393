"""Benchmarks: each script prints a table and a last line of name=value figures.

Run them all with `make bench` (bench/run_all.py), which writes
docs/benchmarks.md and its plots. Every figure is a ratio against a baseline
measured in the same run, or a count that does not depend on speed: the
machine is shared and noisy. Load goes only to 127.0.0.1, bounded in count
and time.
"""
