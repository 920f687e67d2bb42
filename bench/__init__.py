"""Benchmark scripts for the payments SQL API and runner (see docs/BENCHMARKS.md).

Run them all with ``bench/run`` (``bench/run --help``). Each module with a
``main`` is one benchmark script that prints its figures and their ratio
against a baseline measured in the same run on the same PostgreSQL.
"""
